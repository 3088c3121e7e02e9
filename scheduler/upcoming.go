package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
	"github.com/emailsched/emailsched/store"
)

// Upcoming is what the stored plan sends in the next days: per day the
// pre-scheduled emails in all and by type, and the limits load balancing
// held the days to.
type Upcoming struct {
	From datecalc.Date `json:"from"`
	To   datecalc.Date `json:"to"`
	// PlanDate is the run date of the stored plan whose load gave the
	// limits; zero when the store keeps none (then Limits is zero too).
	PlanDate datecalc.Date `json:"plan_date,omitzero"`
	// ValidContacts is the number of valid contacts of that plan, which
	// sets the daily cap.
	ValidContacts int `json:"valid_contacts,omitempty"`
	// Limits are the daily cap, the overage threshold and the
	// effective-date soft limit under this Scheduler's settings; zero when
	// not known or when load balancing is off.
	Limits loadbalance.Limits `json:"limits"`
	// Days has one entry per day from From to To, days without email
	// included.
	Days []UpcomingDay `json:"days"`
}

// UpcomingDay is one day of Upcoming.
type UpcomingDay struct {
	Date   datecalc.Date                `json:"date"`
	Total  int                          `json:"total"`
	ByType map[emailsched.EmailType]int `json:"by_type"`
}

// MaxUpcomingDays bounds the days Upcoming looks at.
const MaxUpcomingDays = 366

// ErrNoVolume is returned by Upcoming for a source that cannot count its
// stored plan per day (store.VolumeSource).
var ErrNoVolume = errors.New("scheduler: the source cannot count its stored plan per day (store.VolumeSource)")

// Upcoming returns the stored plan's emails of today (see Today) and the
// days-1 days after it. See UpcomingAt.
func (s *Scheduler) Upcoming(ctx context.Context, src store.ContactSource, days int) (*Upcoming, error) {
	return s.UpcomingAt(ctx, s.Today(), src, days)
}

// UpcomingAt returns the stored plan's pre-scheduled emails of the days
// from today on (1 to MaxUpcomingDays days), read from src without reading
// every contact (store.VolumeSource), with the limits of the stored plan
// when src keeps its load (store.LoadSource). It only reads.
func (s *Scheduler) UpcomingAt(ctx context.Context, today datecalc.Date, src store.ContactSource, days int) (*Upcoming, error) {
	if days < 1 || days > MaxUpcomingDays {
		return nil, fmt.Errorf("%w: %d upcoming days, must be 1-%d", ErrInvalidConfig, days, MaxUpcomingDays)
	}
	vs, ok := src.(store.VolumeSource)
	if !ok {
		return nil, ErrNoVolume
	}
	u := &Upcoming{From: today, To: today.AddDays(days - 1)}
	vols, err := vs.PlannedVolume(ctx, u.From, u.To)
	if err != nil {
		return nil, fmt.Errorf("scheduler: upcoming: %w", err)
	}
	u.Days = make([]UpcomingDay, days)
	for i := range u.Days {
		u.Days[i] = UpcomingDay{Date: today.AddDays(i), ByType: map[emailsched.EmailType]int{}}
	}
	for _, v := range vols {
		if i := today.DaysUntil(v.Date); i >= 0 && i < days {
			u.Days[i].Total += v.Emails
			u.Days[i].ByType[v.Type] += v.Emails
		}
	}
	if ls, ok := src.(store.LoadSource); ok && s.s.balance != nil {
		load, ok, err := ls.StoredLoad(ctx)
		if err != nil {
			return nil, fmt.Errorf("scheduler: upcoming: %w", err)
		}
		if ok && load.ValidContacts > 0 {
			cfg := *s.s.balance
			cfg.ValidContacts = load.ValidContacts
			u.PlanDate, u.ValidContacts = load.Today, load.ValidContacts
			u.Limits, _ = loadbalance.LimitsFor(cfg) // validated by New
		}
	}
	return u, nil
}

// WriteText writes u as a table: a line per day with its total and its
// emails by type, marking the days above the daily cap (*) and those whose
// effective-date emails exceed the soft limit (+).
func (u *Upcoming) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Emails the stored plan sends, %s to %s\n", u.From, u.To)
	if u.Limits.Cap > 0 {
		fmt.Fprintf(&b, "Daily cap %d, threshold %d, effective-date soft limit %d (the plan of %s, %d valid contacts)\n",
			u.Limits.Cap, u.Limits.Threshold, u.Limits.EDSoftLimit, u.PlanDate, u.ValidContacts)
	} else {
		b.WriteString("Daily cap unknown: no stored plan load (or load balancing is off)\n")
	}
	var types []emailsched.EmailType
	for _, d := range u.Days {
		for t := range d.ByType {
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	slices.Sort(types)
	b.WriteString("\ndate          total")
	for _, t := range types {
		fmt.Fprintf(&b, "  %*s", max(len(t), 5), t)
	}
	b.WriteString("\n")
	over, edOver := false, false
	for _, d := range u.Days {
		mark := " "
		if u.Limits.Cap > 0 && d.Total > u.Limits.Cap {
			mark, over = "*", true
		}
		fmt.Fprintf(&b, "%s %7d%s", d.Date, d.Total, mark)
		for _, t := range types {
			cell := fmt.Sprint(d.ByType[t])
			if t == emailsched.TypeEffectiveDate && u.Limits.EDSoftLimit > 0 && d.ByType[t] > u.Limits.EDSoftLimit {
				cell, edOver = cell+"+", true
			}
			fmt.Fprintf(&b, "  %*s", max(len(t), 5), cell)
		}
		b.WriteString("\n")
	}
	if over {
		b.WriteString("* above the daily cap\n")
	}
	if edOver {
		b.WriteString("+ more effective-date emails than the soft limit (smoothing moves them only to neighbouring days with room)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
