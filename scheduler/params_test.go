package scheduler

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParamsMatchConfig: every parameter names a Config field of the Go
// type its kind needs, every field is a parameter or one of the few that
// are not configuration, and the defaults are in range: the table and
// the struct cannot drift apart.
func TestParamsMatchConfig(t *testing.T) {
	types := map[ParamKind]reflect.Type{
		KindInt: reflect.TypeFor[*int](), KindNumber: reflect.TypeFor[*float64](), KindBool: reflect.TypeFor[bool](),
		KindTimeZone: reflect.TypeFor[*time.Location](), KindTimeOfDay: reflect.TypeFor[string](),
		KindMonthDays: reflect.TypeFor[[]MonthDay](), KindMonthDay: reflect.TypeFor[*MonthDay](),
	}
	notParams := []string{"Rules", "Clock", "NewRunID", "Workers", "Progress", "ProgressEvery", "Logger"}
	ct := reflect.TypeFor[Config]()
	seen := map[string]bool{}
	keys := map[string]bool{}
	for _, p := range Params() {
		f, ok := ct.FieldByName(p.Field)
		if !ok {
			t.Errorf("parameter %s: Config has no field %s", p.Key, p.Field)
			continue
		}
		if f.Type != types[p.Kind] {
			t.Errorf("parameter %s: field %s is a %s, its kind needs a %s", p.Key, p.Field, f.Type, types[p.Kind])
		}
		if seen[p.Field] || keys[p.Key] {
			t.Errorf("parameter %s (%s) declared twice", p.Key, p.Field)
		}
		seen[p.Field], keys[p.Key] = true, true
		if p.Doc == "" || !strings.HasSuffix(p.Doc, ".") {
			t.Errorf("parameter %s: its doc %q is not a sentence", p.Key, p.Doc)
		}
		if p.Inverted && p.Kind != KindBool {
			t.Errorf("parameter %s: only a bool can be inverted", p.Key)
		}
	}
	for i := range ct.NumField() {
		if name := ct.Field(i).Name; !seen[name] && !slices.Contains(notParams, name) {
			t.Errorf("Config.%s is neither a parameter nor known not to be one", name)
		}
	}
	// The defaults are valid: the zero Config resolves without a problem,
	// and gives back each parameter's default.
	c, err := Config{}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range params {
		want := p.Default
		if p.Kind == KindMonthDay || p.Kind == KindTimeZone || p.Kind == KindTimeOfDay {
			want = p.Default.(string)
		}
		if diff := cmp.Diff(want, c.ParamValue(p)); diff != "" {
			t.Errorf("parameter %s: default (-declared +resolved):\n%s", p.Key, diff)
		}
		if (Config{}).ParamValue(p) != nil && p.Kind != KindBool && p.Kind != KindTimeOfDay && p.Kind != KindMonthDays {
			t.Errorf("parameter %s: the value of an unset field is not nil", p.Key)
		}
	}
}

func TestParamRanges(t *testing.T) {
	for _, tc := range []struct {
		p    Param
		want string
	}{
		{Param{Kind: KindInt, Min: 0, Max: 365}, "0-365"},
		{Param{Kind: KindNumber, Min: 1, Max: 10}, "1 to 10"},
		{Param{Kind: KindNumber, Min: 0, MinOpen: true, Max: 100}, "greater than 0 and at most 100"},
		{Param{Kind: KindBool}, "true or false"},
		{Param{Kind: KindTimeZone}, "an IANA time zone name"},
		{Param{Kind: KindTimeOfDay}, `"HH:MM" from "00:00" to "23:59"`},
		{Param{Kind: KindMonthDays}, `one or more days of the year "MM-DD"`},
		{Param{Kind: KindMonthDay}, `a day of the year "MM-DD"`},
	} {
		if got := tc.p.Range(); got != tc.want {
			t.Errorf("Range of %+v = %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestParamValidation: every kind's value out of range is reported,
// naming the field and the range.
func TestParamValidation(t *testing.T) {
	md := MonthDay{Month: 2, Day: 30}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"nan", Config{DailyCapPercent: Float(math.NaN())}, "DailyCapPercent is NaN, must be greater than 0 and at most 100"},
		{"zero open", Config{DailyCapPercent: Float(0)}, "DailyCapPercent is 0, must be greater than 0"},
		{"above", Config{OverageThreshold: Float(11)}, "OverageThreshold is 11, must be 1 to 10"},
		{"int", Config{EDSoftLimit: Int(0)}, "EDSoftLimit is 0, must be 1-1000000000"},
		{"days", Config{AEPDates: []MonthDay{{9, 15}, md}}, `AEPDates[1] is 2-30, each, must be one or more days of the year "MM-DD"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.WithDefaults()
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("WithDefaults: %v, want an error saying %q", err, tc.want)
			}
		})
	}
	// A parameter of one day, which no Config field has yet: checked
	// through the generic code all the same.
	p := Param{Field: "X", Kind: KindMonthDay, Default: "09-30"}
	var holder struct{ X *MonthDay }
	f := reflect.ValueOf(&holder).Elem().Field(0)
	if msg := setDefault(p, f); msg != "" || *holder.X != (MonthDay{9, 30}) {
		t.Errorf("default of a day: %q, %v", msg, holder.X)
	}
	holder.X = &md
	if msg := setDefault(p, f); msg != "is 2-30" {
		t.Errorf("a day out of range: %q", msg)
	}
}

func TestParseMonthDay(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want MonthDay
		ok   bool
	}{
		{"09-15", MonthDay{9, 15}, true}, {"02-29", MonthDay{2, 29}, true}, {"12-31", MonthDay{12, 31}, true},
		{"9-15", MonthDay{}, false}, {"09/15", MonthDay{}, false}, {"13-01", MonthDay{}, false}, {"02-30", MonthDay{}, false},
		{"00-10", MonthDay{}, false}, {"ab-cd", MonthDay{}, false}, {" 9-15", MonthDay{}, false}, {"09- 5", MonthDay{}, false},
		{"", MonthDay{}, false},
	} {
		got, err := ParseMonthDay(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseMonthDay(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
