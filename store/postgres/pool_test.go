package postgres_test

import (
	"bufio"
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/internal/pgtest"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/postgres"
)

// TestTunePool reads one organisation through an untuned pool and through
// a tuned one whose configuration already had a BuildFrontend of its own:
// both must read the same contacts, rows larger than the buffer included;
// the caller's BuildFrontend must still build every connection's frontend,
// given a reader buffered with ReadBufferSize bytes (the configuration is
// tuned twice, as a caller may).
func TestTunePool(t *testing.T) {
	contacts := demodata.Generate(demodata.GenOptions{Seed: 5, Contacts: 3000, Today: testToday, HistoryFraction: 0.6,
		DirtyFraction: 0.1, StoredFraction: 0.6})
	// Rows of 1 MiB and of just over the buffer: messages the buffered
	// reader must hand over in pieces.
	big := []string{strings.Repeat("m", 1<<20), strings.Repeat("n", postgres.ReadBufferSize+17)}
	for i, m := range big {
		c := &contacts[10+i*1000]
		c.History = append(c.History, emailsched.Email{ContactID: c.ID, Type: emailsched.TypeBirthday,
			Date: testToday.AddDays(-400), Status: emailsched.StatusSent, Metadata: m, EmailTemplate: "t"})
	}
	url := pgtest.URL(t)
	plain, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	s := loaded(t, plain, contacts, emailsched.Campaigns{}, postgres.Options{})
	want := readAll(t, s)
	if len(want) < len(contacts)/2 {
		t.Fatalf("read %d contacts of %d", len(want), len(contacts))
	}

	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var readers []io.Reader
	cfg.ConnConfig.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		mu.Lock()
		readers = append(readers, r)
		mu.Unlock()
		return pgproto3.NewFrontend(r, w)
	}
	postgres.TunePool(cfg)
	postgres.TunePool(cfg)
	tuned, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tuned.Close()
	got := readAll(t, postgres.New(tuned, postgres.Options{Schema: s.Schema()}))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("the tuned pool read other contacts (-untuned +tuned):\n%s", diff)
	}
	found := 0
	for _, c := range got {
		for _, e := range c.History {
			for _, m := range big {
				if e.Metadata == m {
					found++
				}
			}
		}
	}
	if found != len(big) {
		t.Fatalf("found %d of the %d large rows", found, len(big))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(readers) == 0 {
		t.Fatal("the configuration's own BuildFrontend was never called")
	}
	for _, r := range readers {
		b, ok := r.(*bufio.Reader)
		if !ok || b.Size() != postgres.ReadBufferSize {
			t.Fatalf("BuildFrontend got a %T, want a *bufio.Reader of %d bytes", r, postgres.ReadBufferSize)
		}
	}
}
