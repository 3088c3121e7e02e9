package configfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/scheduler/configfile"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/memory"
)

const sample = "../../testdata/scheduler.yaml"

// fileOpts compares Files: locations by name, functions ignored.
var fileOpts = cmp.Options{
	cmp.Transformer("location", func(l *time.Location) string {
		if l == nil {
			return "<nil>"
		}
		return l.String()
	}),
	cmpopts.IgnoreFields(scheduler.Config{}, "Rules", "Clock", "NewRunID", "Progress", "Logger"),
}

// TestSampleIsDefaults: testdata/scheduler.yaml sets every key to its
// default, so loading it gives Defaults().
func TestSampleIsDefaults(t *testing.T) {
	got, err := configfile.Load(context.Background(), sample)
	if err != nil {
		t.Fatal(err)
	}
	want := configfile.Defaults()
	want.Name = sample
	if diff := cmp.Diff(want, got, fileOpts); diff != "" {
		t.Errorf("Load(%s) (-want +got):\n%s", sample, diff)
	}
}

// TestDefaultsAreSchedulerDefaults: the explicit defaults plan exactly what
// the zero scheduler.Config plans.
func TestDefaultsAreSchedulerDefaults(t *testing.T) {
	today := datecalc.MustNew(2025, 3, 3)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 7, Contacts: 2000, Today: today, StoredFraction: 0.3})
	run := func(cfg scheduler.Config) *scheduler.Report {
		t.Helper()
		cfg.NewRunID = func(time.Time) string { return "run" }
		cfg.Clock = func() time.Time { return time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC) }
		s, err := scheduler.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		src, err := memory.New(contacts, demodata.DemoCampaigns(today))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := s.RunAt(context.Background(), today, src, store.Discard{})
		if err != nil {
			t.Fatal(err)
		}
		rep.Timings = scheduler.Timings{}
		return rep
	}
	want := run(scheduler.Config{})
	got := run(configfile.Defaults().Scheduler)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report with configfile.Defaults (-zero Config +Defaults):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		name string
		in   string
		want func(f *configfile.File) // changes to Defaults
	}{
		{"empty", "", func(*configfile.File) {}},
		{"comments only", "# nothing\n", func(*configfile.File) {}},
		{"null document", "~\n", func(*configfile.File) {}},
		{"null values", "time_zone:\ntiming:\npriorities: {birthday: null}\n", func(*configfile.File) {}},
		{"every key", `
time_zone: Europe/Berlin
send_time: "07:05"
database: org.sqlite3
rules: rules/
pre_window_buffer: 45
atomic: true
batch_contacts: 250
aep_dates: ["10-01", "02-29"]
timing:
  birthday_days_before: 0
  effective_date_days_before: 365
  catch_up_spread_days: 90
priorities:
  birthday: 0
  effective_date: 1000
  aep: 5
  post_window: 6
follow_ups:
  enabled: false
  delay_days: 60
  lookback_days: 1
frequency_limit:
  enabled: false
  max_emails: 100
  period_days: 365
load_balancing:
  enabled: false
  daily_cap_percent: 100
  ed_soft_limit: 1000000000
  ed_smoothing_window_days: 30
  overage_threshold: 10
  overflow_horizon_days: 365
  full_counting_pass: true
backup:
  dir: /var/backups
  retention_days: 0
`, func(f *configfile.File) {
			c := &f.Scheduler
			c.Location, c.SendTime = berlin, "07:05"
			f.Database, f.Rules, f.PreWindowBuffer, f.Atomic, f.BatchContacts = "org.sqlite3", "rules/", scheduler.Int(45), true, 250
			c.AEPDates = []scheduler.MonthDay{{Month: time.October, Day: 1}, {Month: time.February, Day: 29}}
			c.BirthdayDaysBefore, c.EffectiveDateDaysBefore, c.CatchUpSpreadDays = scheduler.Int(0), scheduler.Int(365), scheduler.Int(90)
			c.BirthdayPriority, c.EffectiveDatePriority, c.AEPPriority, c.PostWindowPriority = scheduler.Int(0), scheduler.Int(1000), scheduler.Int(5), scheduler.Int(6)
			c.DisableFollowUps, c.FollowUpDelayDays, c.FollowUpLookbackDays = true, scheduler.Int(60), scheduler.Int(1)
			c.DisableFrequencyLimit, c.MaxEmailsPerPeriod, c.FrequencyPeriodDays = true, scheduler.Int(100), scheduler.Int(365)
			c.DisableLoadBalancing, c.FullCountingPass = true, true
			c.DailyCapPercent, c.EDSoftLimit, c.EDSmoothingWindowDays = scheduler.Float(100), scheduler.Int(1_000_000_000), scheduler.Int(30)
			c.OverageThreshold, c.OverflowHorizonDays = scheduler.Float(10), scheduler.Int(365)
			f.Backup = configfile.Backup{Dir: "/var/backups", RetentionDays: 0}
		}},
		{"json", `{"send_time": "23:59", "timing": {"catch_up_spread_days": 1}, "load_balancing": {"daily_cap_percent": 0.5, "overage_threshold": 2}}`,
			func(f *configfile.File) {
				f.Scheduler.SendTime, f.Scheduler.CatchUpSpreadDays = "23:59", scheduler.Int(1)
				f.Scheduler.DailyCapPercent, f.Scheduler.OverageThreshold = scheduler.Float(0.5), scheduler.Float(2)
			}},
		{"alias values", "timing: &t {catch_up_spread_days: 3}\nfrequency_limit: {max_emails: 0x0a}\naep_dates: [&d \"03-01\"]\n",
			func(f *configfile.File) {
				f.Scheduler.CatchUpSpreadDays, f.Scheduler.MaxEmailsPerPeriod = scheduler.Int(3), scheduler.Int(10)
				f.Scheduler.AEPDates = []scheduler.MonthDay{{Month: time.March, Day: 1}}
			}},
		{"alias reused", "priorities: {birthday: &p 5, aep: *p}\naep_dates: [&d \"03-01\", *d]\n", nil}, // a duplicate date
		{"aliases resolved", "priorities: {birthday: &p 5, aep: *p}\ntiming: &t {catch_up_spread_days: 4}\n", func(f *configfile.File) {
			f.Scheduler.BirthdayPriority, f.Scheduler.AEPPriority = scheduler.Int(5), scheduler.Int(5)
			f.Scheduler.CatchUpSpreadDays = scheduler.Int(4)
		}},
		{"true enables", "follow_ups: {enabled: true}\nfrequency_limit: {enabled: True}\nload_balancing: {enabled: TRUE}\n", func(*configfile.File) {}},
	}
	for _, tt := range tests {
		if tt.want == nil {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			got, err := configfile.Parse("test.yaml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			want := configfile.Defaults()
			want.Name = "test.yaml"
			tt.want(want)
			if diff := cmp.Diff(want, got, fileOpts); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown key", "send_tme: \"08:30\"\n", `c.yaml:1:1: unknown key "send_tme" at the top level; allowed: time_zone, send_time, database, rules, pre_window_buffer, atomic, bulk_writes, batch_contacts, aep_dates, aep_last_day, timing, priorities, follow_ups, frequency_limit, load_balancing, backup
    1 | send_tme: "08:30"
      | ^`},
		{"unknown key in section", "timing:\n  birthday: 3\n", `c.yaml:2:3: unknown key "birthday" in timing; allowed: birthday_days_before, effective_date_days_before, catch_up_spread_days
    2 |   birthday: 3
      |   ^`},
		{"dotted key", "timing.catch_up_spread_days: 3\n", `c.yaml:1:1: unknown key "timing.catch_up_spread_days" at the top level; allowed: time_zone, send_time, database, rules, pre_window_buffer, atomic, bulk_writes, batch_contacts, aep_dates, aep_last_day, timing, priorities, follow_ups, frequency_limit, load_balancing, backup
    1 | timing.catch_up_spread_days: 3
      | ^`},
		{"anchor on unknown key", "x: &days 3\n", `c.yaml:1:1: unknown key "x" at the top level; allowed: time_zone, send_time, database, rules, pre_window_buffer, atomic, bulk_writes, batch_contacts, aep_dates, aep_last_day, timing, priorities, follow_ups, frequency_limit, load_balancing, backup
    1 | x: &days 3
      | ^`},
		{"duplicate", "batch_contacts: 5\nbatch_contacts: 6\n", `c.yaml:2:1: duplicate key "batch_contacts", first set on line 1
    2 | batch_contacts: 6
      | ^`},
		{"int range", "timing:\n  birthday_days_before: 400\n", `c.yaml:2:25: timing.birthday_days_before must be an integer from 0 to 365, found 400
    2 |   birthday_days_before: 400
      |                         ^`},
		{"int type", "priorities: {aep: high}\n", `c.yaml:1:19: priorities.aep must be an integer from 0 to 1000, found "high"
    1 | priorities: {aep: high}
      |                   ^`},
		{"int float", "batch_contacts: 1.5\n", `c.yaml:1:17: batch_contacts must be an integer from 1 to 1000000, found 1.5
    1 | batch_contacts: 1.5
      |                 ^`},
		{"int huge", "load_balancing: {ed_soft_limit: 99999999999}\n", `c.yaml:1:33: load_balancing.ed_soft_limit must be an integer from 1 to 1000000000, found 99999999999
    1 | load_balancing: {ed_soft_limit: 99999999999}
      |                                 ^`},
		{"int list", "pre_window_buffer: [1]\n", `c.yaml:1:20: pre_window_buffer must be an integer from 0 to 366, found a list
    1 | pre_window_buffer: [1]
      |                    ^`},
		{"float open range", "load_balancing:\n  daily_cap_percent: 0\n", `c.yaml:2:22: load_balancing.daily_cap_percent must be a number greater than 0 and at most 100, found 0
    2 |   daily_cap_percent: 0
      |                      ^`},
		{"float percent", "load_balancing:\n  daily_cap_percent: 700\n", `c.yaml:2:22: load_balancing.daily_cap_percent must be a number greater than 0 and at most 100, found 700
    2 |   daily_cap_percent: 700
      |                      ^`},
		{"float closed range", "load_balancing: {overage_threshold: 0.9}\n", `c.yaml:1:37: load_balancing.overage_threshold must be a number from 1 to 10, found 0.9
    1 | load_balancing: {overage_threshold: 0.9}
      |                                     ^`},
		{"float nan", "load_balancing: {overage_threshold: .nan}\n", `c.yaml:1:37: load_balancing.overage_threshold must be a number from 1 to 10, found .nan
    1 | load_balancing: {overage_threshold: .nan}
      |                                     ^`},
		{"float type", "load_balancing: {overage_threshold: \"1.2\"}\n", `c.yaml:1:37: load_balancing.overage_threshold must be a number from 1 to 10, found "1.2"
    1 | load_balancing: {overage_threshold: "1.2"}
      |                                     ^`},
		{"bool", "follow_ups:\n  enabled: yes\n", `c.yaml:2:12: follow_ups.enabled must be true or false, found "yes"
    2 |   enabled: yes
      |            ^`},
		{"string type", "database: 42\n", `c.yaml:1:11: database must be a string, found 42
    1 | database: 42
      |           ^`},
		{"string map", "rules: {a: b}\n", `c.yaml:1:8: rules must be a string, found a mapping
    1 | rules: {a: b}
      |        ^`},
		{"time zone", "time_zone: Mars/Olympus\n", `c.yaml:1:12: time_zone must be an IANA time zone name (such as "America/Chicago"), found "Mars/Olympus"
    1 | time_zone: Mars/Olympus
      |            ^`},
		{"time zone local", "time_zone: Local\n", `c.yaml:1:12: time_zone must be an IANA time zone name (such as "America/Chicago"), found "Local"
    1 | time_zone: Local
      |            ^`},
		{"time zone empty", "time_zone: \"\"\n", `c.yaml:1:12: time_zone must be an IANA time zone name (such as "America/Chicago"), found ""
    1 | time_zone: ""
      |            ^`},
		{"send time", "send_time: \"8:30\"\n", `c.yaml:1:12: send_time must be a time of day "HH:MM" from "00:00" to "23:59", found "8:30"
    1 | send_time: "8:30"
      |            ^`},
		{"send time 24", "send_time: \"24:00\"\n", `c.yaml:1:12: send_time must be a time of day "HH:MM" from "00:00" to "23:59", found "24:00"
    1 | send_time: "24:00"
      |            ^`},
		{"section scalar", "priorities: 3\n", `c.yaml:1:13: priorities must be a mapping of the keys birthday, effective_date, aep, post_window, found 3
    1 | priorities: 3
      |             ^`},
		{"dates scalar", "aep_dates: \"09-15\"\n", `c.yaml:1:12: aep_dates must be a list of one or more days "MM-DD" (such as ["09-15"]), found "09-15"
    1 | aep_dates: "09-15"
      |            ^`},
		{"dates empty", "aep_dates: []\n", `c.yaml:1:12: aep_dates must be a list of one or more days "MM-DD" (such as ["09-15"]), found a list
    1 | aep_dates: []
      |            ^`},
		{"dates bad", "aep_dates: [\"02-30\", \"13-01\", \"9-15\", 915, \"00-10\", \"01-00\"]\n", `c.yaml:1:13: aep_dates must hold days of the year "MM-DD" (month 01-12, day 01 to the month's last, 02-29 allowed), found "02-30"
    1 | aep_dates: ["02-30", "13-01", "9-15", 915, "00-10", "01-00"]
      |             ^

c.yaml:1:22: aep_dates must hold days of the year "MM-DD" (month 01-12, day 01 to the month's last, 02-29 allowed), found "13-01"
    1 | aep_dates: ["02-30", "13-01", "9-15", 915, "00-10", "01-00"]
      |                      ^

c.yaml:1:31: aep_dates must hold days of the year "MM-DD" (month 01-12, day 01 to the month's last, 02-29 allowed), found "9-15"
    1 | aep_dates: ["02-30", "13-01", "9-15", 915, "00-10", "01-00"]
      |                               ^

c.yaml:1:39: aep_dates must hold days of the year "MM-DD" (month 01-12, day 01 to the month's last, 02-29 allowed), found 915
    1 | aep_dates: ["02-30", "13-01", "9-15", 915, "00-10", "01-00"]
      |                                       ^

c.yaml:1:44: aep_dates must hold days of the year "MM-DD" (month 01-12, day 01 to the month's last, 02-29 allowed), found "00-10"
    1 | aep_dates: ["02-30", "13-01", "9-15", 915, "00-10", "01-00"]
      |                                            ^

c.yaml:1:53: aep_dates must hold days of the year "MM-DD" (month 01-12, day 01 to the month's last, 02-29 allowed), found "01-00"
    1 | aep_dates: ["02-30", "13-01", "9-15", 915, "00-10", "01-00"]
      |                                                     ^`},
		{"dates alias duplicate", "aep_dates: [&d \"03-01\", *d]\n", `c.yaml:1:25: aep_dates lists 03-01 twice
    1 | aep_dates: [&d "03-01", *d]
      |                         ^`},
		{"dates duplicate", "aep_dates:\n  - \"09-15\"\n  - \"09-15\"\n", `c.yaml:3:5: aep_dates lists 09-15 twice
    3 |   - "09-15"
      |     ^`},
		{"not a mapping", "- a\n", `c.yaml:1:1: the file must be a mapping of keys to values (such as "send_time: 08:30"), found a list
    1 | - a
      | ^`},
		{"scalar document", "hello\n", `c.yaml:1:1: the file must be a mapping of keys to values (such as "send_time: 08:30"), found "hello"
    1 | hello
      | ^`},
		{"two documents", "send_time: \"08:30\"\n---\nsend_time: \"09:30\"\n", `c.yaml:2:1: the file must hold one document, found a second one
    2 | ---
      | ^`},
		{"syntax with line", "timing:\n  a: [\n", `c.yaml:2: not valid YAML: did not find expected node content
    2 |   a: [
      | ^`},
		{"syntax without line", "a: b: c\n", `c.yaml: not valid YAML: mapping values are not allowed in this context`},
		{"tab", "timing:\n\tcatch_up_spread_days: 3\n", `c.yaml:2: not valid YAML: found character that cannot start any token
    2 |  catch_up_spread_days: 3
      | ^`},
		{"crlf", "send_time: 8\r\n", `c.yaml:1:12: send_time must be a string, found 8
    1 | send_time: 8
      |            ^`},
		{"every problem at once", `time_zone: Mars/Base
timing:
  birthday_days_before: 400
  bday: 3
follow_ups: {enabled: 1}
`, `c.yaml:1:12: time_zone must be an IANA time zone name (such as "America/Chicago"), found "Mars/Base"
    1 | time_zone: Mars/Base
      |            ^

c.yaml:3:25: timing.birthday_days_before must be an integer from 0 to 365, found 400
    3 |   birthday_days_before: 400
      |                         ^

c.yaml:4:3: unknown key "bday" in timing; allowed: birthday_days_before, effective_date_days_before, catch_up_spread_days
    4 |   bday: 3
      |   ^

c.yaml:5:23: follow_ups.enabled must be true or false, found 1
    5 | follow_ups: {enabled: 1}
      |                       ^`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := configfile.Parse("c.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("no error; got %+v", f)
			}
			var ps configfile.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProblemFields(t *testing.T) {
	_, err := configfile.Parse("c.yaml", []byte("timing:\n  catch_up_spread_days: 0\n"))
	var ps configfile.Problems
	if !errors.As(err, &ps) {
		t.Fatal(err)
	}
	want := configfile.Problems{{
		File: "c.yaml", Line: 2, Column: 25, Key: "timing.catch_up_spread_days",
		Message: "timing.catch_up_spread_days must be an integer from 1 to 90, found 0",
		Snippet: "    2 |   catch_up_spread_days: 0\n      |                         ^",
	}}
	if diff := cmp.Diff(want, ps); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(path, []byte("database: org.sqlite3\nrules: /etc/rules\nbackup: {dir: ../backups}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := configfile.Load(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{f.Database, f.Rules, f.Backup.Dir}
	want := []string{filepath.Join(dir, "org.sqlite3"), "/etc/rules", filepath.Join(filepath.Dir(dir), "backups")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}

	if _, err := configfile.Load(context.Background(), filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "configfile: ") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("batch_contacts: -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = configfile.Load(context.Background(), bad)
	var ps configfile.Problems
	if !errors.As(err, &ps) || ps[0].File != bad {
		t.Errorf("bad file: %v", err)
	}
}

func TestLoadRules(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("set/ca.rules", "# CA\npre_window_buffer: 30   # days\n\nCA: birthday_window(30, 60)\n")
	write("set/mo.rules", "pre_window_buffer: 30\r\nMO: effective_date_window(30, 33)\r\n")
	write("set/notes.txt", "not rules")
	bad := write("bad/bad.rules", "CA: birthday_window(30, -60)\n")
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "unreadable", "dir.rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	odd := filepath.Join(dir, "odd[1]*?")
	write("odd[1]*?/ny.rules", "NY: year_round()\n")

	ptr := scheduler.Int
	tests := []struct {
		name       string
		rules      string
		buffer     *int
		fileName   string
		wantBuffer int
		wantName   string
		wantErr    string
	}{
		{name: "default", wantBuffer: 60, wantName: "default.rules"},
		{name: "default with buffer", buffer: ptr(45), wantBuffer: 45, wantName: "default.rules (pre_window_buffer: 45)"},
		{name: "file", rules: ca, wantBuffer: 30},
		{name: "file with buffer", rules: ca, buffer: ptr(10), fileName: "s.yaml", wantBuffer: 10},
		{name: "directory", rules: filepath.Join(dir, "set"), wantBuffer: 30},
		{name: "directory with buffer", rules: filepath.Join(dir, "set"), buffer: ptr(0), wantBuffer: 0},
		{name: "glob characters", rules: odd, wantBuffer: 60},
		{name: "empty directory", rules: filepath.Join(dir, "empty"), wantErr: "dsl: no rules file in the directory " + filepath.Join(dir, "empty") + " (files named *.rules)"},
		{name: "missing", rules: filepath.Join(dir, "none.rules"), wantErr: "dsl: open " + filepath.Join(dir, "none.rules") + ": no such file or directory"},
		{name: "unreadable", rules: filepath.Join(dir, "unreadable"), wantErr: "dsl: " + filepath.Join(dir, "unreadable", "dir.rules") + ": not a regular file (a directory)"},
		{name: "diagnostics", rules: bad, buffer: ptr(10), wantErr: bad + ":1:25: days after must be 0-366 days, found -60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := configfile.Defaults()
			f.Name, f.Rules, f.PreWindowBuffer = tt.fileName, tt.rules, tt.buffer
			set, err := f.LoadRules(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %s", err, tt.wantErr)
				}
				var ds dsl.Diagnostics
				if tt.name == "diagnostics" && !errors.As(err, &ds) {
					t.Errorf("error %T is not dsl.Diagnostics", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if set.Buffer() != tt.wantBuffer {
				t.Errorf("Buffer() = %d, want %d", set.Buffer(), tt.wantBuffer)
			}
			if tt.wantName != "" && set.Name() != tt.wantName {
				t.Errorf("Name() = %q, want %q", set.Name(), tt.wantName)
			}
			if tt.buffer != nil && set.Checksum() == dsl.Default().Checksum() {
				t.Error("the checksum did not change with the buffer")
			}
		})
	}

	// The default set with the default buffer is dsl.Default itself.
	f := configfile.Defaults()
	if set, _ := f.LoadRules(context.Background()); set != dsl.Default() {
		t.Error("LoadRules without rules and buffer is not dsl.Default()")
	}
}
