// Package dsl reads rules files: the exclusion windows of each state
// written as text, so that compliance staff can change a state's window,
// add a state or add a condition without touching Go code. It compiles
// them into a [rules.Set], the model the scheduler uses.
//
// # A rules file
//
// A rules file reads like a table: one rule per line, states on the left,
// the rule on the right. This is the default rule set
// (testdata/rules/default.rules, embedded as [Default]), followed by two
// conditional rules (testdata/rules/examples has more):
//
//	# Exclusion windows for marketing email, by state of residence.
//	# Days are calendar days; a window includes both ends.
//	pre_window_buffer: 60
//
//	CA:             birthday_window(30, 60)
//	ID:             birthday_window(0, 63)
//	KY:             birthday_window(0, 60)
//	MD:             birthday_window(0, 30)
//	NV:             birthday_window(0, 60).from_month_start()
//	OK:             birthday_window(0, 60)
//	OR:             birthday_window(0, 31)
//	VA:             birthday_window(0, 30)
//	MO:             effective_date_window(30, 33)
//	CT, MA, NY, WA: year_round()          # no marketing email at all
//
//	# Conditions are expressions over the contact:
//	FL:             contact.age >= 76 ? year_round() : no_exclusion()
//	TX:             contact.has_birthday
//	                  ? birthday_window(0, 30)
//	                  : effective_date_window(30, 30)
//
// The syntax, line by line:
//
//   - "#" starts a comment, to the end of the line (except inside a quoted
//     string). Blank lines are ignored.
//   - "STATES: rule" gives the rule of one or more states: two-letter USPS
//     codes in capitals, separated by commas. A state has at most one rule,
//     in all the files of a set; states without one have no exclusion.
//   - "*: rule" gives its rule to every state that has none of its own (nor
//     of the set extended): "*: no_exclusion()" says that the other states
//     have no exclusion.
//   - "setting: value" sets a file-level setting (lower-case name). Files
//     loaded together must agree on each, and a file sets each at most
//     once. The settings:
//   - pre_window_buffer: the days every window starts earlier (0-366,
//     default 60, or the extended set's). It applies to the whole set.
//   - extends: the rule set this one builds on: "default" (the default
//     rules) or the path of a rules file, relative to this file's
//     directory. The set has the extended set's rules for every state it
//     does not give a rule of its own: a file that changes one state is
//     "extends: default" and that state's line. Files may extend one
//     another up to [MaxExtends] deep; a cycle is an error.
//
// A set without any rule (an empty file, comments only, settings only) is
// refused: it would plan every email without any exclusion, which is what
// a file written by mistake, or a wrong path, would do. Write
// "*: no_exclusion()" to mean it, or "extends: default". Programs that
// load rules meant to replace the default ones can check with
// [CheckCoverage] that no state of the default rules was left out by
// mistake; the schedule command and rulescheck do.
//   - A line that begins with a space or a tab continues the statement
//     above it, so a long rule can be spread over several lines.
//
// # Rules
//
// A rule is an expression of the expr language
// (https://expr-lang.org/docs/language-definition) that yields a rule:
//
//	birthday_window(before, after)        from before days before to after days after each birthday
//	effective_date_window(before, after)  the same around each policy effective-date anniversary
//	<anchor>_window(before, after)        the same around another anchor (see Anchors below)
//	year_round()                          no marketing email at all
//	no_exclusion()                        no window
//	w.from_month_start()                  anchor the window on the 1st of the anniversary's month
//	w.buffer(days)                        this window's own pre-window buffer instead of pre_window_buffer
//	w1 + w2                               both windows: a date is excluded when either excludes it
//
// Day counts are 0-366, and a window whose exclusion period (buffer +
// before + the day + after) is longer than 365 days is refused: write
// year_round(). A rule has at most 8 windows.
//
// A condition is "condition ? rule : rule", with the usual operators (and,
// or, not, ==, <, in [...], matches "regexp", +, -, *, ...) over:
//
//	contact.age                 age in whole years on the run date; -1 when the birthday is missing
//	contact.age_on(d)           age in whole years on date d; -1 when the birthday is missing
//	contact.birthday            date (check contact.has_birthday first: a missing date is the earliest)
//	contact.effective_date      date (check contact.has_effective_date first)
//	contact.has_birthday        bool: the birthday is set, readable and not after the run date
//	contact.has_effective_date  bool: the effective date is set and readable
//	contact.state               the resolved state whose rule this is ("CA")
//	contact.zip                 the ZIP code as stored ("89101" or "89101-1234")
//	contact.carrier             the insurance carrier as stored
//	contact.id                  the contact's id
//	today                       the run date (never the clock)
//	date("YYYY-MM-DD")          a date
//	d.year(), d.month(), d.day()  parts of a date (0 for a missing date)
//	d.add_days(n)               the date n days later (earlier when n < 0)
//	d.days_until(e)             days from d to e
//
// Dates compare with dates (<, <=, ==, ...). The builtins abs, len, lower,
// upper, trim, hasPrefix, hasSuffix, min and max are available; the others
// (now, JSON, repeat, predicates such as all or filter) are not.
//
// An expression sees a contact's dates exactly as the rule set's windows
// do: both read them with [rules.Anchor.Read], so a date that is missing,
// unreadable (a FieldIssue) or, for the birthday, after the run date is
// missing for a condition too (has_birthday is false, age is -1), and a
// condition cannot pick a window whose date then turns out to be missing.
//
// # Anchors
//
// The dates windows are anchored on are declared in package rules
// ([rules.AnchorSpec]), and the language follows the declarations: each
// anchor named N has the function N_window(before, after) and the fields
// contact.N and contact.has_N. The built-in anchors are birthday and
// effective_date. A rule set that windows another contact date declares an
// anchor for it with [rules.NewAnchor] and loads its files with
// [Options].Anchors; its skip reasons name the anchor
// ("exclusion_window:CA:N", "missing_anchor:CA:N"). A set has at most
// [rules.MaxAnchors] anchors.
//
// # Errors
//
// The loaders ([Load], [LoadFiles], [LoadFS], [LoadSources]) check
// everything at load time and report every problem at once as
// [Diagnostics]: syntax, unknown names, fields and functions, argument
// types and counts, a rule that yields something else than a rule, unknown
// or repeated state codes, bad day counts and conflicting settings. Each
// [Diagnostic] names the file, line and column (of the file, also for a
// fault inside an expression), says what was expected and shows the line
// with a caret:
//
//	default.rules:12:37: days after must be 0-366 days, found -60
//	   12 | CA:             birthday_window(30, -60)
//	      |                                     ^
//
// A rule that fails at evaluation time is not a load error: see below.
//
// # Safety and speed
//
// A rules file may come from a less trusted author, or be no rules file at
// all. [LoadFiles] and [LoadPath] read only regular files of at most
// [MaxFileSize] bytes (a FIFO or a device is refused before it is read) and
// stop when their context ends. Before expr parses an expression, its size
// ([MaxExprSize]) and nesting depth ([MaxDepth]) are checked, since expr's
// parser recurses without a bound; at most [MaxDiagnostics] problems are
// reported, the last saying how many more there were, and each shows at
// most 100 characters of its line. An expression has no
// side effects, cannot read the clock or the environment (now() and the
// other builtins that could are disabled; today is the injected run date),
// has at most [MaxNodes] nodes and evaluates within a memory budget
// ([MemoryBudget]). A rule that fails for one contact (for instance
// birthday_window(0, contact.age) for a contact without birthday) returns an
// [EvalError] naming the rule's position; the scheduler then skips that
// contact's window-respecting emails with reason "rule_error:STATE" and
// goes on (the contact's explanation names the rule). Panics inside the
// evaluator are recovered into that error.
//
// A rule that does not mention contact or today is evaluated once, at load
// time, and becomes a static rule of the set: applying it costs nothing. A
// conditional rule is compiled once; its literal parts (windows, dates)
// are computed at load time, and each evaluation reuses a virtual machine
// and environment from a pool.
//
// # The default rules
//
// testdata/rules/default.rules is the canonical text of the default set;
// dsl/default.rules is its embedded copy, refreshed by "go generate ./dsl"
// (a test fails when they differ). Another test proves that [Default] and
// the Go-built [rules.Default] answer alike for random contacts and dates
// in every state, and one that random rule tables, with conditions over
// every field, answer alike built in Go and loaded from a rules file.
package dsl
