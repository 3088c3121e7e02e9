package configfile

import (
	"strings"
	"time"

	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/scheduler"
)

type kind int

const (
	kindInt kind = iota
	kindFloat
	kindBool
	kindString
	kindDates
)

// value is a checked value of one key.
type value struct {
	i     int
	f     float64
	b     bool
	s     string
	dates []scheduler.MonthDay
}

// field is one key of the schema: its dotted name, kind, allowed range and
// where it goes in a File.
type field struct {
	key      string
	kind     kind
	min, max float64
	minOpen  bool                // the range excludes min
	check    func(string) string // for strings: what is expected, or ""
	set      func(*File, value)
}

func intKey(key string, lo, hi int, set func(*File, int)) field {
	return field{key: key, kind: kindInt, min: float64(lo), max: float64(hi), set: func(f *File, v value) { set(f, v.i) }}
}

func boolKey(key string, set func(*File, bool)) field {
	return field{key: key, kind: kindBool, set: func(f *File, v value) { set(f, v.b) }}
}

func stringKey(key string, check func(string) string, set func(*File, string)) field {
	return field{key: key, kind: kindString, check: check, set: func(f *File, v value) { set(f, v.s) }}
}

func anyString(string) string { return "" }

// schema lists every key of the file, in the order of testdata/scheduler.yaml.
var schema = []field{
	stringKey("time_zone", func(s string) string {
		if _, err := time.LoadLocation(s); err != nil || s == "" || s == "Local" {
			return `must be an IANA time zone name (such as "America/Chicago")`
		}
		return ""
	}, func(f *File, s string) { f.Scheduler.Location, _ = time.LoadLocation(s) }),
	stringKey("send_time", func(s string) string {
		if t, err := time.Parse("15:04", s); err != nil || t.Format("15:04") != s {
			return `must be a time of day "HH:MM" from "00:00" to "23:59"`
		}
		return ""
	}, func(f *File, s string) { f.Scheduler.SendTime = s }),
	stringKey("database", anyString, func(f *File, s string) { f.Database = s }),
	stringKey("rules", anyString, func(f *File, s string) { f.Rules = s }),
	intKey("pre_window_buffer", 0, rules.MaxWindowDays, func(f *File, i int) { f.PreWindowBuffer = &i }),
	boolKey("atomic", func(f *File, b bool) { f.Atomic = b }),
	intKey("batch_contacts", 1, 1_000_000, func(f *File, i int) { f.BatchContacts = i }),
	{key: "aep_dates", kind: kindDates, set: func(f *File, v value) { f.Scheduler.AEPDates = v.dates }},

	intKey("timing.birthday_days_before", 0, 365, func(f *File, i int) { f.Scheduler.BirthdayDaysBefore = &i }),
	intKey("timing.effective_date_days_before", 0, 365, func(f *File, i int) { f.Scheduler.EffectiveDateDaysBefore = &i }),
	intKey("timing.catch_up_spread_days", 1, 90, func(f *File, i int) { f.Scheduler.CatchUpSpreadDays = i }),

	intKey("priorities.birthday", 0, 1000, func(f *File, i int) { f.Scheduler.BirthdayPriority = &i }),
	intKey("priorities.effective_date", 0, 1000, func(f *File, i int) { f.Scheduler.EffectiveDatePriority = &i }),
	intKey("priorities.aep", 0, 1000, func(f *File, i int) { f.Scheduler.AEPPriority = &i }),
	intKey("priorities.post_window", 0, 1000, func(f *File, i int) { f.Scheduler.PostWindowPriority = &i }),

	boolKey("follow_ups.enabled", func(f *File, b bool) { f.Scheduler.DisableFollowUps = !b }),
	intKey("follow_ups.delay_days", 0, 60, func(f *File, i int) { f.Scheduler.FollowUpDelayDays = &i }),
	intKey("follow_ups.lookback_days", 1, 365, func(f *File, i int) { f.Scheduler.FollowUpLookbackDays = i }),

	boolKey("frequency_limit.enabled", func(f *File, b bool) { f.Scheduler.DisableFrequencyLimit = !b }),
	intKey("frequency_limit.max_emails", 1, 100, func(f *File, i int) { f.Scheduler.MaxEmailsPerPeriod = i }),
	intKey("frequency_limit.period_days", 1, 365, func(f *File, i int) { f.Scheduler.FrequencyPeriodDays = i }),

	boolKey("load_balancing.enabled", func(f *File, b bool) { f.Scheduler.DisableLoadBalancing = !b }),
	{key: "load_balancing.daily_cap_percentage", kind: kindFloat, min: 0, minOpen: true, max: 1,
		set: func(f *File, v value) { f.Scheduler.LoadBalancing.DailyCapPercentage = v.f }},
	intKey("load_balancing.ed_soft_limit", 1, 1_000_000_000, func(f *File, i int) { f.Scheduler.LoadBalancing.EDSoftLimit = i }),
	intKey("load_balancing.ed_smoothing_window_days", 1, 30, func(f *File, i int) { f.Scheduler.LoadBalancing.EDSmoothingWindowDays = i }),
	{key: "load_balancing.overage_threshold", kind: kindFloat, min: 1, max: 10,
		set: func(f *File, v value) { f.Scheduler.LoadBalancing.OverageThreshold = v.f }},
	intKey("load_balancing.overflow_horizon_days", 1, 365, func(f *File, i int) { f.Scheduler.LoadBalancing.OverflowHorizonDays = i }),
	boolKey("load_balancing.full_counting_pass", func(f *File, b bool) { f.Scheduler.FullCountingPass = b }),

	stringKey("backup.dir", anyString, func(f *File, s string) { f.Backup.Dir = s }),
	intKey("backup.retention_days", 0, 3650, func(f *File, i int) { f.Backup.RetentionDays = i }),
}

// fieldByKey returns the schema entry of a dotted key.
func fieldByKey(key string) (field, bool) {
	for _, fd := range schema {
		if fd.key == key {
			return fd, true
		}
	}
	return field{}, false
}

// isSection reports whether key names a section (a mapping of keys).
func isSection(key string) bool {
	return len(keysIn(key+".")) > 0
}

// keysIn lists the keys directly inside the section prefix ("" for the
// top level, "timing." for a section), in schema order.
func keysIn(prefix string) []string {
	var out []string
	for _, fd := range schema {
		rest, ok := strings.CutPrefix(fd.key, prefix)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, ".")
		if len(out) == 0 || out[len(out)-1] != name {
			out = append(out, name)
		}
	}
	return out
}
