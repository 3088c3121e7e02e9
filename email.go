package emailsched

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/ident"
)

// EmailType names the kind of an email. Its string is the storage contract
// of the email_type column: "birthday", "effective_date", "aep",
// "post_window", the four follow-up kinds and "campaign_<type>" for every
// campaign type. Obtain one from the constants, from CampaignEmailType or,
// for stored text, from ParseEmailType.
type EmailType string

// The fixed email types.
const (
	TypeBirthday          EmailType = "birthday"
	TypeEffectiveDate     EmailType = "effective_date"
	TypeAEP               EmailType = "aep"
	TypePostWindow        EmailType = "post_window"
	TypeFollowUpCold      EmailType = "followup_1_cold"
	TypeFollowUpClicked   EmailType = "followup_2_clicked_no_hq"
	TypeFollowUpHQNoYes   EmailType = "followup_3_hq_no_yes"
	TypeFollowUpHQWithYes EmailType = "followup_4_hq_with_yes"
)

// campaignPrefix starts every campaign email type.
const campaignPrefix = "campaign_"

// ErrInvalidEmailType is wrapped by the errors of ParseEmailType and
// CampaignEmailType.
var ErrInvalidEmailType = errors.New("emailsched: invalid email type")

// legacyTypes maps the upper-case names written by older systems to the
// current types.
var legacyTypes = map[string]EmailType{
	"BIRTHDAY":                   TypeBirthday,
	"EFFECTIVE_DATE":             TypeEffectiveDate,
	"AEP":                        TypeAEP,
	"POST_WINDOW":                TypePostWindow,
	"POST_WINDOW_BIRTHDAY":       TypePostWindow,
	"POST_WINDOW_EFFECTIVE_DATE": TypePostWindow,
	"SCHEDULED_RATE_INCREASE":    "campaign_rate_increase",
}

// typeFamily groups the fixed types by what plans them.
type typeFamily uint8

const (
	familyAnniversary typeFamily = iota + 1 // once per yearly event, and post_window
	familyFollowUp
)

// fixedTypeList declares every fixed type once, with its family:
// ParseEmailType, IsAnniversary and IsFollowUp read it.
var fixedTypeList = []fixedType{
	{TypeBirthday, familyAnniversary}, {TypeEffectiveDate, familyAnniversary},
	{TypeAEP, familyAnniversary}, {TypePostWindow, familyAnniversary},
	{TypeFollowUpCold, familyFollowUp}, {TypeFollowUpClicked, familyFollowUp},
	{TypeFollowUpHQNoYes, familyFollowUp}, {TypeFollowUpHQWithYes, familyFollowUp},
}

type fixedType struct {
	t      EmailType
	family typeFamily
}

// fixedTypes maps the text of each fixed type to its declaration.
var fixedTypes = func() map[string]fixedType {
	m := make(map[string]fixedType, len(fixedTypeList))
	for _, f := range fixedTypeList {
		m[string(f.t)] = f
	}
	return m
}()

// ParseEmailType reads a stored email_type. It accepts the current
// lower-case types, "campaign_<name>" with a valid name (see
// CampaignEmailType), and the legacy upper-case names of older systems:
// BIRTHDAY, EFFECTIVE_DATE, AEP, POST_WINDOW, POST_WINDOW_BIRTHDAY and
// POST_WINDOW_EFFECTIVE_DATE (all three post_window) and
// SCHEDULED_RATE_INCREASE (campaign_rate_increase). Surrounding spaces are
// ignored. Anything else is an error wrapping ErrInvalidEmailType.
func ParseEmailType(s string) (EmailType, error) {
	s = strings.TrimSpace(s)
	if f, ok := fixedTypes[s]; ok {
		return f.t, nil
	}
	if t, ok := legacyTypes[s]; ok {
		return t, nil
	}
	if name, ok := strings.CutPrefix(s, campaignPrefix); ok {
		if validCampaignName(name) {
			return EmailType(s), nil // the stored text itself: no allocation
		}
		return CampaignEmailType(name)
	}
	return "", fmt.Errorf("%w %q", ErrInvalidEmailType, s)
}

// CampaignEmailType returns "campaign_<name>" for a campaign type name. The
// name must be 1-64 characters of lower-case letters, digits and '_'
// starting with a letter, so that the stored type stays a plain identifier.
func CampaignEmailType(name string) (EmailType, error) {
	if !validCampaignName(name) {
		return "", fmt.Errorf("%w: campaign type name %q must be 1-64 of a-z, 0-9, _ and start with a letter", ErrInvalidEmailType, name)
	}
	return EmailType(campaignPrefix + name), nil
}

func validCampaignName(name string) bool { return ident.Valid(name, 64) }

// IsAnniversary reports whether t is one of the anniversary emails
// (birthday, effective_date, aep, post_window).
func (t EmailType) IsAnniversary() bool { return t.family() == familyAnniversary }

// IsFollowUp reports whether t is one of the four follow-up kinds.
func (t EmailType) IsFollowUp() bool { return t.family() == familyFollowUp }

// family returns the family of a fixed type, 0 for another. Planning asks
// for every email: a scan of the short list costs less than hashing.
func (t EmailType) family() typeFamily {
	for i := range fixedTypeList {
		if fixedTypeList[i].t == t {
			return fixedTypeList[i].family
		}
	}
	return 0
}

// Campaign returns the campaign type name of a campaign email type and true,
// or "" and false for the other types.
func (t EmailType) Campaign() (string, bool) {
	name, ok := strings.CutPrefix(string(t), campaignPrefix)
	if !ok || name == "" {
		return "", false
	}
	return name, true
}

// Describe says in plain words what an email of type t is, for reports
// and command-line output: "follow-up: answered the health questions, no
// condition" for followup_3_hq_no_yes. A campaign type is described by its
// name; a type this package does not know, by itself.
func (t EmailType) Describe() string {
	switch t {
	case TypeBirthday:
		return "before the contact's birthday"
	case TypeEffectiveDate:
		return "before the policy's anniversary"
	case TypeAEP:
		return "Annual Enrollment Period"
	case TypePostWindow:
		return "after an exclusion period ended"
	case TypeFollowUpCold:
		return "follow-up: no engagement"
	case TypeFollowUpClicked:
		return "follow-up: clicked a link"
	case TypeFollowUpHQNoYes:
		return "follow-up: answered the health questions, no condition"
	case TypeFollowUpHQWithYes:
		return "follow-up: answered the health questions, a condition"
	}
	if name, ok := t.Campaign(); ok {
		return "campaign " + strings.ReplaceAll(name, "_", " ")
	}
	return string(t)
}

// Status is the status column of a planned or historical email.
//
// This scheduler writes only StatusPreScheduled and StatusSkipped. The
// sending system owns every other status; rows with those are history and
// are never changed by a run. Statuses are lower-case strings; unknown ones
// read from a store are kept as they are (ParseStatus).
type Status string

// Known statuses.
const (
	StatusPreScheduled Status = "pre-scheduled"
	StatusSkipped      Status = "skipped"
	StatusScheduled    Status = "scheduled"
	StatusProcessing   Status = "processing"
	StatusAccepted     Status = "accepted"
	StatusSent         Status = "sent"
	StatusDelivered    Status = "delivered"
)

// ParseStatus normalises a stored status (trimmed, lower-case). It reports
// false for the empty string.
func ParseStatus(s string) (Status, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	return Status(s), s != ""
}

// IsPlanned reports whether the status is one this scheduler writes
// (pre-scheduled or skipped): such rows form the stored plan that the next
// run replaces.
func (s Status) IsPlanned() bool { return s == StatusPreScheduled || s == StatusSkipped }

// Committed reports whether the sending system has taken the email on
// (scheduled, processing, accepted, sent, delivered). An email with such a
// status is never planned again.
func (s Status) Committed() bool {
	switch s {
	case StatusScheduled, StatusProcessing, StatusAccepted, StatusSent, StatusDelivered:
		return true
	}
	return false
}

// SkipReason says, machine-readably, why an email was written as skipped.
// Reasons are "word" or "word:detail:detail", for example
// "exclusion_window:CA:birthday" or "year_round:NY"; their text is a storage
// contract (the skip_reason column).
type SkipReason string

// Fixed skip reasons.
const (
	ReasonNone             SkipReason = ""
	ReasonCampaignConflict SkipReason = "campaign_conflict"
	ReasonFrequencyLimit   SkipReason = "frequency_limit"
)

// Prefixes of the composed skip reasons.
const (
	ReasonPrefixExclusion     = "exclusion_window"
	ReasonPrefixYearRound     = "year_round"
	ReasonPrefixMissingAnchor = "missing_anchor"
	ReasonPrefixRuleError     = "rule_error"
)

// ExclusionReason is the reason of an email blocked by a state's window:
// "exclusion_window:<state>:<anchor>", anchor being the name of the
// window's anchor ("birthday", "effective_date", or one a rule set
// declares: see package rules).
func ExclusionReason(s State, anchor string) SkipReason {
	return SkipReason(ReasonPrefixExclusion + ":" + s.String() + ":" + anchor)
}

// YearRoundReason is the reason of every email blocked by a year-round
// state: "year_round:<state>".
func YearRoundReason(s State) SkipReason {
	return SkipReason(ReasonPrefixYearRound + ":" + s.String())
}

// MissingAnchorReason is the reason of an email skipped because the
// contact's state has a window anchored on a date the contact lacks (or has
// in an unreadable form): without it the window cannot be known, so no email
// that respects windows may go out. "missing_anchor:<state>:<anchor>".
func MissingAnchorReason(s State, anchor string) SkipReason {
	return SkipReason(ReasonPrefixMissingAnchor + ":" + s.String() + ":" + anchor)
}

// RuleErrorReason is the reason of an email skipped because the rule of the
// contact's state failed to evaluate: "rule_error:<state>". Where the rule
// is written is not part of it (an explanation says), so that moving a rule
// within its file changes no stored row.
func RuleErrorReason(s State) SkipReason {
	return SkipReason(ReasonPrefixRuleError + ":" + s.String())
}

// Describe says in plain words why an email with reason r was skipped,
// for reports and command-line output: "inside CA's exclusion period
// around the birthday" for "exclusion_window:CA:birthday". A reason this
// package does not know is described by itself.
func (r SkipReason) Describe() string {
	parts := strings.Split(string(r), ":")
	words := func(s string) string { return strings.ReplaceAll(s, "_", " ") }
	switch {
	case r == ReasonNone:
		return ""
	case r == ReasonCampaignConflict:
		return "another campaign email with a lower priority number falls on the same day"
	case r == ReasonFrequencyLimit:
		return "more emails in the period than the frequency limit allows"
	case len(parts) == 3 && parts[0] == ReasonPrefixExclusion:
		return "inside " + parts[1] + "'s exclusion period around the " + words(parts[2])
	case len(parts) == 2 && parts[0] == ReasonPrefixYearRound:
		return parts[1] + " allows no marketing email all year"
	case len(parts) == 3 && parts[0] == ReasonPrefixMissingAnchor:
		return parts[1] + "'s rule needs the " + words(parts[2]) + ", which is missing or unreadable"
	case len(parts) == 2 && parts[0] == ReasonPrefixRuleError:
		return parts[1] + "'s rule could not be evaluated for this contact"
	}
	return string(r)
}

// Kind returns the reason's first word ("exclusion_window" for
// "exclusion_window:CA:birthday").
func (r SkipReason) Kind() string {
	k, _, _ := strings.Cut(string(r), ":")
	return k
}

// Email is one row of a plan or of a contact's history: an email of one type
// for one contact on one day.
type Email struct {
	// ID is the store's row id; 0 for a row that is not stored yet.
	ID        int64
	ContactID int64
	Type      EmailType
	// Date is the day it is (to be) sent: scheduled_send_date.
	Date   datecalc.Date
	Status Status
	// SkipReason is set exactly when Status is StatusSkipped.
	SkipReason SkipReason
	// Priority: lower is more important.
	Priority int
	// Event is the anniversary, AEP day or campaign trigger the email is
	// for (event_year/month/day); zero when it has none.
	Event datecalc.Date
	// CampaignInstanceID is the campaign instance of a campaign email or of
	// a follow-up to one; 0 for none.
	CampaignInstanceID int64
	EmailTemplate      string
	SMSTemplate        string
	// CatchUpNote is set on emails whose ideal date had passed and that
	// were moved to a catch-up day.
	CatchUpNote string
	// Metadata is a JSON object with details (follow-ups name their initial
	// email); "" for none.
	Metadata string
	// RunID is the scheduler run that wrote the stored row (read only:
	// the sink sets it on the rows it writes).
	RunID string
	// SentAt is when the sending system sent it (history only); zero when
	// unknown.
	SentAt time.Time
}

// SameContent reports whether e and o would be stored identically: every
// field that a run writes is equal. ID, RunID and SentAt are not compared.
// A sink uses it to leave unchanged rows alone.
func (e *Email) SameContent(o *Email) bool {
	return e.ContactID == o.ContactID && e.Type == o.Type && e.Date == o.Date &&
		e.Status == o.Status && e.SkipReason == o.SkipReason && e.Priority == o.Priority &&
		e.Event == o.Event && e.CampaignInstanceID == o.CampaignInstanceID &&
		e.EmailTemplate == o.EmailTemplate && e.SMSTemplate == o.SMSTemplate &&
		e.CatchUpNote == o.CatchUpNote && e.Metadata == o.Metadata
}
