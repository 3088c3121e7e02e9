package scheduler

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/emailsched/emailsched/datecalc"
)

// ParamKind is the kind of value a plan parameter takes.
type ParamKind uint8

// The kinds of parameters, with their Config field type and how a
// configuration file writes them.
const (
	// KindInt: *int, an integer.
	KindInt ParamKind = iota + 1
	// KindNumber: *float64, a number.
	KindNumber
	// KindBool: bool, true or false.
	KindBool
	// KindTimeZone: *time.Location, an IANA time zone name.
	KindTimeZone
	// KindTimeOfDay: string, "HH:MM" (24 h).
	KindTimeOfDay
	// KindMonthDays: []MonthDay, a list of "MM-DD".
	KindMonthDays
	// KindMonthDay: *MonthDay, one "MM-DD".
	KindMonthDay
)

// Param declares one parameter of a Scheduler, once: the Config field that
// holds it, its key in a configuration file (scheduler/configfile), its
// default, its allowed range and what it means. Config's validation, the
// configuration file's reader and its reference file
// (testdata/scheduler.yaml) all come from the table Params returns.
type Param struct {
	// Field is the name of the Config field.
	Field string
	// Key is the dotted key of a configuration file
	// ("timing.birthday_days_before").
	Key  string
	Kind ParamKind
	// Default is the value of an unset field: an int, float64, bool, or
	// string (a time zone name, "HH:MM", "MM-DD"), or []string of "MM-DD"
	// for KindMonthDays.
	Default any
	// Min and Max bound a number, both included; MinOpen excludes Min.
	Min, Max float64
	MinOpen  bool
	// Inverted marks a bool parameter whose Config field says the
	// opposite of its key (follow_ups.enabled is !DisableFollowUps), so
	// that the field's zero value is the default.
	Inverted bool
	// Plan marks a parameter that decides what the plan is (a date, a
	// priority, a limit), as opposed to how it is computed: a plan made
	// under other values is not this configuration's plan (see
	// Scheduler.PlanChecksum).
	Plan bool
	// Doc says what the parameter means, for the reference file and the
	// documentation: sentences, without the range, which Range gives.
	Doc string
}

// Range describes the allowed values, for messages and the reference
// file ("0-365", "greater than 0 and at most 100", "true or false").
func (p Param) Range() string {
	switch p.Kind {
	case KindInt:
		return fmt.Sprintf("%s-%s", num(p.Min), num(p.Max))
	case KindNumber:
		if p.MinOpen {
			return fmt.Sprintf("greater than %s and at most %s", num(p.Min), num(p.Max))
		}
		return fmt.Sprintf("%s to %s", num(p.Min), num(p.Max))
	case KindBool:
		return "true or false"
	case KindTimeZone:
		return "an IANA time zone name"
	case KindTimeOfDay:
		return `"HH:MM" from "00:00" to "23:59"`
	case KindMonthDays:
		return `one or more days of the year "MM-DD"`
	}
	return `a day of the year "MM-DD"`
}

func num(f float64) string { return strings.TrimSuffix(fmt.Sprintf("%.10g", f), ".0") }

// Params returns the table of every parameter, in the order of the
// reference configuration file.
func Params() []Param { return slices.Clone(params) }

var params = []Param{
	{Field: "Location", Key: "time_zone", Kind: KindTimeZone, Default: "America/Chicago", Plan: true,
		Doc: `The organisation's time zone. "Today", the run date, is the calendar date there.`},
	{Field: "SendTime", Key: "send_time", Kind: KindTimeOfDay, Default: "08:30", Plan: true,
		Doc: "The local time of day emails are sent. Quote it: some YAML readers take 08:30 for a number."},
	{Field: "AEPDates", Key: "aep_dates", Kind: KindMonthDays, Default: []string{"09-15"}, Plan: true,
		Doc: "The days of the Annual Enrollment Period email (quote them). With several days, each contact " +
			"gets exactly one, chosen by a stable hash of its id. An AEP day that has passed this year belongs " +
			"to next year once its send window has ended."},
	{Field: "AEPLastDay", Key: "aep_last_day", Kind: KindMonthDay, Default: "09-30", Plan: true,
		Doc: "The last day of the AEP send window (quote it). A contact's AEP email goes out from its AEP day " +
			"to this day: load balancing spreads the AEP emails over the window, earliest days first, under " +
			"the daily cap, never into an exclusion period and never past this day. An AEP day after this " +
			"day is a window of its own day."},

	{Field: "BirthdayDaysBefore", Key: "timing.birthday_days_before", Kind: KindInt, Default: 14, Min: 0, Max: 365, Plan: true,
		Doc: "A birthday email is planned this many days before the birthday."},
	{Field: "EffectiveDateDaysBefore", Key: "timing.effective_date_days_before", Kind: KindInt, Default: 30, Min: 0, Max: 365, Plan: true,
		Doc: "An effective-date email is planned this many days before the policy's anniversary."},
	{Field: "CatchUpSpreadDays", Key: "timing.catch_up_spread_days", Kind: KindInt, Default: 7, Min: 1, Max: 90, Plan: true,
		Doc: "An email whose ideal day has passed while its event is still ahead is sent on one of the next " +
			"N days, today included, never after the event."},

	{Field: "BirthdayPriority", Key: "priorities.birthday", Kind: KindInt, Default: 10, Min: 0, Max: 1000, Plan: true,
		Doc: "The priority of birthday emails (lower is more important)."},
	{Field: "EffectiveDatePriority", Key: "priorities.effective_date", Kind: KindInt, Default: 10, Min: 0, Max: 1000, Plan: true,
		Doc: "The priority of effective-date emails."},
	{Field: "AEPPriority", Key: "priorities.aep", Kind: KindInt, Default: 20, Min: 0, Max: 1000, Plan: true,
		Doc: "The priority of AEP emails."},
	{Field: "PostWindowPriority", Key: "priorities.post_window", Kind: KindInt, Default: 30, Min: 0, Max: 1000, Plan: true,
		Doc: "The priority of the email after an exclusion window."},

	{Field: "DisableFollowUps", Key: "follow_ups.enabled", Kind: KindBool, Default: true, Inverted: true, Plan: true,
		Doc: "Plan follow-ups of the emails sent in the last lookback_days days."},
	{Field: "FollowUpDelayDays", Key: "follow_ups.delay_days", Kind: KindInt, Default: 2, Min: 0, Max: 60, Plan: true,
		Doc: "A follow-up goes out this many days after its initial email, or tomorrow when that day has passed."},
	{Field: "FollowUpLookbackDays", Key: "follow_ups.lookback_days", Kind: KindInt, Default: 35, Min: 1, Max: 365, Plan: true,
		Doc: "Emails sent in this many past days get follow-ups."},

	{Field: "DisableFrequencyLimit", Key: "frequency_limit.enabled", Kind: KindBool, Default: true, Inverted: true, Plan: true,
		Doc: "Limit the emails a contact gets: at most max_emails in any period_days consecutive days, history " +
			"included and follow-ups excluded; the least important are skipped."},
	{Field: "MaxEmailsPerPeriod", Key: "frequency_limit.max_emails", Kind: KindInt, Default: 2, Min: 1, Max: 100, Plan: true,
		Doc: "The most emails a contact gets in period_days days."},
	{Field: "FrequencyPeriodDays", Key: "frequency_limit.period_days", Kind: KindInt, Default: 14, Min: 1, Max: 365, Plan: true,
		Doc: "The length of the frequency limit's period, in days."},

	{Field: "DisableLoadBalancing", Key: "load_balancing.enabled", Kind: KindBool, Default: true, Inverted: true, Plan: true,
		Doc: "Spread the daily volume: move emails off days above the cap, never where a rule forbids them."},
	{Field: "DailyCapPercent", Key: "load_balancing.daily_cap_percent", Kind: KindNumber, Default: 7.0, Min: 0, MinOpen: true, Max: 100, Plan: true,
		Doc: "The daily cap, in percent of the valid contacts (7 means 7 %)."},
	{Field: "EDSoftLimit", Key: "load_balancing.ed_soft_limit", Kind: KindInt, Default: 15, Min: 1, Max: 1_000_000_000, Plan: true,
		Doc: "Effective-date emails of one day above min(this, 30 % of the cap) are spread over neighbouring days."},
	{Field: "EDSmoothingWindowDays", Key: "load_balancing.ed_smoothing_window_days", Kind: KindInt, Default: 2, Min: 1, Max: 30, Plan: true,
		Doc: "How far (in days, either way) a smoothed effective-date email may move."},
	{Field: "OverageThreshold", Key: "load_balancing.overage_threshold", Kind: KindNumber, Default: 1.2, Min: 1, Max: 10, Plan: true,
		Doc: "A day above cap × this moves its excess, least important first, to the following days that have room."},
	{Field: "OverflowHorizonDays", Key: "load_balancing.overflow_horizon_days", Kind: KindInt, Default: 30, Min: 1, Max: 365, Plan: true,
		Doc: "How many days later an overflowing email may move (never after its event)."},
	{Field: "FullCountingPass", Key: "load_balancing.full_counting_pass", Kind: KindBool, Default: false,
		Doc: "Always read and plan every contact twice (a counting pass for the per-day volume, then the pass " +
			"that writes) instead of starting from the volume stored with the last plan when it fits."},
}

// resolveParams returns c with every declared parameter set: unset fields
// take their default, set ones are checked against their range (every
// problem reported at once, each naming the field and its range).
func (c Config) resolveParams() (Config, []error) {
	v := reflect.ValueOf(&c).Elem()
	var errs []error
	for _, p := range params {
		f := v.FieldByName(p.Field)
		if msg := setDefault(p, f); msg != "" {
			sep := " "
			if strings.HasPrefix(msg, "[") {
				sep = "" // AEPDates[0] is ...
			}
			errs = append(errs, fmt.Errorf("%w: %s%s%s, must be %s", ErrInvalidConfig, p.Field, sep, msg, p.Range()))
		}
	}
	return c, errs
}

// setDefault gives f, the field of p, its default when it is unset, and
// says what is wrong with a value out of range ("" when it is fine).
func setDefault(p Param, f reflect.Value) string {
	switch p.Kind {
	case KindInt:
		if f.IsNil() {
			f.Set(reflect.ValueOf(Int(p.Default.(int))))
			return ""
		}
		if x := f.Elem().Int(); float64(x) < p.Min || float64(x) > p.Max {
			return fmt.Sprintf("is %d", x)
		}
	case KindNumber:
		if f.IsNil() {
			f.Set(reflect.ValueOf(Float(p.Default.(float64))))
			return ""
		}
		if x := f.Elem().Float(); math.IsNaN(x) || x < p.Min || p.MinOpen && x == p.Min || x > p.Max {
			return fmt.Sprintf("is %v", x)
		}
	case KindBool:
		// The zero value is the default: nothing to check.
	case KindTimeZone:
		if f.IsNil() {
			loc, _ := time.LoadLocation(p.Default.(string)) // cannot fail: time/tzdata is linked in
			f.Set(reflect.ValueOf(loc))
		}
	case KindTimeOfDay:
		if f.String() == "" {
			f.SetString(p.Default.(string))
			return ""
		}
		if t, err := time.Parse("15:04", f.String()); err != nil || t.Format("15:04") != f.String() {
			return fmt.Sprintf("is %q", f.String())
		}
	case KindMonthDays:
		if f.Len() == 0 {
			var mds []MonthDay
			for _, s := range p.Default.([]string) {
				md, _ := ParseMonthDay(s)
				mds = append(mds, md)
			}
			f.Set(reflect.ValueOf(mds))
			return ""
		}
		for i := range f.Len() {
			md := f.Index(i).Interface().(MonthDay)
			if !md.Valid() {
				return fmt.Sprintf("[%d] is %d-%d, each", i, int(md.Month), md.Day)
			}
		}
	case KindMonthDay:
		if f.IsNil() {
			md, _ := ParseMonthDay(p.Default.(string))
			f.Set(reflect.ValueOf(&md))
			return ""
		}
		if md := f.Elem().Interface().(MonthDay); !md.Valid() {
			return fmt.Sprintf("is %d-%d", int(md.Month), md.Day)
		}
	}
	return ""
}

// Valid reports whether md is a day of the year (Feb 29 included).
func (md MonthDay) Valid() bool {
	return md.Month >= time.January && md.Month <= time.December && md.Day >= 1 && md.Day <= datecalc.DaysIn(2024, md.Month)
}

// ParseMonthDay reads "MM-DD".
func ParseMonthDay(s string) (MonthDay, error) {
	var md MonthDay
	var m, d int
	if len(s) != 5 || s[2] != '-' {
		return md, fmt.Errorf("scheduler: %q is not a day \"MM-DD\"", s)
	}
	if _, err := fmt.Sscanf(s, "%2d-%2d", &m, &d); err != nil {
		return md, fmt.Errorf("scheduler: %q is not a day \"MM-DD\"", s)
	}
	md = MonthDay{Month: time.Month(m), Day: d}
	if !md.Valid() || s[0] < '0' || s[0] > '9' || s[3] < '0' || s[3] > '9' {
		return MonthDay{}, fmt.Errorf("scheduler: %q is not a day of the year \"MM-DD\"", s)
	}
	return md, nil
}

// Float returns a pointer to v, for the Config fields of numbers.
func Float(v float64) *float64 { return &v }

// WithDefaults returns c with every parameter that is unset set to its
// default (see Params), or the errors New would report. Fields that are not
// parameters (Rules, Clock, Logger, ...) are left as they are.
func (c Config) WithDefaults() (Config, error) {
	r, errs := c.resolveParams()
	return r, errors.Join(errs...)
}

// ParamValue returns the value of parameter p in c, as a configuration file
// writes it: an int, float64, bool, string (a time zone's name, "HH:MM",
// "MM-DD") or []string ("MM-DD" each); nil for a parameter c leaves unset
// (see WithDefaults).
func (c Config) ParamValue(p Param) any {
	f := reflect.ValueOf(&c).Elem().FieldByName(p.Field)
	switch p.Kind {
	case KindInt, KindNumber, KindTimeZone, KindMonthDay:
		if f.IsNil() {
			return nil
		}
	}
	switch p.Kind {
	case KindInt:
		return int(f.Elem().Int())
	case KindNumber:
		return f.Elem().Float()
	case KindBool:
		return f.Bool() != p.Inverted
	case KindTimeZone:
		return f.Interface().(*time.Location).String()
	case KindTimeOfDay:
		return f.String()
	case KindMonthDays:
		var out []string
		for _, md := range f.Interface().([]MonthDay) {
			out = append(out, md.String())
		}
		return out
	}
	return f.Elem().Interface().(MonthDay).String()
}
