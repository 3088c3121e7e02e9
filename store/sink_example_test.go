package store_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/memory"
)

// printSink is the smallest useful sink: Begin starts a run, Write
// receives each contact's changes (the Delta is reused after Write
// returns: copy what you keep), Commit makes the run's changes durable,
// Abort discards them. This one prints the changes when the run commits.
type printSink struct{ out io.Writer }

func (s printSink) Begin(ctx context.Context, run emailsched.RunInfo) (store.Writer, error) {
	return &printWriter{out: s.out, run: run.ID}, nil
}

type printWriter struct {
	out   io.Writer
	run   string
	lines []string
}

func (w *printWriter) Write(ctx context.Context, d *store.Delta) error {
	for _, e := range d.Insert {
		w.lines = append(w.lines, fmt.Sprintf("insert contact %d %s %s %s", e.ContactID, e.Date, e.Type, e.Status))
	}
	for _, e := range d.Update {
		w.lines = append(w.lines, fmt.Sprintf("update row %d: %s %s", e.ID, e.Date, e.Status))
	}
	for _, e := range d.Delete {
		w.lines = append(w.lines, fmt.Sprintf("delete row %d", e.ID))
	}
	return nil
}

func (w *printWriter) Commit(ctx context.Context, s store.Summary) error {
	for _, l := range w.lines {
		if _, err := fmt.Fprintln(w.out, l); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w.out, "%s: %d contacts, %d rows written\n", w.run, s.Contacts, s.Rows.Written())
	return err
}

func (w *printWriter) Abort(ctx context.Context, cause error) error {
	w.lines = nil // nothing was made visible: nothing to undo
	return nil
}

// A sink of your own: the scheduler hands it, per contact, only the rows
// that change.
func Example_sink() {
	contacts := []emailsched.Contact{{ID: 1, Email: "pat@example.com", ZIP: "73301", Birthday: datecalc.MustNew(1960, 5, 1)}}
	src, err := memory.New(contacts, emailsched.Campaigns{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := scheduler.New(scheduler.Config{NewRunID: func(time.Time) string { return "run-1" }})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := s.RunAt(context.Background(), datecalc.MustNew(2025, 3, 3), src, printSink{out: os.Stdout}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// insert contact 1 2025-04-17 birthday pre-scheduled
	// insert contact 1 2025-09-15 aep pre-scheduled
	// run-1: 1 contacts, 2 rows written
}
