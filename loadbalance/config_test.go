package loadbalance

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLimitsFor(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want Limits
	}{
		{"3M contacts, defaults", Config{ValidContacts: 3_000_000}, Limits{Cap: 210_000, Threshold: 252_000, EDSoftLimit: 15}},
		{"small org: 30 % of cap binds", Config{ValidContacts: 100}, Limits{Cap: 7, Threshold: 8, EDSoftLimit: 3}},
		{"cap 10: 0.3 × 10 is exactly 3", Config{ValidContacts: 10, DailyCapFraction: 1}, Limits{Cap: 10, Threshold: 12, EDSoftLimit: 3}},
		{"ceil of a fraction", Config{ValidContacts: 101}, Limits{Cap: 8, Threshold: 9, EDSoftLimit: 3}},
		{"no contacts", Config{}, Limits{}},
		{"threshold 1", Config{ValidContacts: 1000, OverageThreshold: 1, EDSoftLimit: 4}, Limits{Cap: 70, Threshold: 70, EDSoftLimit: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LimitsFor(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("LimitsFor(%+v) (-want +got):\n%s", tt.cfg, diff)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string // substring of the error: the field and its range
	}{
		{Config{ValidContacts: -1}, "ValidContacts -1 must be 0 or more"},
		{Config{DailyCapFraction: -0.1}, "DailyCapFraction -0.1 must be in (0, 1]"},
		{Config{DailyCapFraction: 7}, "DailyCapFraction 7 must be in (0, 1]"},
		{Config{DailyCapFraction: math.NaN()}, "DailyCapFraction NaN"},
		{Config{EDSoftLimit: -3}, "EDSoftLimit -3 must be in 1-1000000000"},
		{Config{EDSmoothingWindowDays: 31}, "EDSmoothingWindowDays 31 must be in 1-30"},
		{Config{OverageThreshold: 0.5}, "OverageThreshold 0.5 must be in [1, 10]"},
		{Config{OverageThreshold: math.Inf(1)}, "OverageThreshold +Inf"},
		{Config{OverflowHorizonDays: 366}, "OverflowHorizonDays 366 must be in 1-365"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := LimitsFor(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LimitsFor(%+v) error = %v, want it to contain %q", tt.cfg, err, tt.want)
			}
			if _, err := NewPlan(NewCounter(d(2025, 1, 1)), tt.cfg); err == nil {
				t.Errorf("NewPlan accepted %+v", tt.cfg)
			}
			if _, _, err := Balance(d(2025, 1, 1), tt.cfg, nil, nil); err == nil {
				t.Errorf("Balance accepted %+v", tt.cfg)
			}
		})
	}
}
