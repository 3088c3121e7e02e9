package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// copyFresh copies the database file src (and its write-ahead log, if one
// is left) to each of dsts, replacing whatever was there: each copy is a
// fresh database of its own, and src stays as it was.
func copyFresh(src string, dsts ...string) error {
	for _, dst := range dsts {
		removeDB(dst)
		if err := copyFile(src, dst); err != nil {
			return err
		}
		if st, err := os.Stat(src + "-wal"); err == nil && st.Size() > 0 {
			if err := copyFile(src+"-wal", dst+"-wal"); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyFile copies the file src to dst (created or truncated).
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err = io.Copy(out, in); err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	// On disk before anything is measured: otherwise the kernel writes the
	// copy back during the run, gigabytes at 3M, and the floor, measured
	// later, does not pay for it.
	if err = out.Sync(); err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return nil
}

// removeDB removes a database file with its journal, log and shared-memory
// files, ignoring the ones that do not exist.
func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		_ = os.Remove(path + suffix)
	}
}

// peakRSS returns the process's peak resident set size in bytes (VmHWM of
// /proc/self/status), or 0 where it is not available.
func peakRSS() int64 {
	return procStatusKB("VmHWM:") * 1024
}

// procStatusKB returns a "kB" field of /proc/self/status, or 0.
func procStatusKB(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, field); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0
			}
			return n
		}
	}
	return 0
}

// loadAverage returns the 1, 5 and 15 minute load averages as
// "1.00/2.00/3.00", or "n/a".
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "n/a"
	}
	return f[0] + "/" + f[1] + "/" + f[2]
}

// numCPU is the number of CPUs the process may use.
func numCPU() int { return runtime.NumCPU() }

// mib formats a number of bytes in MiB.
func mib(n int64) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// walPoll is how often a walWatch looks at the size of the write-ahead log.
const walPoll = 50 * time.Millisecond

// walWatch follows the size of a database's write-ahead log (its "-wal"
// file) while something runs, and keeps the largest size seen: sampled at
// the start, every walPoll, and at the end. A missing file counts 0 (no
// WAL yet, or a database in rollback-journal mode).
type walWatch struct {
	path string
	stop chan struct{}
	done chan struct{}
	once sync.Once
	peak int64 // written by the polling goroutine until done is closed
}

// watchWAL starts watching the write-ahead log of the database at db.
func watchWAL(db string) *walWatch {
	w := &walWatch{path: db + "-wal", stop: make(chan struct{}), done: make(chan struct{})}
	w.sample()
	go func() {
		defer close(w.done)
		t := time.NewTicker(walPoll)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.sample()
			}
		}
	}()
	return w
}

func (w *walWatch) sample() {
	if st, err := os.Stat(w.path); err == nil && st.Size() > w.peak {
		w.peak = st.Size()
	}
}

// finish stops the watch and returns the largest size seen, in bytes.
// Calling it again returns the same size.
func (w *walWatch) finish() int64 {
	w.once.Do(func() {
		close(w.stop)
		<-w.done
		w.sample()
	})
	return w.peak
}

// walText formats a write-ahead log's peak size: "no WAL" in a journal
// mode other than WAL.
func walText(journal string, peak int64) string {
	if journal != "wal" {
		return fmt.Sprintf("no WAL (journal mode %s)", journal)
	}
	return fmt.Sprintf("%.1f MiB", float64(peak)/(1<<20))
}
