package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// workerProcess is a worker process of the fleet: the test binary run as
// the command (see TestMain).
type workerProcess struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr bytes.Buffer
	// planning is closed when the worker logs its first "planning".
	planning chan struct{}
	done     chan struct{}
	err      error
}

// startWorker starts a worker process with args; slowUS slows its reading
// (microseconds per contact, 0 for none).
func startWorker(t testing.TB, slowUS string, args ...string) *workerProcess {
	return startWorkerEnv(t, []string{slowEnv + "=" + slowUS}, args...)
}

// startWorkerEnv starts a worker process with args and extra environment.
func startWorkerEnv(t testing.TB, env []string, args ...string) *workerProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argsJSON, _ := json.Marshal(args)
	w := &workerProcess{planning: make(chan struct{}), done: make(chan struct{})}
	w.cmd = exec.Command(exe, "-test.run=^$")
	w.cmd.Env = append(append(os.Environ(), workerEnv+"="+string(argsJSON)), env...)
	w.cmd.Stdout = &w.stdout
	pipe, err := w.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			w.mu.Lock()
			w.stderr.WriteString(line + "\n")
			w.mu.Unlock()
			if strings.Contains(line, "msg=planning") {
				once.Do(func() { close(w.planning) })
			}
		}
		io.Copy(io.Discard, pipe)
		w.err = w.cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			w.cmd.Process.Kill()
			<-w.done
		}
	})
	return w
}

func (w *workerProcess) log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stderr.String()
}

// TestKilledWorker runs 2 worker processes over 20 organisations and
// kills one with SIGKILL in the middle of its runs: the other finishes
// the day, the killed worker's jobs rescued, and every organisation ends
// planned exactly once.
func TestKilledWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute: two worker processes and a rescue")
	}
	forEachQueue(t, func(t *testing.T, queueFlag func(string) []string) {
		testQueueHooks(t)
		dir := t.TempDir()
		orgs := createOrgs(t, dir, 20, 300)
		// A short job timeout and rescue, so that the killed worker's jobs
		// are rescued within the test (River's rescuer looks every 30 s).
		fleet := writeFleetFile(t, dir, "")
		text := "workers: 2\nmax_attempts: 5\nretry_base: 200ms\nretry_max: 1s\njob_timeout: 8s\nrescue_after: 9s\n"
		if err := os.WriteFile(fleet, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		qf := queueFlag(dir)
		args := append([]string{"-orgs", dir, "-today", fixtureToday.String(), "-fleet", fleet}, qf...)
		if code, _, stderr := runCmd(t, append(args, "-enqueue")...); code != 0 {
			t.Fatalf("-enqueue: exit %d\n%s", code, stderr)
		}
		// a reads slowly (3 ms per contact, about a second per pass):
		// it is killed in the middle of its runs.
		a := startWorker(t, "3000", append(args, "-work")...)
		b := startWorker(t, "", append(args, "-work")...)
		select {
		case <-a.planning:
		case <-a.done:
			t.Fatalf("worker a ended before planning: %v\n%s", a.err, a.log())
		case <-time.After(60 * time.Second):
			t.Fatalf("worker a does not plan:\n%s", a.log())
		}
		time.Sleep(700 * time.Millisecond)
		if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-a.done
		killedAt := time.Now()
		select {
		case <-b.done:
		case <-time.After(150 * time.Second):
			t.Fatalf("worker b does not finish:\n%s", b.log())
		}
		t.Logf("worker b finished %v after the kill", time.Since(killedAt).Round(100*time.Millisecond))
		if b.err != nil {
			t.Fatalf("worker b: %v\n%s\n%s", b.err, b.stdout.String(), b.log())
		}
		if !strings.Contains(a.log(), "msg=planning") || strings.Count(a.log(), "msg=planned") >= len(orgs) {
			t.Errorf("worker a was not killed in the middle of the day:\n%s", a.log())
		}

		st := inspect(t, dir, qf)
		states := st.jobStates(t)
		statuses := st.statuses()
		for _, o := range orgs {
			if states[o] != rivertype.JobStateCompleted {
				t.Errorf("%s: job %s, want completed", o, states[o])
			}
			if s := statuses[o]; s != statusPlanned && s != statusAlreadyPlanned {
				t.Errorf("%s: summary status %q, want planned or already planned", o, s)
			}
			path := filepath.Join(dir, o+orgExt)
			if n := completedOn(checkpoints(t, path), fixtureToday); n != 1 {
				t.Errorf("%s: %d completed runs of the day, want exactly 1", o, n)
			}
			integrityOK(t, path)
		}
		if len(st.rows) != len(orgs) {
			t.Errorf("the summary has %d rows, want %d", len(st.rows), len(orgs))
		}
		rescued := 0
		for _, j := range st.jobs {
			for _, e := range j.Errors {
				if strings.Contains(e.Error, "Stuck job rescued") {
					rescued++
				}
			}
		}
		if rescued == 0 {
			t.Errorf("no job was rescued: the kill did not catch worker a in a run")
		}
		t.Logf("%d job(s) of the killed worker rescued; worker b's table:\n%s", rescued, b.stdout.String())
	})
}
