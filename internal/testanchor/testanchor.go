// Package testanchor declares an anchor that the library does not know,
// for the tests of packages rules and dsl: a contact's retirement date.
// Contacts have no field for it, so it is kept where a source of its own
// could keep it: in a campaign target marked "retirement", read by the
// accessor the declaration supplies.
package testanchor

import (
	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
)

// Field is the anchor's field (its FieldIssue name).
const Field = "retirement_date"

// Date reads the retirement date of c: the trigger of its campaign target
// marked "retirement", or the zero Date.
func Date(c *emailsched.Contact) datecalc.Date {
	for _, t := range c.Campaigns {
		if t.Status == "retirement" {
			return t.Trigger
		}
	}
	return datecalc.Date{}
}

// Retirement is the anchor.
var Retirement = rules.MustNewAnchor(rules.AnchorSpec{Name: "retirement", Field: Field, Date: Date})

// With returns c with retirement date d, kept where Date reads it.
func With(c *emailsched.Contact, d datecalc.Date) *emailsched.Contact {
	c.Campaigns = append(c.Campaigns, emailsched.CampaignTarget{Status: "retirement", Trigger: d})
	return c
}
