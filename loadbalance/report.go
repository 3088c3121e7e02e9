package loadbalance

import "github.com/emailsched/emailsched/datecalc"

// DayVolume is the pre-scheduled volume of one day. Its JSON field names
// are stable.
type DayVolume struct {
	Date datecalc.Date `json:"date"`
	// Total counts the emails of the day; ED the effective_date ones
	// among them.
	Total int `json:"total"`
	ED    int `json:"ed"`
	// Pinned counts the emails that may never move.
	Pinned int `json:"pinned,omitempty"`
	// Arrived and Left count the emails moved onto and off the day.
	Arrived int `json:"arrived,omitempty"`
	Left    int `json:"left,omitempty"`
	// Stuck counts the emails that were due to shed (overflow) but found no
	// legal following day with room; EDStuck those due to be smoothed whose
	// jitter day was illegal or had no room. Both are set in Report.After.
	Stuck   int `json:"stuck,omitempty"`
	EDStuck int `json:"ed_stuck,omitempty"`
}

// Report describes what balancing did. Its JSON field names are stable.
type Report struct {
	Limits
	// Before and After list, by ascending date, every day with emails
	// before or after balancing (the same days in both).
	Before []DayVolume `json:"before"`
	After  []DayVolume `json:"after"`
	// DaysOverCap counts days with more than Limits.Cap emails,
	// DaysOverThreshold days with more than Limits.Threshold (these must
	// shed) and DaysOverEDSoftLimit days with more effective_date emails
	// than the soft limit.
	DaysOverCapBefore         int `json:"days_over_cap_before"`
	DaysOverCapAfter          int `json:"days_over_cap_after"`
	DaysOverThresholdBefore   int `json:"days_over_threshold_before"`
	DaysOverThresholdAfter    int `json:"days_over_threshold_after"`
	DaysOverEDSoftLimitBefore int `json:"days_over_ed_soft_limit_before"`
	DaysOverEDSoftLimitAfter  int `json:"days_over_ed_soft_limit_after"`
	// Moved counts the emails that changed day: EDSmoothed by effective-date
	// smoothing, Overflowed by the global cap.
	Moved      int `json:"moved"`
	EDSmoothed int `json:"ed_smoothed"`
	Overflowed int `json:"overflowed"`
	// MovedByDays maps a shift in days (negative: earlier) to the number of
	// emails moved by it.
	MovedByDays map[int]int `json:"moved_by_days"`
	// Unmovable counts emails due to shed whose day stays above the
	// threshold for want of a legal day with room (Stuck, summed over the
	// days still over the threshold). EDUnsmoothed sums EDStuck.
	Unmovable    int `json:"unmovable"`
	EDUnsmoothed int `json:"ed_unsmoothed"`
	// Ignored counts emails outside [today, today+MaxHorizonDays).
	Ignored int `json:"ignored"`
}

// Report returns the state of the plan so far; call it after the last
// Place. It allocates the day lists.
func (p *Plan) Report() Report {
	r := Report{
		Limits:      p.lim,
		EDSmoothed:  p.edMoved,
		Overflowed:  p.overMoved,
		Moved:       p.edMoved + p.overMoved,
		MovedByDays: map[int]int{},
		Ignored:     p.ignored,
	}
	for k, v := range p.shifts {
		if v != 0 {
			r.MovedByDays[k-p.cfg.EDSmoothingWindowDays] = v
		}
	}
	for i := range p.days {
		pd := &p.days[i]
		if pd.n0 == 0 && pd.n == 0 {
			continue
		}
		d := p.today.AddDays(i)
		r.Before = append(r.Before, DayVolume{Date: d, Total: pd.n0, ED: pd.e0, Pinned: pd.pinned})
		r.After = append(r.After, DayVolume{
			Date: d, Total: pd.n, ED: pd.e, Pinned: pd.pinned,
			Arrived: pd.arrived, Left: pd.left, Stuck: pd.stuck, EDStuck: pd.edStuck,
		})
		r.EDUnsmoothed += pd.edStuck
		r.DaysOverCapBefore += b2i(pd.n0 > p.lim.Cap)
		r.DaysOverCapAfter += b2i(pd.n > p.lim.Cap)
		r.DaysOverEDSoftLimitBefore += b2i(pd.e0 > p.lim.EDSoftLimit)
		r.DaysOverEDSoftLimitAfter += b2i(pd.e > p.lim.EDSoftLimit)
		r.DaysOverThresholdBefore += b2i(pd.n0 > p.lim.Threshold)
		if pd.n > p.lim.Threshold {
			r.DaysOverThresholdAfter++
			r.Unmovable += pd.stuck
		}
	}
	return r
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
