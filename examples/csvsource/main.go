// Command csvsource shows how to embed emailsched with your own storage: a
// ContactSource that streams contacts from a CSV file and a ScheduleSink
// that writes the plan's changes as CSV.
//
//	go run ./examples/csvsource -contacts examples/csvsource/testdata/contacts.csv -today 2025-03-03
//
// The input has the columns id, email, zip_code, state, birth_date,
// effective_date, sorted by id (the ContactSource contract). The output
// lists, per contact, the rows a real store would insert, update or delete.
// A CSV has no stored plan, so every planned email is an insert.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("csvsource", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("contacts", "", "CSV file of contacts, sorted by id (required)")
	today := fs.String("today", "", "run date YYYY-MM-DD (default: today in America/Chicago)")
	if err := fs.Parse(args); err != nil || *path == "" {
		fmt.Fprintln(stderr, "usage: csvsource -contacts FILE.csv [-today YYYY-MM-DD]")
		return 2
	}
	s, err := scheduler.New(scheduler.Config{Rules: dsl.Default()})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	day := s.Today()
	if *today != "" {
		if day, err = datecalc.Parse(*today); err != nil {
			fmt.Fprintln(stderr, err)
			return 2
		}
	}
	sink := &csvSink{w: csv.NewWriter(stdout)}
	rep, err := s.RunAt(ctx, day, csvSource{path: *path}, sink)
	if err != nil {
		fmt.Fprintln(stderr, "csvsource:", err)
		return 1
	}
	fmt.Fprintf(stderr, "%d contacts read, %d planned, %d invalid; %d rows written\n", rep.Contacts, rep.Valid, rep.Invalid, rep.Rows.Inserted)
	return 0
}

// csvSource streams contacts from a CSV file. Each call to Contacts opens
// the file again: the scheduler reads the source twice when it balances
// load.
type csvSource struct{ path string }

var _ store.ContactSource = csvSource{}

func (s csvSource) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	return func(yield func(*emailsched.Contact, error) bool) {
		f, err := os.Open(s.path)
		if err != nil {
			yield(nil, err)
			return
		}
		defer f.Close()
		r := csv.NewReader(f)
		r.FieldsPerRecord = 6
		if _, err := r.Read(); err != nil { // the header
			yield(nil, fmt.Errorf("%s: %w", s.path, err))
			return
		}
		var c emailsched.Contact // one buffer, reused: the contract allows it
		var last int64
		for {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, fmt.Errorf("%s: %w", s.path, err))
				return
			}
			c.Reset()
			id, err := strconv.ParseInt(rec[0], 10, 64)
			if err != nil || id <= last {
				line, _ := r.FieldPos(0)
				yield(nil, fmt.Errorf("%s:%d: id %q is not a number above the previous id %d", s.path, line, rec[0], last))
				return
			}
			last = id
			c.ID, c.Email, c.ZIP, c.State = id, rec[1], rec[2], rec[3]
			c.Birthday = readDate(&c, emailsched.FieldBirthday, rec[4])
			c.EffectiveDate = readDate(&c, emailsched.FieldEffectiveDate, rec[5])
			if !yield(&c, nil) {
				return
			}
		}
	}
}

// readDate parses an optional date; an unreadable one is recorded as an
// issue of the field, which disables only the emails that need it.
func readDate(c *emailsched.Contact, field, text string) datecalc.Date {
	if text == "" {
		return datecalc.Date{}
	}
	d, err := datecalc.Parse(text)
	if err != nil {
		c.Issues = append(c.Issues, emailsched.FieldIssue{Field: field, Value: text, Reason: err.Error()})
	}
	return d
}

// csvSink writes every change of a run as a CSV line.
type csvSink struct {
	w      *csv.Writer
	header bool
}

var _ store.ScheduleSink = (*csvSink)(nil)

func (s *csvSink) Begin(context.Context, emailsched.RunInfo) (store.Writer, error) { return s, nil }

func (s *csvSink) Write(_ context.Context, d *store.Delta) error {
	if !s.header {
		s.header = true
		if err := s.w.Write([]string{"change", "contact_id", "email_type", "scheduled_send_date", "status", "skip_reason", "event_date"}); err != nil {
			return err
		}
	}
	for _, rows := range []struct {
		change string
		emails []emailsched.Email
	}{{"insert", d.Insert}, {"update", d.Update}, {"delete", d.Delete}} {
		for _, e := range rows.emails {
			rec := []string{rows.change, strconv.FormatInt(d.ContactID, 10), string(e.Type), e.Date.String(), string(e.Status), string(e.SkipReason), e.Event.String()}
			if err := s.w.Write(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *csvSink) Commit(context.Context, store.Summary) error {
	s.w.Flush()
	return s.w.Error()
}

func (s *csvSink) Abort(context.Context, error) error { return nil }
