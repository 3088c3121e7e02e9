package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched/scheduler/configfile"
	"github.com/emailsched/emailsched/store"
)

func TestParseFleet(t *testing.T) {
	full := `# every key
workers: 4
max_attempts: 7
retry_base: 10s
retry_max: 5m
job_timeout: 30m
rescue_after: 45m
organisations:
  include: ["org-0*", org-100]
  exclude: org-007
config: scheduler.yaml
rules: rules/
per_organisation:
  org-003:
    rules: org-003.rules
  org-004:
    config: org-004.yaml
`
	want := &fleetConfig{Workers: 4, MaxAttempts: 7, RetryBase: 10 * time.Second, RetryMax: 5 * time.Minute,
		JobTimeout: 30 * time.Minute, RescueAfter: 45 * time.Minute,
		Include: []string{"org-0*", "org-100"}, Exclude: []string{"org-007"},
		Config: "scheduler.yaml", Rules: "rules/",
		PerOrganisation: map[string]orgFiles{"org-003": {Rules: "org-003.rules"}, "org-004": {Config: "org-004.yaml"}}}
	got, err := parseFleet("fleet.yaml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(fleetConfig{})); d != "" {
		t.Errorf("full file (-want +got):\n%s", d)
	}
	for _, empty := range []string{"", "# nothing\n", "workers:\n"} {
		got, err := parseFleet("fleet.yaml", []byte(empty))
		if err != nil || !cmp.Equal(got, defaultFleet()) {
			t.Errorf("%q: %+v, %v; want the defaults", empty, got, err)
		}
	}

	for _, tc := range []struct {
		text string
		want []string // "line:col: message part" of each problem
	}{
		{"workers: 4\nworkerz: 2\n", []string{`2:1: unknown key "workerz"`}},
		{"workers: 4\nworkers: 5\n", []string{`2:1: duplicate key "workers", first set on line 1`}},
		{"workers: 0\nmax_attempts: many\n", []string{"1:10: workers must be an integer from 1 to 1000", "2:15: max_attempts must be an integer"}},
		{"retry_base: 10\n", []string{"1:13: retry_base must be a duration"}},
		{"job_timeout: 2h\nrescue_after: 1h\n", []string{"rescue_after (1h0m0s) must be longer than job_timeout (2h0m0s)"}},
		{"organisations:\n  include: ['[']\n", []string{`2:13: "[" is not a valid glob`}},
		{"organisations:\n  only: [a]\n", []string{`2:3: unknown key "only"`}},
		{"organisations: all\n", []string{"1:16: organisations must be a mapping"}},
		{"per_organisation:\n  ../x:\n    rules: r\n", []string{`2:3: "../x" is not an organisation name`}},
		{"per_organisation:\n  org-1:\n    rulez: r\n", []string{`3:5: unknown key "rulez"`}},
		{"- a\n- b\n", []string{"must be a mapping of keys to values"}},
		{"workers: [\n", []string{"not valid YAML"}},
		{"a: 1\n---\nb: 2\n", []string{"one document"}},
	} {
		_, err := parseFleet("fleet.yaml", []byte(tc.text))
		var ps configfile.Problems
		if !errors.As(err, &ps) || len(ps) != len(tc.want) {
			t.Errorf("%q: %v; want %d problems", tc.text, err, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(ps[i].Error(), w) {
				t.Errorf("%q: problem %q, want %q", tc.text, ps[i].Error(), w)
			}
		}
	}
	if _, err := parseFleet("big.yaml", make([]byte, maxFleetFileSize+1)); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("a file too large: %v", err)
	}
}

func TestLoadFleetPaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fleet.yaml")
	text := "config: s.yaml\nrules: /abs/r.rules\nper_organisation:\n  org-1:\n    rules: o.rules\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	fc, err := loadFleet(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{fc.Config, fc.Rules, fc.PerOrganisation["org-1"].Rules}
	want := []string{filepath.Join(dir, "s.yaml"), "/abs/r.rules", filepath.Join(dir, "o.rules")}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("paths (-want +got):\n%s", d)
	}
}

func TestSelects(t *testing.T) {
	fc := &fleetConfig{Include: []string{"org-0*", "big"}, Exclude: []string{"org-007"}}
	for name, want := range map[string]bool{"org-001": true, "org-007": false, "big": true, "org-100": false} {
		if got := fc.selects(name); got != want {
			t.Errorf("selects(%q) = %v, want %v", name, got, want)
		}
	}
	if !(&fleetConfig{}).selects("any") {
		t.Error("no include: every organisation is selected")
	}
}

func TestFindPlanned(t *testing.T) {
	day := fixtureToday
	id := store.PlanIdentity{Rules: "r1", Config: "c1"}
	rows := func(n int) store.RowCounts { return store.RowCounts{Inserted: n} }
	cps := []checkpoint{
		{runID: "run-a", runDate: "2025-03-02", status: "completed", id: id, rows: rows(100)},
		{runID: "run-b", runDate: "2025-03-03", status: "failed", id: id, rows: rows(7)},
		{runID: "run-c", runDate: "2025-03-03", status: "completed", id: store.PlanIdentity{Rules: "r2", Config: "c1"}, rows: rows(5)},
		{runID: "run-d", runDate: "2025-03-03", status: "completed", id: id, rows: rows(3)},
		{runID: "run-d-settle1", runDate: "2025-03-03", status: "completed", id: id, rows: store.RowCounts{Updated: 2}},
	}
	for _, tc := range []struct {
		name string
		cps  []checkpoint
		id   store.PlanIdentity
		want *pastRun
	}{
		{"a run and its settling run", cps, id, &pastRun{RunID: "run-d", Rows: store.RowCounts{Inserted: 3, Updated: 2}}},
		{"other rules", cps, store.PlanIdentity{Rules: "r2", Config: "c1"}, &pastRun{RunID: "run-c", Rows: rows(5)}},
		{"other configuration", cps, store.PlanIdentity{Rules: "r1", Config: "c2"}, nil},
		{"only a failed run of the day", cps[:2], id, nil},
		{"none", nil, id, nil},
	} {
		got := findPlanned(tc.cps, day, tc.id, "completed")
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
}
