package loadbalance

import (
	"testing"

	"github.com/emailsched/emailsched/datecalc"
)

func TestSheds(t *testing.T) {
	today := datecalc.MustNew(2025, 1, 1)
	c := NewCounter(today)
	crowded, quiet := today.AddDays(10), today.AddDays(11)
	for i := 0; i < 50; i++ {
		c.Add(Candidate{Date: crowded, Priority: 10})
	}
	c.Add(Candidate{Date: quiet, Priority: 10})
	p, err := NewPlan(c, Config{ValidContacts: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		day  datecalc.Date
		want bool
	}{
		{crowded, true}, {quiet, false}, {today.AddDays(-1), false}, {today.AddDays(MaxHorizonDays + 5), false},
	} {
		if got := p.Sheds(tc.day); got != tc.want {
			t.Errorf("Sheds(%v) = %v, want %v", tc.day, got, tc.want)
		}
	}
}
