package scheduler

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
	"github.com/emailsched/emailsched/store"
)

// LoadOrigin says where load balancing took the run's per-day volume from.
type LoadOrigin string

const (
	// LoadCounted: a counting pass read and planned every contact first.
	LoadCounted LoadOrigin = "counting_pass"
	// LoadStored: the load the previous run recorded with the stored plan
	// (store.LoadSource); the run read its source once.
	LoadStored LoadOrigin = "stored_plan"
	// LoadUnknown: an explanation of one contact, without a stored load:
	// the other contacts' volume is not known, so balancing moves nothing.
	LoadUnknown LoadOrigin = "unknown"
)

// MaxStoredLoadAgeDays bounds the age of a stored load a run starts from.
// Each day a few emails enter the plan (next year's anniversaries,
// follow-ups) and a day's worth leaves it, so an older load drifts from
// what a counting pass would find.
const MaxStoredLoadAgeDays = 7

// loadKey identifies everything that decides the dates and priorities of a
// plan besides the data (PlanIdentity): a stored load made under another
// key is not used.
func (s *settings) loadKey() string {
	h := fnv.New64a()
	fmt.Fprintf(h, "load-v3|%s|%s", s.rules.Checksum(), s.configSum)
	return fmt.Sprintf("%016x", h.Sum64())
}

// estimate is the first pass's counter rebuilt from a stored load, with
// the number of valid contacts and the run date of the plan it describes.
// Its counter is nil when the run must count.
type estimate struct {
	counter  *loadbalance.Counter
	valid    int
	planDate datecalc.Date
}

// storedCounter returns the estimate from the source's stored load, or a
// nil counter when load balancing is off or the source keeps no load that
// fits this run: none at all, another key, a later or too old run date, or
// Config.FullCountingPass.
func (s *Scheduler) storedCounter(ctx context.Context, today datecalc.Date, src store.ContactSource) (estimate, error) {
	ls, isLS := src.(store.LoadSource)
	if s.s.balance == nil || !isLS || s.s.fullCount {
		return estimate{}, nil
	}
	load, ok, err := ls.StoredLoad(ctx)
	if err != nil {
		return estimate{}, fmt.Errorf("scheduler: reading the stored load: %w", err)
	}
	if !ok || load.Key != s.s.key || load.ValidContacts <= 0 || load.Today.IsZero() ||
		load.Today.After(today) || load.Today.DaysUntil(today) > MaxStoredLoadAgeDays {
		return estimate{}, nil
	}
	c := loadbalance.NewCounter(today)
	for _, e := range load.Entries {
		if !e.Date.Before(today) { // the emails of past days were sent or dropped
			c.AddN(loadbalance.Candidate{Date: e.Date, Priority: e.Priority, IsED: e.EffectiveDate}, e.Emails)
		}
	}
	return estimate{counter: c, valid: load.ValidContacts, planDate: load.Today}, nil
}

// loadCounter accumulates the load of the new plan as contacts are placed,
// for Summary.Load: per day from today on, the emails by priority and
// effective-date flag. Its size depends on the days and priorities only.
type loadCounter struct {
	today datecalc.Date
	days  [][]store.LoadEntry // by day index; Date is filled in by load
	valid int
}

func (l *loadCounter) add(o *outcome) {
	l.valid++
	for i := range o.emails {
		e := &o.emails[i]
		if e.Status != emailsched.StatusPreScheduled {
			continue
		}
		d := l.today.DaysUntil(e.Date)
		if d < 0 || d >= loadbalance.MaxHorizonDays {
			continue // load balancing ignores these days too
		}
		if d >= len(l.days) {
			l.days = slices.Grow(l.days, d+1-len(l.days))[:d+1]
		}
		l.days[d] = addLoad(l.days[d], e.Priority, o.info[i].smoothed)
	}
}

// addLoad counts one email in a day's short list, kept in (priority, flag)
// order.
func addLoad(day []store.LoadEntry, prio int, ed bool) []store.LoadEntry {
	for k := range day {
		switch e := &day[k]; {
		case e.Priority == prio && e.EffectiveDate == ed:
			e.Emails++
			return day
		case e.Priority > prio || (e.Priority == prio && e.EffectiveDate):
			return slices.Insert(day, k, store.LoadEntry{Priority: prio, EffectiveDate: ed, Emails: 1})
		}
	}
	return append(day, store.LoadEntry{Priority: prio, EffectiveDate: ed, Emails: 1})
}

func (l *loadCounter) load(key string) *store.PlanLoad {
	pl := &store.PlanLoad{Key: key, Today: l.today, ValidContacts: l.valid}
	for d, day := range l.days {
		for _, e := range day {
			e.Date = l.today.AddDays(d)
			pl.Entries = append(pl.Entries, e)
		}
	}
	return pl
}
