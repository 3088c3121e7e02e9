package scheduler

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/memory"
)

// BenchmarkPlan measures the planner alone, per contact, on the contacts
// and campaigns of BenchmarkRun with the DSL default rules: the planning
// pass and the counting pass of load balancing, which skips the work that
// does not change the counted days (issue 7).
//
//	go test -run '^$' -bench BenchmarkPlan -benchmem -cpu 1 ./scheduler
func BenchmarkPlan(b *testing.B) {
	const n = 20_000
	today := demodata.DefaultToday
	cat := demodata.DemoCampaigns(today)
	m, err := memory.New(demodata.Generate(demodata.GenOptions{Seed: 1, Contacts: n, Campaigns: cat}), cat)
	if err != nil {
		b.Fatal(err)
	}
	// The memory store assigns the history rows' IDs, which follow-ups need.
	contacts := make([]emailsched.Contact, 0, n)
	for c, err := range m.Contacts(context.Background()) {
		if err != nil {
			b.Fatal(err)
		}
		contacts = append(contacts, *c)
	}
	s := mustSettings(b, Config{Rules: dsl.Default()})
	camp := newCampaignSet(cat, today)
	for _, pass := range []string{PassPlanning, PassCounting} {
		b.Run(pass, func(b *testing.B) {
			p := newPlanner(s, today, camp)
			p.counting = pass == PassCounting
			var o outcome
			b.ReportAllocs()
			for b.Loop() {
				for i := range contacts {
					p.plan(&contacts[i], &o)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/contact")
		})
	}
}

// TestKeepsLimit checks the shortcut of applyFrequency against brute force:
// keepsLimit is true exactly when no window of period days holds more than
// max of the days, and then admitting the days one by one with
// fitsFrequency, in the given order, admits every one.
func TestKeepsLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	base := datecalc.MustNew(2025, 3, 3)
	for range 20_000 {
		days := make([]datecalc.Date, rng.IntN(8))
		for i := range days {
			days[i] = base.AddDays(rng.IntN(40))
		}
		max, period := 1+rng.IntN(3), 1+rng.IntN(20)
		want := true
		for s := base.AddDays(-period); !s.After(base.AddDays(40)); s = s.AddDays(1) {
			if countIn(days, s, period) > max {
				want = false
			}
		}
		if got := keepsLimit(slices.Clone(days), max, period); got != want {
			t.Fatalf("keepsLimit(%v, %d, %d) = %v, want %v", days, max, period, got, want)
		}
		if !want {
			continue
		}
		var admitted []datecalc.Date
		for _, d := range days {
			if !fitsFrequency(admitted, d, max, period) {
				t.Fatalf("days %v keep the limit %d in %d days, but %v is refused after %v", days, max, period, d, admitted)
			}
			admitted = append(admitted, d)
		}
	}
}
