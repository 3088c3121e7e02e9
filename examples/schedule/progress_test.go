package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emailsched/emailsched/scheduler"
)

func TestProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true, log: slog.New(slog.DiscardHandler)}
	p.begin(3000)
	p.update(scheduler.PassCounting, 1000)
	p.update(scheduler.PassCounting, 3000)
	p.update(scheduler.PassCounting, 3000) // the end-of-pass call repeats the count
	p.update(scheduler.PassPlanning, 1500)
	p.finish()
	got := buf.String()
	for _, want := range []string{"\r\033[Kcounting 1,000 / 3,000 contacts ( 33%)", "counting 3,000 / 3,000 contacts (100%)", "ETA ", "planning 1,500 / 3,000 contacts ( 50%)"} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
	if n := strings.Count(got, "counting 3,000"); n != 1 {
		t.Errorf("final counting line drawn %d times", n)
	}
	if !strings.HasSuffix(got, "\n") {
		t.Errorf("finish did not end the line: %q", got)
	}
}

func TestProgressLog(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, slog.New(slog.NewTextHandler(&buf, nil)))
	p.begin(0) // total unknown
	p.update(scheduler.PassPlanning, 10)
	p.update(scheduler.PassPlanning, 20) // within logEvery: not logged
	if got := buf.String(); !strings.Contains(got, "msg=progress pass=planning done=10 rate_per_s=") || strings.Contains(got, "total=") || strings.Contains(got, "done=20") {
		t.Errorf("log lines: %q", got)
	}
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", 65 * time.Second: "1:05", 2*time.Hour + 3*time.Minute + 4*time.Second: "2:03:04"} {
		if got := clock(d); got != want {
			t.Errorf("clock(%v) = %q, want %q", d, got, want)
		}
	}
}
