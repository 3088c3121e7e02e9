package scheduler

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
	_ "time/tzdata" // America/Chicago must load on machines without a zoneinfo database

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
	"github.com/emailsched/emailsched/rules"
)

// MonthDay is a day of the year, such as the AEP date September 15.
type MonthDay struct {
	Month time.Month
	Day   int
}

// In returns the date of md in year; Feb 29 becomes Feb 28 in years that
// are not leap years.
func (md MonthDay) In(year int) datecalc.Date {
	d, err := datecalc.New(year, md.Month, md.Day)
	if err != nil {
		d, _ = datecalc.New(year, md.Month, md.Day-1) // Feb 29 of a common year
	}
	return d
}

func (md MonthDay) String() string { return fmt.Sprintf("%02d-%02d", int(md.Month), md.Day) }

// Int returns a pointer to v, for the Config fields where zero is a
// meaningful value and nil means "the default".
func Int(v int) *int { return &v }

// Config configures a Scheduler. The zero value of every field means the
// documented default; New validates the rest.
type Config struct {
	// Rules is the exclusion rule set. Defaults to rules.Default(), the
	// rules of SPEC §4 built in Go (dsl.Default() is the same set read from
	// the embedded default.rules).
	Rules *rules.Set
	// Location is the organisation's time zone; "today" is the calendar
	// date there. Defaults to America/Chicago.
	Location *time.Location
	// Clock returns the current instant. Defaults to time.Now.
	Clock func() time.Time
	// SendTime is the local time of day emails go out, "HH:MM" (24 h).
	// Defaults to "08:30".
	SendTime string

	// BirthdayDaysBefore: a birthday email is planned this many days
	// before the birthday (0-365). Defaults to 14.
	BirthdayDaysBefore *int
	// EffectiveDateDaysBefore: an effective-date email is planned this
	// many days before the policy anniversary (0-365). Defaults to 30.
	EffectiveDateDaysBefore *int
	// AEPDates are the days of the Annual Enrollment Period email; with
	// several, each contact gets exactly one, chosen by the stable hash.
	// Defaults to September 15.
	AEPDates []MonthDay
	// CatchUpSpreadDays spreads catch-up emails over today … today+n-1
	// (1-90). Defaults to 7.
	CatchUpSpreadDays int
	// Priorities of the anniversary emails (lower is more important;
	// 0-1000). Default to 10, 10, 20 and 30.
	BirthdayPriority, EffectiveDatePriority, AEPPriority, PostWindowPriority *int

	// FollowUpDelayDays: a follow-up goes out this many days after its
	// initial email (0-60), or tomorrow when that day has passed. Defaults
	// to 2.
	FollowUpDelayDays *int
	// FollowUpLookbackDays: emails sent in this many past days get
	// follow-ups (1-365). Defaults to 35.
	FollowUpLookbackDays int
	// DisableFollowUps turns follow-ups off.
	DisableFollowUps bool
	// MaxEmailsPerPeriod and FrequencyPeriodDays: a contact gets at most
	// MaxEmailsPerPeriod emails (1-100, default 2) in any
	// FrequencyPeriodDays consecutive days (1-365, default 14), history
	// included and follow-ups excluded.
	MaxEmailsPerPeriod  int
	FrequencyPeriodDays int
	// DisableFrequencyLimit turns the frequency limit off.
	DisableFrequencyLimit bool

	// LoadBalancing holds the load-balancing parameters (SPEC §8): daily
	// cap percentage, effective-date soft limit and smoothing window,
	// overage threshold, overflow horizon. Zero fields mean the defaults
	// of package loadbalance; ValidContacts is ignored (the run counts
	// them).
	LoadBalancing loadbalance.Config
	// DisableLoadBalancing plans every email on its own day.
	DisableLoadBalancing bool
	// FullCountingPass makes load balancing always read and plan every
	// contact twice: a counting pass for the per-day volume, then the pass
	// that writes. By default a run whose source keeps the load of its
	// stored plan (store.LoadSource, as store/sqlite and store/memory do)
	// starts from that load instead, when the same rules and settings made
	// it at most MaxStoredLoadAgeDays days earlier, and reads the source
	// once. Every move is checked against the contact's rules either way;
	// only the estimate of each day's volume differs.
	FullCountingPass bool

	// NewRunID returns the id of a new run. Defaults to a time-based id
	// with random bits ("run-20250102T030405-1a2b3c4d").
	NewRunID func(now time.Time) string
	// Workers is the number of goroutines that plan contacts while one
	// reads the source and the run's goroutine balances and writes, in
	// source order (1-256). The plan is the same whatever the number.
	// Defaults to 1: everything on the run's goroutine. On the 2-core
	// development machine the overlap did not yet pay for the copy of each
	// contact it needs (see the scheduler's package documentation).
	Workers int
	// Progress, when set, is called from the run's goroutine every
	// ProgressEvery contacts and at the end of each pass, with the pass
	// ("counting" for the first pass of load balancing, "planning" for the
	// pass that writes) and the contacts done in it. It must return
	// quickly.
	Progress func(pass string, done int)
	// ProgressEvery defaults to 10,000 contacts.
	ProgressEvery int
	// Logger receives progress and warnings. Defaults to a logger that
	// discards everything.
	Logger *slog.Logger
}

// settings is a Config with every default applied.
type settings struct {
	rules          *rules.Set
	loc            *time.Location
	clock          func() time.Time
	sendTime       string
	birthdayBefore int
	edBefore       int
	aep            []MonthDay
	catchUp        int
	prioBirthday   int
	prioED         int
	prioAEP        int
	prioPostWindow int
	// followUpDelay is -1 when follow-ups are disabled.
	followUpDelay    int
	followUpLookback int
	// balance is nil when load balancing is disabled.
	balance *loadbalance.Config
	// fullCount: never start from a stored load (Config.FullCountingPass).
	fullCount bool
	// key identifies the rules and settings in a stored load.
	key string
	// freqMax is 0 when the frequency limit is disabled.
	freqMax       int
	freqPeriod    int
	newRunID      func(time.Time) string
	progress      func(string, int)
	progressEvery int
	workers       int
	log           *slog.Logger
}

// ErrInvalidConfig is wrapped by New's errors.
var ErrInvalidConfig = errors.New("scheduler: invalid configuration")

// resolve applies defaults and validates; every error names the field and
// the allowed range.
func (c Config) resolve() (settings, error) {
	s := settings{
		rules: c.Rules, loc: c.Location, clock: c.Clock, sendTime: c.SendTime,
		aep: c.AEPDates, catchUp: c.CatchUpSpreadDays, newRunID: c.NewRunID, log: c.Logger,
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}
	if s.rules == nil {
		s.rules = rules.Default()
	}
	if s.loc == nil {
		// Cannot fail: time/tzdata is linked in.
		s.loc, _ = time.LoadLocation("America/Chicago")
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.sendTime == "" {
		s.sendTime = "08:30"
	}
	if t, err := time.Parse("15:04", s.sendTime); err != nil || t.Format("15:04") != s.sendTime {
		bad("SendTime", "is %q, must be HH:MM from 00:00 to 23:59", s.sendTime)
	}
	opt := func(field string, p *int, def, lo, hi int) int {
		if p == nil {
			return def
		}
		if *p < lo || *p > hi {
			bad(field, "is %d, must be %d-%d", *p, lo, hi)
		}
		return *p
	}
	s.birthdayBefore = opt("BirthdayDaysBefore", c.BirthdayDaysBefore, 14, 0, 365)
	s.edBefore = opt("EffectiveDateDaysBefore", c.EffectiveDateDaysBefore, 30, 0, 365)
	s.prioBirthday = opt("BirthdayPriority", c.BirthdayPriority, 10, 0, 1000)
	s.prioED = opt("EffectiveDatePriority", c.EffectiveDatePriority, 10, 0, 1000)
	s.prioAEP = opt("AEPPriority", c.AEPPriority, 20, 0, 1000)
	s.prioPostWindow = opt("PostWindowPriority", c.PostWindowPriority, 30, 0, 1000)
	if len(s.aep) == 0 {
		s.aep = []MonthDay{{time.September, 15}}
	}
	for i, md := range s.aep {
		if md.Month < time.January || md.Month > time.December || md.Day < 1 || md.Day > datecalc.DaysIn(2024, md.Month) {
			bad(fmt.Sprintf("AEPDates[%d]", i), "is %d-%d, must be a day of the year (month 1-12, day 1-31 as the month has)", int(md.Month), md.Day)
		}
	}
	s.catchUp = defaulted("CatchUpSpreadDays", c.CatchUpSpreadDays, 7, 1, 90, bad)
	s.followUpDelay = opt("FollowUpDelayDays", c.FollowUpDelayDays, 2, 0, 60)
	if c.DisableFollowUps {
		s.followUpDelay = -1
	}
	s.followUpLookback = defaulted("FollowUpLookbackDays", c.FollowUpLookbackDays, 35, 1, 365, bad)
	s.freqMax = defaulted("MaxEmailsPerPeriod", c.MaxEmailsPerPeriod, 2, 1, 100, bad)
	s.freqPeriod = defaulted("FrequencyPeriodDays", c.FrequencyPeriodDays, 14, 1, 365, bad)
	if c.DisableFrequencyLimit {
		s.freqMax = 0
	}
	if !c.DisableLoadBalancing {
		lb := c.LoadBalancing
		lb.ValidContacts = 0
		if _, err := loadbalance.LimitsFor(lb); err != nil {
			errs = append(errs, fmt.Errorf("%w: LoadBalancing: %w", ErrInvalidConfig, err))
		}
		s.balance = &lb
	}
	s.workers = defaulted("Workers", c.Workers, 1, 1, 256, bad)
	s.progress = c.Progress
	s.progressEvery = defaulted("ProgressEvery", c.ProgressEvery, 10_000, 1, 1<<30, bad)
	if s.newRunID == nil {
		s.newRunID = defaultRunID
	}
	s.fullCount = c.FullCountingPass
	s.key = s.loadKey()
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, errors.Join(errs...)
}

// defaulted returns v, or def when v is zero, reporting a value outside
// lo … hi.
func defaulted(field string, v, def, lo, hi int, bad func(field, format string, args ...any)) int {
	if v == 0 {
		return def
	}
	if v < lo || v > hi {
		bad(field, "is %d, must be %d-%d", v, lo, hi)
	}
	return v
}
