package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store/sqlite"
)

// writeSummary prints the report's summary and the volume per month.
func writeSummary(w io.Writer, rep *scheduler.Report, dryRun bool) error {
	if dryRun {
		if _, err := fmt.Fprintln(w, "Dry run: nothing was written; the row counts say what a run would write."); err != nil {
			return err
		}
	}
	if err := rep.WriteSummary(w); err != nil {
		return err
	}
	if rep.Balance == nil {
		return nil
	}
	return writeMonths(w, rep.Today, rep.Balance)
}

// monthVolume sums the pre-scheduled emails of one month.
type monthVolume struct {
	month                    datecalc.Date // its first day
	before, after, ed        int
	maxDay                   int
	daysOverCap, daysShifted int
}

// months sums b's days by month from today's month, for the next 12 months.
func months(today datecalc.Date, b *loadbalance.Report) []monthVolume {
	first, _ := datecalc.New(today.Year(), today.Month(), 1)
	out := make([]monthVolume, 12)
	for i := range out {
		out[i].month = addMonths(first, i)
	}
	index := func(d datecalc.Date) int {
		i := (d.Year()-first.Year())*12 + int(d.Month()) - int(first.Month())
		if i < 0 || i >= len(out) {
			return -1
		}
		return i
	}
	for _, v := range b.Before {
		if i := index(v.Date); i >= 0 {
			out[i].before += v.Total
		}
	}
	for _, v := range b.After {
		if i := index(v.Date); i >= 0 {
			m := &out[i]
			m.after += v.Total
			m.ed += v.ED
			m.maxDay = max(m.maxDay, v.Total)
			if v.Total > b.Cap {
				m.daysOverCap++
			}
			if v.Arrived > 0 || v.Left > 0 {
				m.daysShifted++
			}
		}
	}
	return out
}

// addMonths returns the first day of the month n months after first (a
// first of a month).
func addMonths(first datecalc.Date, n int) datecalc.Date {
	m := int(first.Month()) - 1 + n
	d, _ := datecalc.New(first.Year()+m/12, time.Month(m%12+1), 1)
	return d
}

// writeMonths prints the table of pre-scheduled emails per month.
func writeMonths(w io.Writer, today datecalc.Date, b *loadbalance.Report) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\nPre-scheduled emails per month, before and after load balancing\n")
	fmt.Fprintf(&sb, "Daily cap %d emails; a day above %d gives its excess to the next days with room; a day with more than %d\n", b.Cap, b.Threshold, b.EDSoftLimit)
	fmt.Fprintf(&sb, "effective-date emails spreads them over nearby days. %d emails moved (%d effective-date, %d off busy days);\n", b.Moved, b.EDSmoothed, b.Overflowed)
	fmt.Fprintf(&sb, "%d stayed because no other day was allowed for them (exclusion period, event, frequency limit) or had room.\n", b.Unmovable+b.EDUnsmoothed)
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "month\tbefore\tafter\teffective date\tbusiest day\tdays over cap\tdays with moves\t")
	var total monthVolume
	for _, m := range months(today, b) {
		fmt.Fprintf(tw, "%04d-%02d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", m.month.Year(), int(m.month.Month()), m.before, m.after, m.ed, m.maxDay, m.daysOverCap, m.daysShifted)
		total.before += m.before
		total.after += m.after
		total.ed += m.ed
		total.maxDay = max(total.maxDay, m.maxDay)
		total.daysOverCap += m.daysOverCap
		total.daysShifted += m.daysShifted
	}
	fmt.Fprintf(tw, "12 months\t%d\t%d\t%d\t%d\t%d\t%d\t\n", total.before, total.after, total.ed, total.maxDay, total.daysOverCap, total.daysShifted)
	if err := tw.Flush(); err != nil {
		return err
	}
	writeOverThreshold(&sb, b)
	_, err := io.WriteString(w, sb.String())
	return err
}

// maxOverThresholdDays bounds the days above the threshold the summary
// names one by one.
const maxOverThresholdDays = 10

// writeOverThreshold names the days still above the threshold after
// balancing, and why: their excess had no legal day with room to go to.
func writeOverThreshold(sb *strings.Builder, b *loadbalance.Report) {
	n := 0
	for _, d := range b.After {
		if d.Total <= b.Threshold || b.Cap == 0 {
			continue
		}
		if n++; n > maxOverThresholdDays {
			continue
		}
		if n == 1 {
			sb.WriteString("Days still above the threshold: every later day their excess may use (up to each email's event,\n" +
				"or the end of its AEP send window) was full, excluded for its contact or over its frequency limit:\n")
		}
		fmt.Fprintf(sb, "  %s  %d emails, %d of them with no other allowed day\n", d.Date, d.Total, d.Stuck)
	}
	if n > maxOverThresholdDays {
		fmt.Fprintf(sb, "  and %d more days\n", n-maxOverThresholdDays)
	}
}

// statusRuns is the number of runs -status lists.
const statusRuns = 10

// writeStatus prints the last runs of the checkpoints table, newest first.
func writeStatus(ctx context.Context, w io.Writer, st *sqlite.Store) error {
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		return err
	}
	if len(cps) == 0 {
		_, err := fmt.Fprintln(w, "No run recorded in this database.")
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "Last %d of %d runs, newest first:\n\n", min(statusRuns, len(cps)), len(cps))
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN ID\tRUN DATE\tSTATUS\tSTARTED (UTC)\tDURATION\tCONTACTS\tNEW\tCHANGED\tDELETED\tUNCHANGED\tNOT WRITTEN\tTAKEN\tGONE\tERROR")
	recent := slices.Clone(cps[max(0, len(cps)-statusRuns):])
	slices.Reverse(recent)
	for _, c := range recent {
		started, duration := "-", "-"
		if !c.StartedAt.IsZero() {
			started = c.StartedAt.UTC().Format("2006-01-02 15:04:05")
			if !c.FinishedAt.IsZero() {
				duration = c.FinishedAt.Sub(c.StartedAt).Round(time.Millisecond).String()
			}
		}
		errText := c.Error
		if i := strings.IndexByte(errText, '\n'); i >= 0 {
			errText = errText[:i] + " …"
		}
		if r := []rune(errText); len(r) > 80 {
			errText = string(r[:79]) + "…"
		}
		r := c.Rows
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", c.RunID, orDash(c.RunDate), orDash(c.Status), started, duration,
			c.Contacts, r.Inserted, r.Updated, r.Deleted, r.Unchanged, r.Conflicting, r.Taken, c.DeletedContacts, orDash(errText))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	sb.WriteString(statusLegend)
	_, err = io.WriteString(w, sb.String())
	return err
}

// statusLegend says what -status's columns count.
const statusLegend = `
NEW, CHANGED, DELETED, UNCHANGED: rows of the plan (email_schedules) the run inserted, updated, deleted, left as they were.
NOT WRITTEN: planned emails the history already holds (same contact, type and year): never sent twice.
TAKEN: rows the sending system took over during the run; those contacts are planned again by the next run.
GONE: contacts that no longer exist; their planned emails were deleted, their history kept.
`

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
