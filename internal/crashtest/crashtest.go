// Package crashtest runs a store adapter's planning run in a child process
// and kills it with SIGKILL at a chosen moment, for the adapters' crash
// tests. The child is the test binary itself, started with an environment
// that its TestMain recognises; it writes through Sink, which prints a line
// at each step ("begin", "w" after each Write, "commit" before Commit,
// "done" after it) for the parent to time the kill on.
package crashtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
)

// Sink wraps a sink and prints the progress lines on standard output.
type Sink struct{ store.ScheduleSink }

// Begin implements store.ScheduleSink.
func (p Sink) Begin(ctx context.Context, run emailsched.RunInfo) (store.Writer, error) {
	w, err := p.ScheduleSink.Begin(ctx, run)
	fmt.Println("begin")
	return writer{w}, err
}

type writer struct{ store.Writer }

func (p writer) Write(ctx context.Context, d *store.Delta) error {
	err := p.Writer.Write(ctx, d)
	fmt.Println("w")
	return err
}

func (p writer) Commit(ctx context.Context, s store.Summary) error {
	fmt.Println("commit")
	err := p.Writer.Commit(ctx, s)
	fmt.Println("done")
	return err
}

// Result is what the parent saw of a child.
type Result struct {
	Took   time.Duration // from start to exit
	Commit time.Duration // from "commit" to "done"
	Writes int           // "w" lines
	Killed bool          // killed before it finished
}

// Run runs the test binary as a child with env added to the environment.
// kill decides, from the progress lines read so far, when to send SIGKILL
// (nil: never); after, when set, kills it after that time. A child that
// fails without being killed fails t.
func Run(t *testing.T, env []string, kill func(line string, writes int, since time.Duration) bool, after time.Duration) Result {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var r Result
	var timer *time.Timer
	if after > 0 {
		timer = time.AfterFunc(after, func() { _ = cmd.Process.Kill() })
	}
	var committing time.Time
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		switch line {
		case "w":
			r.Writes++
		case "commit":
			committing = time.Now()
		case "done":
			r.Commit = time.Since(committing)
		}
		if kill != nil && !r.Killed && kill(line, r.Writes, time.Since(start)) {
			_ = cmd.Process.Kill() // SIGKILL
			r.Killed = true
		}
	}
	_, _ = io.Copy(io.Discard, out)
	err = cmd.Wait()
	if timer != nil && !timer.Stop() {
		r.Killed = true
	}
	if err != nil && !r.Killed {
		t.Fatalf("child failed: %v\n%s", err, stderr.String())
	}
	if err == nil {
		r.Killed = false // it finished before the kill
	}
	r.Took = time.Since(start)
	return r
}
