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

// before reports whether md comes before o in the calendar year.
func (md MonthDay) before(o MonthDay) bool {
	return md.Month < o.Month || md.Month == o.Month && md.Day < o.Day
}

func (md MonthDay) String() string { return fmt.Sprintf("%02d-%02d", int(md.Month), md.Day) }

// Int returns a pointer to v, for the Config fields of integers.
func Int(v int) *int { return &v }

// Config configures a Scheduler.
//
// One convention holds for every field: its zero value (nil, "", false, a
// nil func) means its default. Numbers are pointers (set them with Int and
// Float), so that zero stays a value one can ask for; booleans are named
// so that false is the default. The default, the allowed range and the
// meaning of every plan parameter are declared once, in the table Params
// returns (the reference configuration file testdata/scheduler.yaml is
// generated from it); New reports every value out of range at once, naming
// the field and its range.
type Config struct {
	// Rules is the exclusion rule set. Defaults to rules.Default() (which
	// dsl.Default() reads from the embedded default.rules: the same rules).
	Rules *rules.Set
	// Location is the organisation's time zone; "today" is the calendar
	// date there.
	Location *time.Location
	// Clock returns the current instant. Defaults to time.Now.
	Clock func() time.Time
	// SendTime is the local time of day emails go out, "HH:MM".
	SendTime string

	// BirthdayDaysBefore: a birthday email is planned this many days
	// before the birthday.
	BirthdayDaysBefore *int
	// EffectiveDateDaysBefore: an effective-date email is planned this
	// many days before the policy anniversary.
	EffectiveDateDaysBefore *int
	// AEPDates are the days of the Annual Enrollment Period email; with
	// several, each contact gets exactly one, chosen by the stable hash.
	AEPDates []MonthDay
	// AEPLastDay ends the AEP send window: a contact's AEP email goes out
	// from its AEP day to this day, load balancing spreading the emails
	// over the window under the daily cap. Defaults to September 30. An
	// AEP day after AEPLastDay is a window of its own day (its emails stay
	// on it).
	AEPLastDay *MonthDay
	// CatchUpSpreadDays spreads catch-up emails over today … today+n-1.
	CatchUpSpreadDays *int
	// Priorities of the anniversary emails (lower is more important).
	BirthdayPriority, EffectiveDatePriority, AEPPriority, PostWindowPriority *int

	// FollowUpDelayDays: a follow-up goes out this many days after its
	// initial email, or tomorrow when that day has passed.
	FollowUpDelayDays *int
	// FollowUpLookbackDays: emails sent in this many past days get
	// follow-ups.
	FollowUpLookbackDays *int
	// DisableFollowUps turns follow-ups off.
	DisableFollowUps bool
	// MaxEmailsPerPeriod and FrequencyPeriodDays: a contact gets at most
	// MaxEmailsPerPeriod emails in any FrequencyPeriodDays consecutive
	// days, history included and follow-ups excluded.
	MaxEmailsPerPeriod  *int
	FrequencyPeriodDays *int
	// DisableFrequencyLimit turns the frequency limit off.
	DisableFrequencyLimit bool

	// Load balancing (see package loadbalance): the daily cap in percent
	// of the valid contacts, the effective-date soft limit and smoothing
	// window, the overage threshold and the overflow horizon.
	DailyCapPercent       *float64
	EDSoftLimit           *int
	EDSmoothingWindowDays *int
	OverageThreshold      *float64
	OverflowHorizonDays   *int
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
	Workers *int
	// Progress, when set, is called from the run's goroutine every
	// ProgressEvery contacts and at the end of each pass, with the pass
	// ("counting" for the first pass of load balancing, "planning" for the
	// pass that writes) and the contacts done in it. It must return
	// quickly.
	Progress func(pass string, done int)
	// ProgressEvery defaults to 10,000 contacts (1 or more).
	ProgressEvery *int
	// Logger receives progress and warnings. Defaults to a logger that
	// discards everything.
	Logger *slog.Logger
}

// settings is a Config with every default applied.
type settings struct {
	// cfg is the Config with every parameter set (see Params).
	cfg      Config
	rules    *rules.Set
	loc      *time.Location
	clock    func() time.Time
	sendTime string
	aep      []MonthDay
	// aepLast ends the AEP send window of each day of aep, in its order.
	aepLast []MonthDay
	catchUp int
	// events are the parameters of eventTypes, in its order.
	events []eventSettings
	// notAfterToday declares the rules' anchors whose dates may not lie
	// after the run date (rules.AnchorSpec.NotAfterToday).
	notAfterToday  []rules.AnchorSpec
	prioPostWindow int
	// followUpDelay is -1 when follow-ups are disabled.
	followUpDelay    int
	followUpLookback int
	// balance is nil when load balancing is disabled.
	balance *loadbalance.Config
	// fullCount: never start from a stored load (Config.FullCountingPass).
	fullCount bool
	// configSum is the configuration's checksum (configChecksum), key
	// identifies the rules and settings in a stored load.
	configSum, key string
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
	c, errs := c.resolveParams()
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}
	s := settings{
		cfg: c, rules: c.Rules, loc: c.Location, clock: c.Clock, sendTime: c.SendTime, aep: c.AEPDates,
		newRunID: c.NewRunID, log: c.Logger, progress: c.Progress, fullCount: c.FullCountingPass,
		catchUp: *c.CatchUpSpreadDays, events: resolveEventTypes(&c), prioPostWindow: *c.PostWindowPriority, followUpDelay: *c.FollowUpDelayDays,
		followUpLookback: *c.FollowUpLookbackDays, freqMax: *c.MaxEmailsPerPeriod, freqPeriod: *c.FrequencyPeriodDays,
	}
	if s.rules == nil {
		s.rules = rules.Default()
	}
	for _, md := range s.aep {
		last := *c.AEPLastDay
		if last.before(md) {
			last = md // a window never ends before it starts
		}
		s.aepLast = append(s.aepLast, last)
	}
	for _, a := range s.rules.Anchors() {
		if spec := a.Spec(); spec.NotAfterToday {
			s.notAfterToday = append(s.notAfterToday, spec)
		}
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if c.DisableFollowUps {
		s.followUpDelay = -1
	}
	if c.DisableFrequencyLimit {
		s.freqMax = 0
	}
	if !c.DisableLoadBalancing {
		s.balance = &loadbalance.Config{DailyCapFraction: *c.DailyCapPercent / 100, EDSoftLimit: *c.EDSoftLimit,
			EDSmoothingWindowDays: *c.EDSmoothingWindowDays, OverageThreshold: *c.OverageThreshold,
			OverflowHorizonDays: *c.OverflowHorizonDays}
	}
	s.workers = optional("Workers", c.Workers, 1, 1, 256, bad)
	s.progressEvery = optional("ProgressEvery", c.ProgressEvery, 10_000, 1, 1<<30, bad)
	if s.newRunID == nil {
		s.newRunID = defaultRunID
	}
	s.configSum = s.configChecksum()
	s.key = s.loadKey()
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, errors.Join(errs...)
}

// optional returns *v, or def when v is nil, reporting a value outside
// lo … hi.
func optional(field string, v *int, def, lo, hi int, bad func(field, format string, args ...any)) int {
	if v == nil {
		return def
	}
	if *v < lo || *v > hi {
		bad(field, "is %d, must be %d-%d", *v, lo, hi)
	}
	return *v
}
