package emailsched_test

import (
	"testing"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

func TestCampaignInstanceActiveOn(t *testing.T) {
	d := func(m time.Month, day int) datecalc.Date { return datecalc.MustNew(2025, m, day) }
	var open datecalc.Date
	tests := []struct {
		name       string
		start, end datecalc.Date
		day        datecalc.Date
		want       bool
	}{
		{"both open", open, open, d(1, 1), true},
		{"both open, far past", open, open, datecalc.MustNew(1, 1, 1), true},
		{"both open, far future", open, open, datecalc.MustNew(9999, 12, 31), true},

		{"open start, before end", open, d(3, 31), d(1, 1), true},
		{"open start, on end", open, d(3, 31), d(3, 31), true},
		{"open start, day after end", open, d(3, 31), d(4, 1), false},

		{"open end, day before start", d(3, 1), open, d(2, 28), false},
		{"open end, on start", d(3, 1), open, d(3, 1), true},
		{"open end, after start", d(3, 1), open, d(12, 31), true},

		{"closed, day before start", d(3, 1), d(3, 31), d(2, 28), false},
		{"closed, on start", d(3, 1), d(3, 31), d(3, 1), true},
		{"closed, inside", d(3, 1), d(3, 31), d(3, 15), true},
		{"closed, on end", d(3, 1), d(3, 31), d(3, 31), true},
		{"closed, day after end", d(3, 1), d(3, 31), d(4, 1), false},
		{"single day, on it", d(6, 6), d(6, 6), d(6, 6), true},
		{"single day, before", d(6, 6), d(6, 6), d(6, 5), false},
		{"single day, after", d(6, 6), d(6, 6), d(6, 7), false},
		{"end before start", d(6, 6), d(6, 1), d(6, 3), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ci := emailsched.CampaignInstance{ID: 1, Type: "rate_increase", Start: tc.start, End: tc.end}
			if got := ci.ActiveOn(tc.day); got != tc.want {
				t.Errorf("[%v, %v].ActiveOn(%v) = %v, want %v", tc.start, tc.end, tc.day, got, tc.want)
			}
		})
	}
}
