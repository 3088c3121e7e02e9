package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// benchEnv enables TestFleetBench, which takes minutes:
//
//	FLEET_BENCH=1 go test -run TestFleetBench -v -timeout 60m ./examples/fleet
//
// with the SQLite queue; FLEET_BENCH=postgres with a PostgreSQL queue
// (internal/pgtest) instead, FLEET_BENCH=all with both.
// FLEET_BENCH_RUNS sets the runs per figure (default 1; the figure is
// their median).
const (
	benchEnv     = "FLEET_BENCH"
	benchRunsEnv = "FLEET_BENCH_RUNS"
)

// TestFleetBench measures the fleet: 50 organisations of 20,000 contacts,
// planned by 1 worker process, 2 worker processes, and 1 process planning
// 2 at a time; then the cost of the SQLite queue's single connection, on
// 200 tiny organisations whose runs are mostly queue work. Each figure is
// the median of FLEET_BENCH_RUNS runs, from fresh copies of the databases.
func TestFleetBench(t *testing.T) {
	mode := os.Getenv(benchEnv)
	if mode == "" {
		t.Skip("set " + benchEnv + "=1 (or postgres) to measure the fleet: minutes")
	}
	queues := []queueKind{queueKinds[0]}
	switch mode {
	case "postgres":
		queues = queueKinds[1:]
	case "all":
		queues = queueKinds
	}
	for _, k := range queues {
		t.Run(k.name, func(t *testing.T) {
			var base time.Duration
			for _, c := range []struct {
				name             string
				processes, works int
			}{{"1 process x 1 worker", 1, 1}, {"2 processes x 1 worker", 2, 1}, {"1 process x 2 workers", 1, 2}} {
				d := benchMedian(t, k, 50, 20_000, c.processes, c.works, nil)
				if base == 0 {
					base = d
				}
				t.Logf("%s, 50 organisations x 20,000 contacts, %s: %v (%.2f organisations/s), speed-up %.2f",
					k.name, c.name, d.Round(10*time.Millisecond), 50/d.Seconds(), base.Seconds()/d.Seconds())
			}
			if k.name != "sqlite" {
				return
			}
			for _, conns := range []string{"1", "4"} {
				d := benchMedian(t, k, 200, 20, 1, 4, []string{connsEnv + "=" + conns})
				t.Logf("sqlite queue with %s connection(s), 200 organisations x 20 contacts, 1 process x 4 workers: %v (%.1f jobs/s)",
					conns, d.Round(10*time.Millisecond), 200/d.Seconds())
			}
		})
	}
}

// benchMedian enqueues orgs organisations of contacts each and returns
// the median time, over FLEET_BENCH_RUNS runs, that processes worker processes of works
// workers each take to plan them all.
func benchMedian(t *testing.T, k queueKind, orgs, contacts, processes, works int, env []string) time.Duration {
	t.Helper()
	runs := 1
	if n := os.Getenv(benchRunsEnv); n != "" {
		fmt.Sscan(n, &runs)
	}
	var ds []time.Duration
	for range max(runs, 1) {
		dir := t.TempDir()
		createOrgs(t, dir, orgs, contacts)
		fleet := filepath.Join(dir, "fleet.yaml")
		if err := os.WriteFile(fleet, []byte("job_timeout: 10m\nrescue_after: 20m\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-orgs", dir, "-today", fixtureToday.String(), "-fleet", fleet, "-workers", fmt.Sprint(works)}
		var qargs []string
		if q := k.queue(t, dir); q != "" {
			qargs = []string{"-queue", q}
		}
		args = append(args, qargs...)
		if code, _, stderr := runCmd(t, append(args, "-enqueue")...); code != 0 {
			t.Fatalf("-enqueue: exit %d\n%s", code, stderr)
		}
		start := time.Now()
		var ws []*workerProcess
		for range processes {
			ws = append(ws, startWorkerEnv(t, env, append(args, "-work")...))
		}
		for _, w := range ws {
			<-w.done
			if w.err != nil {
				t.Fatalf("worker: %v\n%s", w.err, w.log())
			}
		}
		ds = append(ds, time.Since(start))
		if st := inspect(t, dir, qargs); !allPlanned(st, orgs) {
			t.Fatalf("not every organisation is planned: %v", st.statuses())
		}
	}
	slices.Sort(ds)
	t.Logf("  runs: %v", ds)
	return ds[len(ds)/2]
}

// allPlanned reports whether the summary has n organisations, all planned.
func allPlanned(st queueState, n int) bool {
	s := st.statuses()
	for _, v := range s {
		if !strings.HasPrefix(v, statusPlanned) {
			return false
		}
	}
	return len(s) == n
}
