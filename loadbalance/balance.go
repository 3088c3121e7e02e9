package loadbalance

import (
	"cmp"
	"slices"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// NewCandidate returns the candidate for an email of type t for contactID
// with event year eventYear (the anniversary's or trigger's year; 0 when the
// email has no event), planned on date, not to be sent after latest (zero:
// no such bound). Hash is datecalc.StableHash(contactID, t, eventYear).
func NewCandidate(contactID int64, t emailsched.EmailType, eventYear int, date, latest datecalc.Date, priority int) Candidate {
	return Candidate{
		Date:     date,
		Latest:   latest,
		Priority: priority,
		Hash:     datecalc.StableHash(contactID, string(t), eventYear),
		IsED:     t == emailsched.TypeEffectiveDate,
	}
}

// FromEmail returns the candidate of a planned email. Its event bounds it
// (Latest = e.Event) when the email is sent on or before the event, as
// anniversary emails and campaigns sent before their trigger are; emails
// sent after their event (post-window, campaigns with a negative offset) and
// emails without one (follow-ups) get no Latest. It does not look at the
// status: only pre-scheduled emails are candidates.
func FromEmail(e *emailsched.Email) Candidate {
	var latest datecalc.Date
	if !e.Event.IsZero() && !e.Date.After(e.Event) {
		latest = e.Event
	}
	return NewCandidate(e.ContactID, e.Type, e.Event.Year(), e.Date, latest, e.Priority)
}

// Item is one planned email of an in-memory plan, for Balance.
type Item struct {
	ContactID int64
	// Status: only emailsched.StatusPreScheduled items count and move.
	Status emailsched.Status
	Candidate
}

// LegalFunc reports whether item i may be sent on day, given dates, the
// current day of every item (indexed like the items). It judges the
// contact's own rules: exclusion periods and the frequency limit.
type LegalFunc func(i int, day datecalc.Date, dates []datecalc.Date) bool

// Balance balances an in-memory plan on today with cfg: it runs the two
// passes (Counter, NewPlan, Place per contact in ascending id order) and
// returns the new day of every item (indexed like items) and the report.
// Items that are not pre-scheduled keep their day. The result does not
// depend on the order of items: they are grouped by contact and tried in a
// canonical order; items identical in every field are interchangeable. A
// nil legal allows every day. The error names a Config field out of range.
//
// Balance holds the whole plan; streaming callers use Counter and Plan
// directly (see the package documentation).
func Balance(today datecalc.Date, cfg Config, items []Item, legal LegalFunc) ([]datecalc.Date, Report, error) {
	c := NewCounter(today)
	for i := range items {
		if items[i].Status == emailsched.StatusPreScheduled {
			c.Add(items[i].Candidate)
		}
	}
	return balanceFrom(c, cfg, items, legal)
}

// balanceFrom is Balance's second pass, from the per-day volume c (which
// a caller may have estimated rather than counted).
func balanceFrom(c *Counter, cfg Config, items []Item, legal LegalFunc) ([]datecalc.Date, Report, error) {
	dates := make([]datecalc.Date, len(items))
	var order []int
	for i := range items {
		dates[i] = items[i].Date
		if items[i].Status == emailsched.StatusPreScheduled {
			order = append(order, i)
		}
	}
	p, err := NewPlan(c, cfg)
	if err != nil {
		return nil, Report{}, err
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Compare(items[a].ContactID, items[b].ContactID)
	})
	var cs []Candidate
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && items[order[end]].ContactID == items[order[start]].ContactID {
			end++
		}
		group := order[start:end]
		cs = cs[:0]
		for _, i := range group {
			cs = append(cs, items[i].Candidate)
		}
		var lf func(int, datecalc.Date) bool
		if legal != nil {
			lf = func(k int, day datecalc.Date) bool {
				for g, i := range group {
					dates[i] = cs[g].Date
				}
				return legal(group[k], day, dates)
			}
		}
		// The ids are strictly ascending by construction.
		_, _ = p.Place(items[group[0]].ContactID, cs, lf)
		for g, i := range group {
			dates[i] = cs[g].Date
		}
		start = end
	}
	return dates, p.Report(), nil
}
