package scheduler

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/memory"
)

// TestWorkersDoNotChangeThePlan: the plan and the report are the same with
// one goroutine and with several.
func TestWorkersDoNotChangeThePlan(t *testing.T) {
	today := demodata.DefaultToday
	cat := demodata.DemoCampaigns(today)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 11, Contacts: 3000, Today: today, Campaigns: cat, StoredFraction: 0.3})
	var plans [][]emailsched.Email
	var reports []*Report
	for _, workers := range []int{1, 2, 5} {
		m, err := memory.New(contacts, cat)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := newTestScheduler(t, Config{Workers: Int(workers)}).RunAt(context.Background(), today, m, m)
		if err != nil {
			t.Fatal(err)
		}
		rep.Timings = Timings{}
		plans = append(plans, m.Plan())
		reports = append(reports, rep)
	}
	for i := 1; i < len(plans); i++ {
		if diff := cmp.Diff(plans[0], plans[i]); diff != "" {
			t.Errorf("plan with %d workers differs (-1 +n):\n%s", []int{1, 2, 5}[i], diff)
		}
		if diff := cmp.Diff(reports[0], reports[i]); diff != "" {
			t.Errorf("report differs (-1 +n):\n%s", diff)
		}
	}
}

// failAfter yields n contacts of cs, then an error.
type failAfter struct {
	cs []emailsched.Contact
	n  int
}

func (f failAfter) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	return func(yield func(*emailsched.Contact, error) bool) {
		for i := range f.cs {
			if i == f.n {
				yield(nil, errors.New("disk on fire"))
				return
			}
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if !yield(&f.cs[i], nil) {
				return
			}
		}
	}
}

func TestPipelineFailures(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprint(workers, " workers"), func(t *testing.T) { testPipelineFailures(t, workers) })
	}
}

func testPipelineFailures(t *testing.T, workers int) {
	base := runtime.NumGoroutine()
	contacts := demodata.Generate(demodata.GenOptions{Seed: 5, Contacts: 3000})
	cfg := Config{Workers: Int(workers), DisableLoadBalancing: true}
	// The source fails after several batches.
	_, err := newTestScheduler(t, cfg).RunAt(context.Background(), demodata.DefaultToday, failAfter{contacts, 2000}, &fakeSink{})
	if err == nil || !strings.Contains(err.Error(), "scheduler: reading contacts: disk on fire") {
		t.Errorf("source failure: %v", err)
	}
	// The sink fails: the reader and the workers stop.
	_, err = newTestScheduler(t, cfg).RunAt(context.Background(), demodata.DefaultToday, failAfter{contacts, -1}, &fakeSink{writeErr: errors.New("full")})
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Errorf("sink failure: %v", err)
	}
	// The same with a source that does not watch the context: the reader
	// stops at its next batch.
	_, err = newTestScheduler(t, cfg).RunAt(context.Background(), demodata.DefaultToday, fakeSource{contacts: contacts}, &fakeSink{writeErr: errors.New("full")})
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Errorf("sink failure: %v", err)
	}
	// The caller cancels.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newTestScheduler(t, cfg).RunAt(ctx, demodata.DefaultToday, failAfter{contacts, -1}, &fakeSink{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	// The counting pass fails the same way.
	cfg.DisableLoadBalancing = false
	_, err = newTestScheduler(t, cfg).RunAt(context.Background(), demodata.DefaultToday, failAfter{contacts, 1000}, &fakeSink{})
	if err == nil || !strings.Contains(err.Error(), "(counting pass): disk on fire") {
		t.Errorf("counting pass failure: %v", err)
	}
	// No goroutine is left behind.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines left (had %d)", n, base)
	}
}
