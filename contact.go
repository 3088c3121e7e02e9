package emailsched

import (
	"fmt"
	"time"

	"github.com/emailsched/emailsched/datecalc"
)

// Contact is one person of an organisation, with everything the planner
// needs to know about them. A ContactSource fills it; the planner only reads
// it.
type Contact struct {
	ID    int64
	Email string
	// ZIP is the postal code as stored (5 digits or ZIP+4); it decides the
	// state when it maps to one.
	ZIP string
	// State is the two-letter state field as stored; used when the ZIP does
	// not map to a state.
	State string
	// Birthday and EffectiveDate are zero when missing or unreadable; an
	// unreadable value is described in Issues.
	Birthday      datecalc.Date
	EffectiveDate datecalc.Date
	// Carrier is the insurance carrier, used by campaign targeting.
	Carrier string
	// DoNotCommunicate is the opt-out flag: such a contact gets no email.
	DoNotCommunicate bool
	// Issues lists fields the source could not read. Each disables only the
	// emails that need the field, and is reported.
	Issues []FieldIssue

	// History holds the contact's emails owned by the sending system (any
	// status but pre-scheduled and skipped), in any order.
	History []Email
	// Stored is the plan the last run wrote for this contact (its
	// pre-scheduled and skipped rows), in any order.
	Stored []Email
	// Engagement holds link clicks and health-question answers, in any
	// order; follow-ups are chosen from it.
	Engagement []Engagement
	// Campaigns lists the campaign instances the contact is enrolled in.
	Campaigns []CampaignTarget

	// Deleted marks a contact that no longer exists while rows of this
	// scheduler's plan for it still do: a source yields it with its ID and
	// Stored rows only, and a run deletes those rows (the contact's
	// history stays, it belongs to the sending system).
	Deleted bool
}

// Reset empties c for reuse, keeping the capacity of its slices, so that a
// source can fill one Contact per row without allocating.
func (c *Contact) Reset() {
	*c = Contact{
		Issues:     c.Issues[:0],
		History:    c.History[:0],
		Stored:     c.Stored[:0],
		Engagement: c.Engagement[:0],
		Campaigns:  c.Campaigns[:0],
	}
}

// Clone returns a copy of c that shares no slice with it: what a caller
// keeps of a contact a source yields (sources reuse one Contact).
func (c *Contact) Clone() Contact {
	var o Contact
	c.CopyTo(&o)
	return o
}

// CopyTo makes dst a copy of c that shares no slice with it, reusing the
// capacity of dst's slices: Clone for a caller that copies many contacts
// into buffers of its own.
func (c *Contact) CopyTo(dst *Contact) {
	issues, history, stored := dst.Issues[:0], dst.History[:0], dst.Stored[:0]
	engagement, campaigns := dst.Engagement[:0], dst.Campaigns[:0]
	*dst = *c
	dst.Issues = append(issues, c.Issues...)
	dst.History = append(history, c.History...)
	dst.Stored = append(stored, c.Stored...)
	dst.Engagement = append(engagement, c.Engagement...)
	dst.Campaigns = append(campaigns, c.Campaigns...)
}

// Field names used in FieldIssue and in reports: the column names of the
// contacts table.
const (
	FieldEmail         = "email"
	FieldZIP           = "zip_code"
	FieldState         = "state"
	FieldBirthday      = "birth_date"
	FieldEffectiveDate = "effective_date"
)

// FieldIssue describes a field of a contact that could not be read.
type FieldIssue struct {
	Field  string // one of the Field constants
	Value  string // the raw value, cut to 64 bytes
	Reason string // what was wrong, e.g. "not a YYYY-MM-DD date"
}

func (f FieldIssue) String() string { return fmt.Sprintf("%s %q: %s", f.Field, f.Value, f.Reason) }

// HasIssue reports whether the field has a recorded issue.
func (c *Contact) HasIssue(field string) bool {
	for i := range c.Issues {
		if c.Issues[i].Field == field {
			return true
		}
	}
	return false
}

// EngagementKind tells what a contact did.
type EngagementKind uint8

const (
	// EngagementClick is a click on a link of an email.
	EngagementClick EngagementKind = iota + 1
	// EngagementHealthAnswer is an answer to the health questions
	// (an eligibility_answered event).
	EngagementHealthAnswer
)

// Engagement is one thing a contact did, used to choose follow-ups.
type Engagement struct {
	Kind EngagementKind
	At   time.Time
	// MedicalConditions is true for a health answer that reports at least
	// one medical condition (has_medical_conditions, or
	// main_questions_yes_count > 0).
	MedicalConditions bool
}

// CampaignTarget enrols a contact in a campaign instance.
type CampaignTarget struct {
	InstanceID int64
	// Trigger is the event the campaign email is timed against.
	Trigger datecalc.Date
	// Status is the target's status as stored (informational).
	Status string
}
