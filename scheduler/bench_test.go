package scheduler_test

import (
	"context"
	"testing"

	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/memory"
)

// BenchmarkRun plans 100,000 generated contacts from the memory source into
// a discarding sink, with every feature at work (see benchStore); the
// ns/contact metric is the unit of the target (issue 7: at most 1 µs on one
// core with the DSL rules).
//
//	go test -run '^$' -bench BenchmarkRun -benchmem -cpu 1 ./scheduler
func BenchmarkRun(b *testing.B) {
	const n = 100_000
	m := benchStore(b, n)
	benchmarkRun(b, scheduler.Config{}, m, n)
}

// BenchmarkRunDSLRules is BenchmarkRun with the rules read from the
// embedded default.rules instead of the Go-built set: the DSL must cost no
// more than 1.3 times as much (issue 3).
func BenchmarkRunDSLRules(b *testing.B) {
	const n = 100_000
	m := benchStore(b, n)
	benchmarkRun(b, scheduler.Config{Rules: dsl.Default()}, m, n)
}

// BenchmarkRunNoBalancing is BenchmarkRun in one pass, without load
// balancing: the cost of planning alone.
func BenchmarkRunNoBalancing(b *testing.B) {
	const n = 100_000
	m := benchStore(b, n)
	benchmarkRun(b, scheduler.Config{DisableLoadBalancing: true}, m, n)
}

// benchStore holds n generated contacts and the demo campaign catalogue
// they are enrolled in, so that a run exercises everything a real one does:
// anniversaries, campaigns (targeted and target-all), follow-ups,
// exclusions, post-window emails, conflicts, the frequency limit and, unless
// disabled, load balancing.
func benchStore(b *testing.B, n int) *memory.Store {
	cat := demodata.DemoCampaigns(demodata.DefaultToday)
	m, err := memory.New(demodata.Generate(demodata.GenOptions{Seed: 1, Contacts: n, Campaigns: cat}), cat)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func benchmarkRun(b *testing.B, cfg scheduler.Config, src store.ContactSource, n int) {
	s, err := scheduler.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		rep, err := s.RunAt(ctx, demodata.DefaultToday, src, store.Discard{})
		if err != nil || rep.Contacts != n {
			b.Fatal(err, rep.Contacts)
		}
	}
	b.StopTimer()
	// Report per contact, the unit of the target, in wall and CPU time (the
	// latter includes the garbage collector's work on other threads).
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/contact")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/contact")
}
