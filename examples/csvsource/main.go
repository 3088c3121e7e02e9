// Command csvsource shows how to embed emailsched with your own storage: a
// ContactSource that streams contacts from a CSV file and a ScheduleSink
// that writes the plan's changes as CSV.
//
//	go run ./examples/csvsource -csv examples/csvsource/testdata/contacts.csv -today 2025-03-03
//
// The input has the columns id, email, zip_code, state, birth_date,
// effective_date, sorted by id (the ContactSource contract). The output
// lists, per contact, the rows a real store would insert, update or delete.
// A CSV has no stored plan, so every planned email is an insert.
//
// Flags:
//
//	-csv FILE              the CSV file of contacts (required; -contacts FILE, its
//	                       former name, still works)
//	-today YYYY-MM-DD      the run date (default: today in the configured time zone,
//	                       America/Chicago by default)
//	-config FILE           the configuration file (see scheduler/configfile): its
//	                       scheduler settings and rules (its database, atomic,
//	                       batch_contacts and backup keys do not apply to a CSV)
//	-rules FILE|DIR        the rules (default: "rules" of the configuration, else the
//	                       embedded default rules)
//	-allow-missing-states  accept rules that leave states of the default rules
//	                       without a rule, as schedule does
//	-h, -help              print the usage on stdout
//	-version               print the program's name and version
//
// Exit status: 0 success (also for -h and -version), 1 the run failed, 3
// bad usage or input (flags, configuration, rules). 2, the status of a Go
// program that crashes, is never used.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/store"
)

func main() { cli.Main(run) }

// The exit statuses.
const (
	exitOK    = 0
	exitRun   = 1             // the run failed
	exitInput = cli.ExitUsage // bad usage or input
)

// run is the program: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := cli.New("csvsource",
		"usage: csvsource -csv FILE [-today YYYY-MM-DD] [-config FILE] [-rules FILE|DIR] [-allow-missing-states]",
		"csvsource plans the contacts of a CSV file (columns id, email, zip_code, state, birth_date,\n"+
			"effective_date, sorted by id) and writes the changes of the plan as CSV on stdout.",
		"csvsource -csv examples/csvsource/testdata/contacts.csv -today 2025-03-03")
	path := c.Flags.String("csv", "", "read the contacts from the CSV `FILE`, sorted by id (required)")
	today := c.Flags.String("today", "", "the run date, `YYYY-MM-DD` (default: today in the configured time zone)")
	plan := cli.AddPlan(c.Flags)
	if code, ok := c.Parse(args, stdout, stderr); !ok {
		return code
	}
	if *path == "" {
		return c.Fail(stderr, "no contacts: give -csv FILE")
	}
	if c.Flags.NArg() > 0 {
		return c.Fail(stderr, "unexpected argument %q", c.Flags.Arg(0))
	}
	fail := func(code int, err error) int { return c.Error(stderr, code, "%v", err) }
	_, s, day, err := plan.Scheduler(ctx, *today)
	if err != nil {
		return fail(exitInput, err)
	}
	sink := &csvSink{w: csv.NewWriter(stdout)}
	rep, err := s.RunAt(ctx, day, csvSource{path: *path}, sink)
	if err != nil {
		return fail(exitRun, err)
	}
	fmt.Fprintf(stderr, "%d contacts read, %d planned, %d invalid; %d rows written\n", rep.Contacts, rep.Valid, rep.Invalid, rep.Rows.Inserted)
	return exitOK
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
