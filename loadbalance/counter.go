package loadbalance

import (
	"errors"
	"slices"

	"github.com/emailsched/emailsched/datecalc"
)

// Candidate is the compact record of one pre-scheduled email that load
// balancing sees: 32 bytes on 64-bit platforms, no strings. Build it with NewCandidate or
// FromEmail so that Hash and IsED follow the storage contract.
type Candidate struct {
	// Date is the email's current day. Place updates it when the email moves.
	Date datecalc.Date
	// Latest is the last day the email may be sent: its anniversary, or the
	// campaign trigger of a campaign sent before its event. The zero Date
	// means no such bound (the overflow horizon still bounds moves).
	Latest datecalc.Date
	// Priority: lower is more important; the least important move first.
	Priority int
	// Hash is the stable hash (datecalc.StableHash of contact
	// id, email type and event year); the smoothing jitter derives from it.
	Hash uint64
	// IsED marks an effective_date email (subject to smoothing).
	IsED bool
	// Pinned emails count towards the day's volume but never move.
	Pinned bool
}

// Counter holds the per-day volume of pre-scheduled emails, the first pass
// of balancing: for each day from its today on, the total, the
// effective_date total, the pinned total, and the movable emails by
// priority (a small sorted slice per day). Its size is O(days × distinct
// priorities per day) and does not grow with the number of emails.
//
// The zero Counter is not usable; call NewCounter. A Counter is not safe for
// concurrent use: give each goroutine its own and Merge them.
type Counter struct {
	today   datecalc.Date
	days    []dayCount
	ignored int
}

type dayCount struct {
	total, ed, pinned int
	prios             []prioCount // movable emails by priority, ascending
}

type prioCount struct {
	prio, n int
}

// NewCounter returns an empty Counter for a run on today.
func NewCounter(today datecalc.Date) *Counter {
	return &Counter{today: today}
}

// index returns the day index of d relative to today, or -1 when d is
// outside [today, today+MaxHorizonDays).
func index(today, d datecalc.Date) int {
	if d.IsZero() || today.IsZero() {
		return -1
	}
	i := today.DaysUntil(d)
	if i < 0 || i >= MaxHorizonDays {
		return -1
	}
	return i
}

// Add counts one pre-scheduled email. Emails dated before today, after the
// horizon (MaxHorizonDays) or with a zero date are counted only as ignored:
// they neither weigh on a day nor move. Skipped emails must not be added.
func (c *Counter) Add(e Candidate) { c.AddN(e, 1) }

// AddN counts n emails like e at once (n ≤ 0 counts nothing): a counter
// rebuilt from a stored per-day volume (see store.PlanLoad) instead of
// email by email.
func (c *Counter) AddN(e Candidate, n int) {
	if n <= 0 {
		return
	}
	i := index(c.today, e.Date)
	if i < 0 {
		c.ignored += n
		return
	}
	if i >= len(c.days) {
		c.days = slices.Grow(c.days, i+1-len(c.days))[:i+1]
	}
	dc := &c.days[i]
	dc.total += n
	if e.IsED {
		dc.ed += n
	}
	if e.Pinned {
		dc.pinned += n
		return
	}
	dc.addPrio(e.Priority, n)
}

func (dc *dayCount) addPrio(prio, n int) {
	ps := dc.prios
	// The slice is short (a handful of priorities): a linear scan beats a
	// binary search here.
	for k := range ps {
		switch {
		case ps[k].prio == prio:
			ps[k].n += n
			return
		case ps[k].prio > prio:
			dc.prios = slices.Insert(ps, k, prioCount{prio, n})
			return
		}
	}
	dc.prios = append(ps, prioCount{prio, n})
}

// ErrTodayMismatch is returned by Merge for counters of different days.
var ErrTodayMismatch = errors.New("loadbalance: counters of different run dates")

// Merge adds the counts of o to c. Both must have the same today. Merging is
// commutative and associative, so planning may be split over goroutines in
// any way. Merging nil does nothing.
func (c *Counter) Merge(o *Counter) error {
	if o == nil {
		return nil
	}
	if c.today != o.today {
		return ErrTodayMismatch
	}
	if len(o.days) > len(c.days) {
		c.days = slices.Grow(c.days, len(o.days)-len(c.days))[:len(o.days)]
	}
	for i := range o.days {
		od, dc := &o.days[i], &c.days[i]
		dc.total += od.total
		dc.ed += od.ed
		dc.pinned += od.pinned
		for _, p := range od.prios {
			dc.addPrio(p.prio, p.n)
		}
	}
	c.ignored += o.ignored
	return nil
}

// Total returns the number of emails counted on day d (0 outside the
// horizon).
func (c *Counter) Total(d datecalc.Date) int {
	i := index(c.today, d)
	if i < 0 || i >= len(c.days) {
		return 0
	}
	return c.days[i].total
}

// Ignored returns the number of emails added outside the horizon.
func (c *Counter) Ignored() int { return c.ignored }
