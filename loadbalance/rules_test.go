package loadbalance

import (
	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// rules are one test contact's rules: exclusion periods and a frequency
// limit of maxPer emails in any period days (maxPer 0: no limit).
type rules struct {
	excl           []datecalc.Interval
	maxPer, period int
}

// legalFor returns the LegalFunc a scheduler would pass: day is legal for
// item i when it lies in no exclusion period of the contact and the
// contact's pre-scheduled emails, with i on day and the others on their
// current dates, respect the frequency limit in every window holding day.
func legalFor(items []Item, rs map[int64]rules) LegalFunc {
	byContact := map[int64][]int{}
	for i, it := range items {
		if it.Status == emailsched.StatusPreScheduled {
			byContact[it.ContactID] = append(byContact[it.ContactID], i)
		}
	}
	return func(i int, day datecalc.Date, dates []datecalc.Date) bool {
		r := rs[items[i].ContactID]
		for _, iv := range r.excl {
			if iv.Contains(day) {
				return false
			}
		}
		if r.maxPer == 0 {
			return true
		}
		for s := day.AddDays(1 - r.period); !s.After(day); s = s.AddDays(1) {
			w := datecalc.Interval{Start: s, End: s.AddDays(r.period - 1)}
			n := 1
			for _, j := range byContact[items[i].ContactID] {
				if j != i && w.Contains(dates[j]) {
					n++
				}
			}
			if n > r.maxPer {
				return false
			}
		}
		return true
	}
}

// freqOK reports whether every contact's pre-scheduled emails at dates
// respect its frequency limit.
func freqOK(items []Item, dates []datecalc.Date, rs map[int64]rules) bool {
	for i, it := range items {
		if it.Status != emailsched.StatusPreScheduled {
			continue
		}
		r := rs[it.ContactID]
		if r.maxPer == 0 {
			continue
		}
		// Window starting on this email's day.
		w := datecalc.Interval{Start: dates[i], End: dates[i].AddDays(r.period - 1)}
		n := 0
		for j, o := range items {
			if o.ContactID == it.ContactID && o.Status == emailsched.StatusPreScheduled && w.Contains(dates[j]) {
				n++
			}
		}
		if n > r.maxPer {
			return false
		}
	}
	return true
}
