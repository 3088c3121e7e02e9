package loadbalance

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/emailsched/emailsched/datecalc"
)

// benchContacts and its plan give 7,000,000 emails: every contact has two,
// every third a third one.
const benchContacts = 3_000_000

// cpuTime returns the process's user plus system CPU time: on a shared,
// loaded machine it is steadier than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// splitmix64 is a cheap, fixed pseudo-random mix for the benchmark plan.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// benchPlan appends the pre-scheduled emails of contact id to cs: a
// birthday and an effective_date email spread over the year (the ED one
// bounded by its anniversary 30 days later), and for every third contact a
// campaign email on one trigger day: 1,000,000 emails on a day whose cap is
// 210,000, so that day sheds about 790,000 emails over the following days.
func benchPlan(cs []Candidate, today datecalc.Date, id int64) []Candidate {
	h := splitmix64(uint64(id))
	b := today.AddDays(int(h % 365))
	e := today.AddDays(int(h >> 20 % 365))
	cs = append(cs,
		Candidate{Date: b, Latest: b.AddDays(14), Priority: 10, Hash: h},
		Candidate{Date: e, Latest: e.AddDays(30), Priority: 10, Hash: h >> 7, IsED: true})
	if id%3 == 0 {
		cs = append(cs, Candidate{Date: today.AddDays(200), Priority: 40, Hash: h >> 13})
	}
	return cs
}

// BenchmarkBalance7M balances 7,000,000 planned emails of 3,000,000
// contacts over one year, both passes, with a trivial legality callback.
// "generate" measures the plan generator alone, to be subtracted.
// Run: go test -bench BenchmarkBalance7M -benchmem -run '^$' ./loadbalance
func BenchmarkBalance7M(b *testing.B) {
	today := datecalc.MustNew(2025, 1, 1)
	legal := func(int, datecalc.Date) bool { return true }
	b.Run("generate", func(b *testing.B) {
		var cs []Candidate
		n := 0
		cpu0 := cpuTime()
		for b.Loop() {
			for pass := 0; pass < 2; pass++ {
				for id := int64(1); id <= benchContacts; id++ {
					cs = benchPlan(cs[:0], today, id)
					n += len(cs)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n/2), "ns/email")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(n/2), "cpu-ns/email")
	})
	b.Run("balance", func(b *testing.B) {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base, peak := ms.HeapAlloc, uint64(0)
		sample := func() {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
		}
		var cs []Candidate
		emails, moved := 0, 0
		cpu0 := cpuTime()
		for b.Loop() {
			c := NewCounter(today)
			for id := int64(1); id <= benchContacts; id++ {
				cs = benchPlan(cs[:0], today, id)
				for _, e := range cs {
					c.Add(e)
				}
			}
			p, err := NewPlan(c, Config{ValidContacts: benchContacts})
			if err != nil {
				b.Fatal(err)
			}
			for id := int64(1); id <= benchContacts; id++ {
				cs = benchPlan(cs[:0], today, id)
				emails += len(cs)
				n, err := p.Place(id, cs, legal)
				if err != nil {
					b.Fatal(err)
				}
				moved += n
				if id%500_000 == 0 {
					sample()
				}
			}
			r := p.Report()
			if r.DaysOverThresholdAfter != 0 {
				b.Fatalf("%d days still over the threshold", r.DaysOverThresholdAfter)
			}
			sample()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(emails), "ns/email")
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(emails), "cpu-ns/email")
		b.ReportMetric(float64(moved)/float64(b.N), "moved/op")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	})
}
