package rules_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched/rules"
)

func TestAnchorString(t *testing.T) {
	tests := []struct {
		a    rules.Anchor
		want string
	}{
		{rules.AnchorBirthday, "birthday"},
		{rules.AnchorEffectiveDate, "effective_date"},
		{rules.Anchor{}, "Anchor(none)"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestWindowConstructors(t *testing.T) {
	tests := []struct {
		name string
		got  rules.Window
		want rules.Window
	}{
		{"birthday", rules.BirthdayWindow(30, 60), rules.Window{Anchor: rules.AnchorBirthday, Before: 30, After: 60}},
		{"effective date", rules.EffectiveDateWindow(30, 33), rules.Window{Anchor: rules.AnchorEffectiveDate, Before: 30, After: 33}},
		{"month start", rules.BirthdayWindow(0, 60).MonthStart(), rules.Window{Anchor: rules.AnchorBirthday, After: 60, FromMonthStart: true}},
		{"own buffer", rules.BirthdayWindow(0, 60).WithBuffer(0), rules.Window{Anchor: rules.AnchorBirthday, After: 60, OwnBuffer: true}},
		{"both", rules.EffectiveDateWindow(1, 2).MonthStart().WithBuffer(3), rules.Window{Anchor: rules.AnchorEffectiveDate, Before: 1, After: 2, FromMonthStart: true, OwnBuffer: true, Buffer: 3}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	// The methods have value receivers: the original is unchanged.
	w := rules.BirthdayWindow(0, 1)
	_ = w.MonthStart()
	_ = w.WithBuffer(5)
	if w != rules.BirthdayWindow(0, 1) {
		t.Errorf("MonthStart/WithBuffer modified their receiver: %+v", w)
	}
}

func TestWindowString(t *testing.T) {
	tests := []struct {
		w    rules.Window
		want string
	}{
		{rules.BirthdayWindow(30, 60), "birthday_window(30, 60)"},
		{rules.EffectiveDateWindow(30, 33), "effective_date_window(30, 33)"},
		{rules.BirthdayWindow(0, 60).MonthStart(), "birthday_window(0, 60).from_month_start()"},
		{rules.BirthdayWindow(0, 60).WithBuffer(10), "birthday_window(0, 60).buffer(10)"},
		{rules.BirthdayWindow(0, 60).MonthStart().WithBuffer(0), "birthday_window(0, 60).from_month_start().buffer(0)"},
		{rules.Window{Before: 1, After: 2}, "Anchor(none)_window(1, 2)"},
	}
	for _, tt := range tests {
		if got := tt.w.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.w, got, tt.want)
		}
	}
}

func TestWindowValidate(t *testing.T) {
	tests := []struct {
		name    string
		w       rules.Window
		wantErr string // "" means valid
	}{
		{"zero days", rules.BirthdayWindow(0, 0), ""},
		{"max days", rules.BirthdayWindow(rules.MaxWindowDays, rules.MaxWindowDays).WithBuffer(rules.MaxWindowDays), ""},
		{"effective date", rules.EffectiveDateWindow(30, 33), ""},
		{"no anchor", rules.Window{Before: 1, After: 1}, "no anchor"},
		{"negative before", rules.BirthdayWindow(-1, 0), "days before is -1, must be 0-366"},
		{"negative after", rules.BirthdayWindow(0, -1), "days after is -1, must be 0-366"},
		{"before too long", rules.BirthdayWindow(367, 0), "days before is 367"},
		{"after too long", rules.EffectiveDateWindow(0, 367), "days after is 367"},
		{"negative own buffer", rules.BirthdayWindow(0, 0).WithBuffer(-1), "buffer is -1"},
		{"own buffer too long", rules.BirthdayWindow(0, 0).WithBuffer(367), "buffer is 367"},
		// A buffer without OwnBuffer would be silently ignored: rejected.
		{"buffer without OwnBuffer", rules.Window{Anchor: rules.AnchorBirthday, Buffer: 5}, "buffer 5 set without OwnBuffer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.w.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				if err := rules.Windows(tt.w).Validate(); err != nil {
					t.Errorf("Windows(w).Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
			// A rule is invalid when any of its windows is.
			if err := rules.Windows(rules.BirthdayWindow(0, 1), tt.w).Validate(); err == nil {
				t.Errorf("Windows(ok, w).Validate() = nil, want an error")
			}
		})
	}
}

func TestRuleKindsAndString(t *testing.T) {
	tests := []struct {
		name    string
		r       rules.Rule
		kind    rules.Kind
		windows []rules.Window
		str     string
	}{
		{"zero", rules.Rule{}, rules.KindNone, nil, "no_exclusion()"},
		{"none", rules.NoExclusion(), rules.KindNone, nil, "no_exclusion()"},
		{"no windows", rules.Windows(), rules.KindNone, nil, "no_exclusion()"},
		{"year round", rules.YearRound(), rules.KindYearRound, nil, "year_round()"},
		{"one window", rules.Windows(rules.BirthdayWindow(30, 60)), rules.KindWindows, []rules.Window{rules.BirthdayWindow(30, 60)}, "birthday_window(30, 60)"},
		{"two windows", rules.Windows(rules.BirthdayWindow(0, 60).MonthStart(), rules.EffectiveDateWindow(30, 33).WithBuffer(7)),
			rules.KindWindows,
			[]rules.Window{rules.BirthdayWindow(0, 60).MonthStart(), rules.EffectiveDateWindow(30, 33).WithBuffer(7)},
			"birthday_window(0, 60).from_month_start() + effective_date_window(30, 33).buffer(7)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Kind(); got != tt.kind {
				t.Errorf("Kind() = %d, want %d", got, tt.kind)
			}
			if diff := cmp.Diff(tt.windows, tt.r.Windows()); diff != "" {
				t.Errorf("Windows() (-want +got):\n%s", diff)
			}
			if got := tt.r.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if err := tt.r.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
			if !tt.r.Equal(tt.r) {
				t.Errorf("rule is not Equal to itself")
			}
		})
	}
	if zero := (rules.Rule{}); zero.Kind() != rules.KindNone || !zero.Equal(rules.NoExclusion()) {
		t.Error("the zero Rule is not NoExclusion")
	}
}

func TestWindowsCopiesItsArgument(t *testing.T) {
	ws := []rules.Window{rules.BirthdayWindow(1, 2)}
	r := rules.Windows(ws...)
	ws[0] = rules.BirthdayWindow(3, 4)
	if got := r.Windows()[0]; got != rules.BirthdayWindow(1, 2) {
		t.Errorf("Windows kept a reference to its argument: %v", got)
	}
}

func TestRuleEqual(t *testing.T) {
	a := rules.Windows(rules.BirthdayWindow(30, 60))
	tests := []struct {
		name string
		x, y rules.Rule
		want bool
	}{
		{"same windows", a, rules.Windows(rules.BirthdayWindow(30, 60)), true},
		{"none and zero", rules.NoExclusion(), rules.Rule{}, true},
		{"none and no windows", rules.NoExclusion(), rules.Windows(), true},
		{"year round", rules.YearRound(), rules.YearRound(), true},
		{"kinds differ", rules.YearRound(), rules.NoExclusion(), false},
		{"windows and year round", a, rules.YearRound(), false},
		{"days differ", a, rules.Windows(rules.BirthdayWindow(30, 61)), false},
		{"anchor differs", a, rules.Windows(rules.EffectiveDateWindow(30, 60)), false},
		{"month start differs", a, rules.Windows(rules.BirthdayWindow(30, 60).MonthStart()), false},
		{"own buffer differs", a, rules.Windows(rules.BirthdayWindow(30, 60).WithBuffer(60)), false},
		{"count differs", a, rules.Windows(rules.BirthdayWindow(30, 60), rules.BirthdayWindow(30, 60)), false},
		{"order differs", rules.Windows(rules.BirthdayWindow(1, 1), rules.EffectiveDateWindow(1, 1)), rules.Windows(rules.EffectiveDateWindow(1, 1), rules.BirthdayWindow(1, 1)), false},
	}
	for _, tt := range tests {
		if got := tt.x.Equal(tt.y); got != tt.want {
			t.Errorf("%s: %v.Equal(%v) = %v, want %v", tt.name, tt.x, tt.y, got, tt.want)
		}
		if got := tt.y.Equal(tt.x); got != tt.want {
			t.Errorf("%s: Equal is not symmetric", tt.name)
		}
	}
}
