package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/sqlite"
)

// whatIf previews what a run with the command's rules and configuration
// would change in the stored plan (scheduler.PreviewAt), on the database
// opened read-only, prints the changes by state and email type and, with
// out set, writes every changed row to the CSV file out.
func whatIf(ctx context.Context, sch *scheduler.Scheduler, today datecalc.Date, src store.ContactSource, out string,
	stdout, stderr io.Writer, prog *progress, st *sqlite.Store) int {
	var each func(*scheduler.RowChange) error
	var finish func() error
	if out != "" {
		cw, done, err := createFile(out)
		if err != nil {
			fmt.Fprintf(stderr, "schedule: -what-if-out: %v\n", err)
			return exitInput
		}
		w := csv.NewWriter(cw)
		w.Write([]string{"contact_id", "state", "type", "change", "old_date", "old_status", "old_reason",
			"new_date", "new_status", "new_reason"})
		each = func(ch *scheduler.RowChange) error {
			rec := []string{strconv.FormatInt(ch.ContactID, 10), ch.State, string(ch.Type), string(ch.Kind)}
			rec = append(rec, rowFields(ch.Old)...)
			return w.Write(append(rec, rowFields(ch.New)...))
		}
		finish = func() error {
			w.Flush()
			return done(w.Error())
		}
	}
	prog.begin(countContacts(ctx, st))
	p, err := sch.PreviewAt(ctx, today, src, each)
	prog.finish()
	if finish != nil {
		if ferr := finish(); ferr != nil && err == nil {
			err = fmt.Errorf("-what-if-out: %w", ferr)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "schedule: what-if failed: %v\n", err)
		return runFailure(err)
	}
	if err := writePreview(stdout, p); err != nil {
		fmt.Fprintf(stderr, "schedule: %v\n", err)
		return exitRun
	}
	return exitOK
}

// rowFields are a row's date, status and skip reason; empty for none.
func rowFields(e *emailsched.Email) []string {
	if e == nil {
		return []string{"", "", ""}
	}
	return []string{e.Date.String(), string(e.Status), string(e.SkipReason)}
}

// writePreview prints a preview: what changed against the stored plan, by
// state and email type, then the rows a run would write.
func writePreview(w io.Writer, p *scheduler.Preview) error {
	var b strings.Builder
	r := p.Report
	fmt.Fprintf(&b, "What-if for %s: rules %s (%s), configuration %s, against the stored plan; nothing was written.\n",
		r.Today, r.RulesName, short(r.RulesChecksum), short(r.ConfigChecksum))
	if r.Replan.Changed() {
		fmt.Fprintf(&b, "A run would re-plan every email: %s.\n", r.Replan)
	} else {
		b.WriteString("The stored plan was made with these settings: a run keeps stored dates while they are legal.\n")
	}
	if len(p.Counts) == 0 {
		b.WriteString("\nNo row would change.\n")
	} else {
		fmt.Fprintf(&b, "\n%-5s %-28s %8s %8s %7s %9s %8s %7s %8s\n", "state", "email type", "newly", "newly", "moved", "mean", "other", "added", "removed")
		fmt.Fprintf(&b, "%-5s %-28s %8s %8s %7s %9s %8s %7s %8s\n", "", "", "skipped", "allowed", "", "days", "changes", "", "")
		line := func(state, typ string, c scheduler.PreviewCount) {
			fmt.Fprintf(&b, "%-5s %-28s %8d %8d %7d %9s %8d %7d %8d\n", state, typ, c.NewlySkipped, c.NewlyAllowed, c.Moved,
				meanDays(c), c.Changed, c.Added, c.Removed)
		}
		for _, c := range p.Counts {
			state := c.State
			if state == "" {
				state = "-"
			}
			line(state, string(c.Type), c)
		}
		line("total", "", p.Total)
	}
	fmt.Fprintf(&b, "\nRows      %d inserted, %d updated, %d deleted, %d unchanged (what a run would write)\n",
		r.Rows.Inserted, r.Rows.Updated, r.Rows.Deleted, r.Rows.Unchanged)
	if r.Rows.Conflicting > 0 {
		fmt.Fprintf(&b, "          %d planned rows a unique index of the database would decline\n", r.Rows.Conflicting)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// meanDays is the mean move of a count, signed, or "-" when none moves.
func meanDays(c scheduler.PreviewCount) string {
	if c.Moved == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f", c.MeanMoveDays())
}

// short is the beginning of a checksum, enough to tell two apart.
func short(sum string) string {
	if len(sum) > 19 {
		return sum[:19]
	}
	return sum
}
