package scheduler

import (
	"cmp"
	"slices"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// applyFrequency enforces the frequency limit (SPEC §7): at most
// MaxEmailsPerPeriod emails in any FrequencyPeriodDays consecutive days,
// counting the history's committed emails. The emails are admitted most
// important first (lowest priority number; ties: earlier date, then type
// name, instance and event), and one that would break the limit is skipped
// with reason frequency_limit — so the least important go first. Follow-ups
// neither count nor are ever skipped by it.
func (p *planner) applyFrequency(c *emailsched.Contact, o *outcome) {
	if p.s.freqMax == 0 {
		return // disabled
	}
	p.days = p.days[:0]
	from := p.today.AddDays(-p.s.freqPeriod + 1)
	for i := range c.History {
		h := &c.History[i]
		if h.Status.Committed() && !h.Type.IsFollowUp() {
			if day := sentDay(h); !day.Before(from) {
				p.days = append(p.days, day)
			}
		}
	}
	p.order = p.order[:0]
	for i := range o.emails {
		if o.emails[i].Status == emailsched.StatusPreScheduled && o.info[i].kind != kindFollowUp {
			p.order = append(p.order, i)
		}
	}
	slices.SortFunc(p.order, func(a, b int) int {
		x, y := &o.emails[a], &o.emails[b]
		return cmp.Or(cmp.Compare(x.Priority, y.Priority), x.Date.Compare(y.Date), cmp.Compare(x.Type, y.Type),
			cmp.Compare(x.CampaignInstanceID, y.CampaignInstanceID), x.Event.Compare(y.Event))
	})
	for _, i := range p.order {
		e := &o.emails[i]
		if fitsFrequency(p.days, e.Date, p.s.freqMax, p.s.freqPeriod) {
			p.days = append(p.days, e.Date)
			continue
		}
		e.Status, e.SkipReason = emailsched.StatusSkipped, emailsched.ReasonFrequencyLimit
		if p.tr != nil {
			o.info[i].notef("skipped: more than %d emails within %d days around %s (more important emails and history come first)", p.s.freqMax, p.s.freqPeriod, e.Date)
		}
	}
}

// fitsFrequency reports whether one more email on day d keeps every window
// of period days that contains d at no more than max emails, given the days
// of the emails already counted. The fullest window containing d starts on d
// or on one of the counted days before it, so only those starts are tried.
func fitsFrequency(days []datecalc.Date, d datecalc.Date, max, period int) bool {
	first := d.AddDays(1 - period)
	if countIn(days, d, period) >= max {
		return false
	}
	for _, s := range days {
		if !s.Before(first) && s.Before(d) && countIn(days, s, period) >= max {
			return false
		}
	}
	return true
}

// countIn counts the days in [start, start+period-1].
func countIn(days []datecalc.Date, start datecalc.Date, period int) int {
	end := start.AddDays(period - 1)
	n := 0
	for _, x := range days {
		if !x.Before(start) && !x.After(end) {
			n++
		}
	}
	return n
}
