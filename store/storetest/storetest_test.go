package storetest_test

import (
	"context"
	"iter"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/memory"
	"github.com/emailsched/emailsched/store/storetest"
)

// broken adapters wrap memory.Store with one fault each; the suite must
// fail on every one of them.
type brokenSource struct {
	*memory.Store
	fault string
}

func (b brokenSource) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	inner := b.Store.Contacts(ctx)
	if b.fault == "silentcancel" {
		inner = b.Store.Contacts(context.Background())
	}
	return func(yield func(*emailsched.Contact, error) bool) {
		switch b.fault {
		case "reverse":
			var all []emailsched.Contact
			for c, err := range inner {
				if err != nil {
					yield(nil, err)
					return
				}
				all = append(all, *c)
			}
			for i := len(all) - 1; i >= 0; i-- {
				if !yield(&all[i], nil) {
					return
				}
			}
			return
		}
		for c, err := range inner {
			if err != nil {
				yield(nil, err)
				return
			}
			if b.fault == "silentcancel" && ctx.Err() != nil {
				return
			}
			cp := *c
			switch b.fault {
			case "dropcarrier":
				cp.Carrier = ""
			case "droprunid":
				cp.Stored = slices.Clone(cp.Stored)
				for i := range cp.Stored {
					cp.Stored[i].RunID = ""
				}
			case "dropissues":
				cp.Issues = nil
			case "nodeleted":
				if cp.Deleted {
					continue
				}
			}
			if !yield(&cp, nil) {
				return
			}
		}
	}
}

type brokenSink struct {
	*memory.Store
	fault string
	hist  map[int64]bool // IDs of history rows
}

func (b brokenSink) Begin(ctx context.Context, run emailsched.RunInfo) (store.Writer, error) {
	w, err := b.Store.Begin(ctx, run)
	return &brokenWriter{Writer: w, b: b}, err
}

type brokenWriter struct {
	store.Writer
	b    brokenSink
	held []*store.Delta
}

func (w *brokenWriter) Write(ctx context.Context, d *store.Delta) error {
	switch w.b.fault {
	case "nocopy": // keeps the caller's Delta until Commit
		w.held = append(w.held, d)
		return nil
	case "takenfatal": // fails the run on a row the sending system took
		for _, rows := range [][]emailsched.Email{d.Update, d.Delete} {
			for _, e := range rows {
				if w.b.hist[e.ID] {
					return store.ErrNotPlanned
				}
			}
		}
	case "accepthistory": // silently drops what it may not write
		cp := *d
		keep := func(e emailsched.Email) bool { return w.b.hist[e.ID] }
		cp.Update = slices.DeleteFunc(slices.Clone(d.Update), keep)
		cp.Delete = slices.DeleteFunc(slices.Clone(d.Delete), keep)
		cp.Insert = slices.DeleteFunc(slices.Clone(d.Insert), func(e emailsched.Email) bool { return !e.Status.IsPlanned() })
		cp.Update = slices.DeleteFunc(cp.Update, func(e emailsched.Email) bool { return !e.Status.IsPlanned() })
		return w.Writer.Write(ctx, &cp)
	}
	return w.Writer.Write(ctx, d)
}

func (w *brokenWriter) Commit(ctx context.Context, s store.Summary) error {
	for _, d := range w.held {
		if err := w.Writer.Write(ctx, d); err != nil {
			return err
		}
	}
	return w.Writer.Commit(ctx, s)
}

func (w *brokenWriter) Abort(ctx context.Context, cause error) error {
	if w.b.fault == "abortcommits" {
		w.Writer.Commit(ctx, store.Summary{})
		return nil
	}
	return w.Writer.Abort(ctx, cause)
}

var faults = []string{"reverse", "silentcancel", "dropcarrier", "droprunid", "dropissues", "nocopy", "accepthistory", "abortcommits",
	"nodeleted", "takenfatal"}

// TestBrokenAdapter runs the suite on the adapter named by
// STORETEST_BROKEN; TestSuiteCatchesFaults runs it in a child process.
func TestBrokenAdapter(t *testing.T) {
	fault := os.Getenv("STORETEST_BROKEN")
	if fault == "" {
		t.Skip("run by TestSuiteCatchesFaults")
	}
	storetest.Run(t, func(t *testing.T, f storetest.Fixture) (store.ContactSource, store.ScheduleSink) {
		s, err := memory.New(f.AllContacts(), f.Campaigns)
		if err != nil {
			t.Fatal(err)
		}
		hist := map[int64]bool{}
		for _, c := range f.AllContacts() {
			for _, e := range append(c.History, c.Stored...) {
				if e.ID != 0 && !e.Status.IsPlanned() {
					hist[e.ID] = true
				}
			}
		}
		return brokenSource{s, fault}, brokenSink{s, fault, hist}
	})
}

func TestSuiteCatchesFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	for _, fault := range append([]string{"none"}, faults...) {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenAdapter$", "-test.v", "-test.failfast")
			cmd.Env = append(os.Environ(), "STORETEST_BROKEN="+fault)
			out, err := cmd.CombinedOutput()
			failed := strings.Contains(string(out), "--- FAIL")
			switch {
			case fault == "none" && (err != nil || failed):
				t.Errorf("the suite fails on a correct adapter:\n%s", out)
			case fault != "none" && !failed:
				t.Errorf("the suite does not catch fault %q (err %v):\n%s", fault, err, out)
			}
		})
	}
}
