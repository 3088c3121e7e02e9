package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/emailsched/emailsched/scheduler"
)

// progress shows how far a run is: a line redrawn in place when stderr is
// a terminal, log lines (at most one every logEvery per pass) otherwise.
// Its methods are called from the run's goroutine only.
type progress struct {
	w   io.Writer
	tty bool
	log *slog.Logger

	// total is the number of contacts (from a count before the run, then
	// the contacts the counting pass read); 0 when unknown.
	total int
	pass  string
	start time.Time // of the pass: the end of the previous one, or begin
	last  time.Time // of the last line
	done  int
	drawn bool // a terminal line is on screen
}

const (
	redrawEvery = 100 * time.Millisecond
	logEvery    = 5 * time.Second
)

func newProgress(w io.Writer, log *slog.Logger) *progress {
	return &progress{w: w, tty: isTerminal(w), log: log}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// begin starts the display of a run (or of an explanation) over total
// contacts (0 when unknown).
func (p *progress) begin(total int) {
	p.total = total
	p.start = time.Now()
}

// update is the scheduler's Progress callback.
func (p *progress) update(pass string, done int) {
	now := time.Now()
	first := pass != p.pass
	if first {
		if p.pass == scheduler.PassCounting && p.done > 0 {
			p.total = p.done // the planning pass reads what the counting pass read
			p.start = p.last // the end of the counting pass
		}
		p.endLine()
		p.pass = pass
	} else if done == p.done {
		return // the end-of-pass call after a periodic one
	}
	p.done = done
	final := p.total > 0 && done >= p.total
	every := logEvery
	if p.tty {
		every = redrawEvery
	}
	if !first && !final && now.Sub(p.last) < every {
		return
	}
	p.last = now
	elapsed := now.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	eta := time.Duration(-1)
	if p.total > 0 && rate > 0 && done <= p.total {
		eta = time.Duration(float64(p.total-done) / rate * float64(time.Second))
	}
	if !p.tty {
		attrs := []any{"pass", pass, "done", done}
		if p.total > 0 {
			attrs = append(attrs, "total", p.total)
		}
		attrs = append(attrs, "rate_per_s", int(rate))
		if eta >= 0 {
			attrs = append(attrs, "eta", eta.Round(time.Second).String())
		}
		p.log.Info("progress", attrs...)
		return
	}
	line := fmt.Sprintf("%-8s %s contacts", pass, thousands(done))
	if p.total > 0 {
		line = fmt.Sprintf("%-8s %s / %s contacts (%3.0f%%)", pass, thousands(done), thousands(p.total), 100*float64(min(done, p.total))/float64(p.total))
	}
	line += fmt.Sprintf("  %s/s", thousands(int(rate)))
	if eta >= 0 {
		line += "  ETA " + clock(eta)
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
	p.drawn = true
	if final {
		p.endLine() // the pass is over: log lines may follow
	}
}

// endLine ends the terminal line on screen, if any.
func (p *progress) endLine() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// finish ends the display after a run.
func (p *progress) finish() { p.endLine() }

// thousands formats n with thousands separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// clock formats d as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
