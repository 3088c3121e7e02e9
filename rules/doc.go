// Package rules is the model of exclusion rules: per US state, no
// exclusion, a year-round ban on marketing email, or windows around
// the anniversaries of a contact's dates, each preceded by a pre-window
// buffer. A [Set] holds the rule of every state; [Set.Apply] evaluates it
// for one contact and run date, and the [Applied] it returns says, for any
// day, whether it is excluded, by which window, for which period and with
// which skip reason. [Default] is the default rule set built in Go; package
// dsl reads the same model from .rules files. [ResolveState] and
// [StateFromZIP] give a contact's state.
//
// # Exclusion windows
//
// Some states forbid marketing email around a contact's birthday or policy
// anniversary. The default rules ([Default], and the embedded
// default.rules of package dsl, which is the same set) are:
//
//	state           anchor          days before  days after  note
//	CA              birthday        30           60
//	ID              birthday        0            63
//	KY              birthday        0            60
//	MD              birthday        0            30
//	NV              birthday        0            60          anchored on the 1st of the birth month
//	OK              birthday        0            60
//	OR              birthday        0            31
//	VA              birthday        0            30
//	MO              effective date  30           33
//	CT, MA, NY, WA  year-round                               no marketing email at all
//	all others      none
//
// For an anniversary A of the anchor date, the statutory window is
// [A − before, A + after], both ends included. Every window is extended
// backwards by the pre-window buffer (60 days by default; a rules file sets
// it with pre_window_buffer, and one window may set its own), so that a
// policy bought because of an email cannot start inside the statutory
// window: the exclusion period is [A − before − buffer, A + after]. A day D
// is excluded when it lies in the period of the anniversary of D's year, of
// the year before or of the year after, so that windows that cross New Year
// work both ways. An anniversary on Feb 29 falls on Feb 28 in other years.
//
// Worked values with the default rules (the package's example checks them):
//
//	CA, birthday Dec 1                  excluded 2024-09-02 … 2025-01-30
//	CA, birthday Jan 15                 excluded 2024-10-17 … 2025-03-16
//	MO, effective date Jan 1            excluded 2024-10-03 … 2025-02-03
//	NV, birthday Mar 15 (anchor Mar 1)  excluded 2024-12-31 … 2025-04-30
//
// What the scheduler does with them: every anniversary email (birthday,
// effective date, AEP, post-window) and every follow-up respects the
// windows; a campaign respects them when its type says so (regulatory
// notices such as rate increases do not, and go out even in year-round
// states). An email on an excluded day is written "skipped" with a reason
// that names the rule, such as "exclusion_window:CA:birthday". In a
// year-round state the emails are written "skipped" with "year_round:NY",
// so that the audit shows why nothing was sent. When a rule anchors on a
// date the contact lacks or that cannot be read (a CA contact without a
// birthday), whether a day is excluded cannot be known: every email that
// windows apply to is skipped with "missing_anchor:CA:birthday" (the
// reason names the state and the missing date), and the others go out.
// After a window (not a year-round rule) blocked at least one email, the
// contact gets one "post_window" email on the first day after the window
// that no window excludes.
//
// Rules may depend on the contact (a conditional rule such as "76 and
// older: year-round"), which is why package dsl reads them as expressions
// rather than as a table.
//
// # Anchors
//
// A window is anchored on a contact date: its [Anchor]. An anchor is
// declared once, by an [AnchorSpec]: its name (the word of rules files and
// skip reasons), the contact field that holds it, the FieldIssue field that
// makes it unreadable, and whether a date after the run date is invalid
// data. Everything that concerns anchors derives from that declaration:
// how Apply reads the date ([Anchor.Read]: a missing, unreadable or, for
// the birthday, future date counts as missing), the skip reasons
// ("exclusion_window:CA:birthday", "missing_anchor:CA:birthday"), the
// windows' text ("birthday_window(30, 60)") and, in package dsl, the
// functions and fields of the rules language.
//
// Two anchors are built in and known to every set, [AnchorBirthday] and
// [AnchorEffectiveDate]. A set may add others ([Options].Anchors, declared
// with [NewAnchor]), up to [MaxAnchors] in all, so that Apply keeps the
// anchors' dates in a fixed array and does not allocate. A set refuses
// windows on an anchor it does not know.
//
// Rule functions ([RuleFunc]) read a contact through the same readers
// ([Input.Anchor], [Input.Age]), so that a conditional rule sees the dates
// that the windows use.
package rules
