package main

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// sender plays the sending system beside a run: every interval it takes
// one pre-scheduled row over, the earliest due (status to 'scheduled', as
// the sending system does when it queues an email), in a transaction of
// its own on a connection of its own, with the busy timeout the sending
// system's SQLite connections use. It measures how long each write took:
// the time it waited for the run's write lock, mostly.
type sender struct {
	db       *sql.DB
	interval time.Duration
	stop     chan struct{}
	done     chan struct{}

	start   time.Time
	mu      sync.Mutex
	waits   []time.Duration
	at      []time.Duration // when each write began, since the sender started
	failed  int
	lastErr string
}

// senderBusyTimeout is the sending system's SQLite busy timeout: a write
// that waits longer for a lock fails.
const senderBusyTimeout = 5 * time.Second

func startSender(path string, interval time.Duration) (*sender, error) {
	db, err := sql.Open("sqlite3", fmt.Sprintf("file:%s?_busy_timeout=%d", path, senderBusyTimeout.Milliseconds()))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	s := &sender{db: db, interval: interval, stop: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
	go s.loop()
	return s, nil
}

func (s *sender) loop() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		start := time.Now()
		_, err := s.db.ExecContext(context.Background(), `UPDATE email_schedules SET status = 'scheduled', batch_id = 'bench-sender'
			WHERE id = (SELECT id FROM email_schedules WHERE status = 'pre-scheduled' ORDER BY scheduled_send_date, id LIMIT 1)
			AND status = 'pre-scheduled'`)
		d := time.Since(start)
		s.mu.Lock()
		s.waits = append(s.waits, d)
		s.at = append(s.at, start.Sub(s.start))
		if err != nil {
			s.failed++
			s.lastErr = err.Error()
		}
		s.mu.Unlock()
	}
}

// senderResult is what the sending system saw beside the run.
type senderResult struct {
	Writes  int           `json:"writes"`
	Failed  int           `json:"failed"`
	Longest time.Duration `json:"longest_ns"`
	P99     time.Duration `json:"p99_ns"`
	Median  time.Duration `json:"median_ns"`
	LastErr string        `json:"last_error,omitempty"`
	// Longest5 are the five longest waits, with when they began (since the
	// run began), for finding out what the sender waited for.
	Longest5 []string `json:"longest5,omitempty"`
}

// finish stops the sender and returns its figures.
func (s *sender) finish() senderResult {
	close(s.stop)
	<-s.done
	s.db.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := make([]int, len(s.waits))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(s.waits[b], s.waits[a]) })
	var top []string
	for _, i := range idx[:min(5, len(idx))] {
		top = append(top, fmt.Sprintf("%v at %v", s.waits[i].Round(time.Millisecond), s.at[i].Round(100*time.Millisecond)))
	}
	w := slices.Clone(s.waits)
	slices.Sort(w)
	r := senderResult{Writes: len(w), Failed: s.failed, LastErr: s.lastErr, Longest5: top}
	if len(w) > 0 {
		r.Longest, r.Median, r.P99 = w[len(w)-1], w[len(w)/2], w[min(len(w)-1, len(w)*99/100)]
	}
	return r
}

func (r senderResult) print(w io.Writer, interval time.Duration) {
	fmt.Fprintf(w, "  sending system beside the run: %d writes (one every %v), %d failed; wait: median %v, p99 %v, longest %v\n",
		r.Writes, interval, r.Failed, r.Median.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Longest.Round(time.Millisecond))
	if len(r.Longest5) > 0 {
		fmt.Fprintf(w, "    longest waits: %s\n", strings.Join(r.Longest5, ", "))
	}
	if r.LastErr != "" {
		fmt.Fprintf(w, "    last failure: %s\n", r.LastErr)
	}
}
