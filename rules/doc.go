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
