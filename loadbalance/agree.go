package loadbalance

import "slices"

// Agree reports whether a Plan made from the counter a under the Config
// ca and one made from b under cb place every contact alike: the same limits
// wherever anything may move, and the same counts on every day an email may
// leave (above the threshold, or over the effective-date soft limit with a
// neighbouring day able to take one) under either, and on every day such an
// email may reach. Place reads nothing else of the counts, so with the same
// candidates and the same answers of legal it moves the same emails to the
// same days.
//
// A run that balanced from an estimate of the per-day volume (the load of
// the stored plan, a)
// and counted the volume it really planned (b) uses Agree to tell whether
// its plan is the one the exact count would have made: only then does a
// second run on the same day find nothing to change. The error names a
// Config field out of range.
func Agree(a *Counter, ca Config, b *Counter, cb Config) (bool, error) {
	pa, err := NewPlan(a, ca)
	if err != nil {
		return false, err
	}
	pb, err := NewPlan(b, cb)
	if err != nil {
		return false, err
	}
	if a.today != b.today {
		return false, nil
	}
	reach := pa.cfg.EDSmoothingWindowDays
	reach = max(reach, pa.cfg.OverflowHorizonDays, pb.cfg.EDSmoothingWindowDays, pb.cfg.OverflowHorizonDays)
	n := max(len(pa.days), len(pb.days))
	limitsDiffer := pa.lim != pb.lim || pa.cfg.EDSmoothingWindowDays != pb.cfg.EDSmoothingWindowDays ||
		pa.cfg.OverflowHorizonDays != pb.cfg.OverflowHorizonDays
	// Days between the two CompleteThrough may be smoothed under one and
	// not the other: they differ like days of different counts.
	lo, hi := min(pa.complete, pb.complete), max(pa.complete, pb.complete)
	for d := range n {
		if !pa.source(d) && !pb.source(d) {
			continue
		}
		if limitsDiffer {
			return false, nil
		}
		for t := max(d-reach, 0); t <= min(d+reach, n-1); t++ {
			if !sameDay(a.day(t), b.day(t)) || t >= lo && t < hi {
				return false, nil
			}
		}
	}
	return true, nil
}

// source reports whether an email may leave day d of the plan.
func (p *Plan) source(d int) bool {
	if d >= len(p.days) || p.lim.Cap == 0 {
		return false
	}
	pd := &p.days[d]
	return pd.overSrc || pd.edSrc && !pd.edClosed
}

// day returns the counts of day index i, zero beyond the counted days.
func (c *Counter) day(i int) dayCount {
	if i < len(c.days) {
		return c.days[i]
	}
	return dayCount{}
}

func sameDay(x, y dayCount) bool {
	return x.total == y.total && x.ed == y.ed && x.pinned == y.pinned && slices.Equal(x.prios, y.prios)
}
