package loadbalance

import (
	"fmt"
	"math"

	"github.com/emailsched/emailsched/datecalc"
)

// Defaults of Config.
const (
	DefaultDailyCapFraction      = 0.07
	DefaultEDSoftLimit           = 15
	DefaultEDSmoothingWindowDays = 2
	DefaultOverageThreshold      = 1.2
	DefaultOverflowHorizonDays   = 30
)

// MaxHorizonDays bounds the days a Counter tracks: today and the
// MaxHorizonDays-1 days after it (about three years). Emails dated before
// today or after that horizon are counted as ignored and never move; no
// email is moved onto a day after it, beyond OverflowHorizonDays and the
// smoothing window.
const MaxHorizonDays = 1100

// Config holds the load-balancing parameters; the scheduler's Config embeds
// or copies them. A zero field means its default.
type Config struct {
	// ValidContacts is the number of valid contacts of the run; the daily
	// cap is ceil(ValidContacts × DailyCapFraction). Must be 0 or more;
	// 0 gives a cap of 0, which turns balancing off (nothing moves).
	ValidContacts int
	// DailyCapFraction is the share of valid contacts that may get an
	// email on one day, as a fraction: 0.07 means 7 %. Defaults to 0.07;
	// allowed (0, 1].
	DailyCapFraction float64
	// EDSoftLimit bounds the effective_date emails of one day: the soft
	// limit is min(EDSoftLimit, ceil(0.30 × cap)). Defaults to 15; allowed
	// 1 to 1,000,000,000.
	EDSoftLimit int
	// EDSmoothingWindowDays is w: a smoothed effective_date email moves by
	// its jitter (h mod (2w+1)) − w. Defaults to 2; allowed 1 to 30.
	EDSmoothingWindowDays int
	// OverageThreshold: a day whose total exceeds cap × OverageThreshold
	// sheds its excess over the cap. Defaults to 1.2; allowed 1 to 10.
	OverageThreshold float64
	// OverflowHorizonDays bounds how far after its day an overflowing email
	// may move (its event bounds it too). Defaults to 30; allowed 1 to 365.
	OverflowHorizonDays int
	// CompleteThrough is the last day whose volume is complete: later
	// days hold only part of what later runs will plan there (anniversaries
	// more than a year ahead). Effective-date smoothing neither takes
	// emails from those days nor gives them any, since their soft limit
	// cannot be judged yet. The zero Date means every day is complete.
	CompleteThrough datecalc.Date
}

// withDefaults returns cfg with zero fields set to their defaults, or an
// error naming the first field out of range.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.DailyCapFraction == 0 {
		cfg.DailyCapFraction = DefaultDailyCapFraction
	}
	if cfg.EDSoftLimit == 0 {
		cfg.EDSoftLimit = DefaultEDSoftLimit
	}
	if cfg.EDSmoothingWindowDays == 0 {
		cfg.EDSmoothingWindowDays = DefaultEDSmoothingWindowDays
	}
	if cfg.OverageThreshold == 0 {
		cfg.OverageThreshold = DefaultOverageThreshold
	}
	if cfg.OverflowHorizonDays == 0 {
		cfg.OverflowHorizonDays = DefaultOverflowHorizonDays
	}
	switch {
	case cfg.ValidContacts < 0:
		return cfg, fmt.Errorf("loadbalance: ValidContacts %d must be 0 or more", cfg.ValidContacts)
	case !(cfg.DailyCapFraction > 0 && cfg.DailyCapFraction <= 1):
		return cfg, fmt.Errorf("loadbalance: DailyCapFraction %v must be in (0, 1] (0.07 means 7 %%)", cfg.DailyCapFraction)
	case cfg.EDSoftLimit < 1 || cfg.EDSoftLimit > 1_000_000_000:
		return cfg, fmt.Errorf("loadbalance: EDSoftLimit %d must be in 1-1000000000", cfg.EDSoftLimit)
	case cfg.EDSmoothingWindowDays < 1 || cfg.EDSmoothingWindowDays > 30:
		return cfg, fmt.Errorf("loadbalance: EDSmoothingWindowDays %d must be in 1-30", cfg.EDSmoothingWindowDays)
	case !(cfg.OverageThreshold >= 1 && cfg.OverageThreshold <= 10):
		return cfg, fmt.Errorf("loadbalance: OverageThreshold %v must be in [1, 10]", cfg.OverageThreshold)
	case cfg.OverflowHorizonDays < 1 || cfg.OverflowHorizonDays > 365:
		return cfg, fmt.Errorf("loadbalance: OverflowHorizonDays %d must be in 1-365", cfg.OverflowHorizonDays)
	}
	return cfg, nil
}

// Limits are the per-day limits derived from a Config.
type Limits struct {
	// Cap is the daily cap: ceil(ValidContacts × DailyCapFraction).
	Cap int `json:"cap"`
	// Threshold is floor(Cap × OverageThreshold): a day with more emails
	// than Threshold sheds down to Cap.
	Threshold int `json:"threshold"`
	// EDSoftLimit is min(Config.EDSoftLimit, ceil(0.30 × Cap)).
	EDSoftLimit int `json:"ed_soft_limit"`
}

// tolerance absorbs binary rounding in products such as 3,000,000 × 0.07
// (210000.00000000003 in float64), which must give 210,000 and not 210,001.
const tolerance = 1e-9

func ceilTol(x float64) int {
	r := math.Round(x)
	if math.Abs(x-r) <= tolerance*math.Max(1, math.Abs(x)) {
		return int(r)
	}
	return int(math.Ceil(x))
}

func floorTol(x float64) int {
	r := math.Round(x)
	if math.Abs(x-r) <= tolerance*math.Max(1, math.Abs(x)) {
		return int(r)
	}
	return int(math.Floor(x))
}

// LimitsFor returns the limits of cfg (zero fields meaning defaults), or an
// error naming the field that is out of range.
func LimitsFor(cfg Config) (Limits, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Limits{}, err
	}
	return limitsOf(cfg), nil
}

func limitsOf(cfg Config) Limits {
	c := ceilTol(float64(cfg.ValidContacts) * cfg.DailyCapFraction)
	return Limits{
		Cap:         c,
		Threshold:   floorTol(float64(c) * cfg.OverageThreshold),
		EDSoftLimit: min(cfg.EDSoftLimit, ceilTol(0.30*float64(c))),
	}
}
