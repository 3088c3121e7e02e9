package scheduler

import (
	"cmp"
	"slices"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// applyFrequency enforces the frequency limit: at most
// MaxEmailsPerPeriod emails in any FrequencyPeriodDays consecutive days,
// counting the history's committed emails. The emails are admitted most
// important first (lowest priority number; ties: earlier date, then type
// name, instance and event), and one that would break the limit is skipped
// with reason frequency_limit — so the least important go first. Follow-ups
// neither count nor are ever skipped by it.
func (p *planner) applyFrequency(o *outcome) {
	if p.s.freqMax == 0 {
		return // disabled
	}
	p.days = p.days[:0]
	for i := range p.hist {
		if h := &p.hist[i]; !h.day.Before(p.freqFrom) && !h.e.Type.IsFollowUp() {
			p.days = append(p.days, h.day)
		}
	}
	// Usually the history and all the emails together keep the limit: then
	// admitting them one by one, in any order, never breaks it (each check
	// sees a subset of them), and nothing needs ordering or checking.
	all := append(p.all[:0], p.days...)
	for i := range o.emails {
		if o.info[i].kind != kindFollowUp && o.emails[i].Status == emailsched.StatusPreScheduled {
			all = append(all, o.emails[i].Date)
		}
	}
	p.all = all
	if keepsLimit(all, p.s.freqMax, p.s.freqPeriod) {
		return
	}
	p.order = p.order[:0]
	for i := range o.emails {
		if o.info[i].kind != kindFollowUp && o.emails[i].Status == emailsched.StatusPreScheduled {
			p.order = append(p.order, i)
		}
	}
	slices.SortFunc(p.order, func(a, b int) int { return admitOrder(&o.emails[a], &o.emails[b], o.emails[a].Date, o.emails[b].Date) })
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

// admitOrder orders the emails x and y, on days dx and dy, as the
// frequency limit admits them: most important first (lowest priority
// number), then the earlier day, the type name, the instance and the event.
func admitOrder(x, y *emailsched.Email, dx, dy datecalc.Date) int {
	return cmp.Or(cmp.Compare(x.Priority, y.Priority), dx.Compare(dy), cmp.Compare(x.Type, y.Type),
		cmp.Compare(x.CampaignInstanceID, y.CampaignInstanceID), x.Event.Compare(y.Event))
}

// keepsLimit reports whether no period consecutive days hold more than max
// of days. It sorts days.
func keepsLimit(days []datecalc.Date, max, period int) bool {
	if len(days) <= max {
		return true
	}
	// An insertion sort suits a handful of days. Sorted, they break the
	// limit exactly when some max+1 consecutive ones lie within period days.
	for i := 1; i < len(days); i++ {
		for j := i; j > 0 && days[j].Before(days[j-1]); j-- {
			days[j], days[j-1] = days[j-1], days[j]
		}
	}
	for i := 0; i+max < len(days); i++ {
		if days[i].DaysUntil(days[i+max]) < period {
			return false
		}
	}
	return true
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
