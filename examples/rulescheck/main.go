// Command rulescheck checks rules files and explains what they decide.
//
// Usage:
//
//	rulescheck [flags] [-rules FILE|DIR] [FILE|DIR...]
//
// for example, from a checkout:
//
//	go run ./examples/rulescheck testdata/rules/default.rules
//	go run ./examples/rulescheck -state CA -birthday 1950-12-01 -date 2024-09-02 -rules testdata/rules/default.rules
//
// It loads the files that -rules and the arguments name (at least one) as
// one rule set, exactly as schedule -rules does: a directory stands for
// its rules files (*.rules, the extension in any case), and a set that
// leaves a state of the default rules without a rule is refused, listing
// those states, unless -allow-missing-states says it is meant (a file that
// starts with "extends: default" keeps them). When the rules have
// problems, it prints every diagnostic. When they are valid, it prints
// each state's rule and, given a contact (-state or -zip, with -birthday
// and -effective-date) and a -date, whether that date is excluded for the
// contact, by which rule and for which period. Dates are YYYY-MM-DD.
// -today is the run date that ages are computed on (default: -date).
//
// -h (or -help) prints the usage on stdout; -version prints the program's
// name and version.
//
// Exit status: 0 the rules are valid (also for -h and -version); 3 they
// are not, or bad usage. (2, the status of a Go program that crashes, is
// never used.)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/internal/cli"
	"github.com/emailsched/emailsched/rules"
)

func main() { cli.Main(run) }

// The exit statuses.
const (
	exitOK    = 0
	exitInput = cli.ExitUsage // invalid rules or bad usage, as schedule's
)

// synopsis is the first lines of the usage.
const synopsis = `usage: rulescheck [-allow-missing-states] [-state XX | -zip ZIP] [-birthday YYYY-MM-DD]
                  [-effective-date YYYY-MM-DD] [-date YYYY-MM-DD] [-today YYYY-MM-DD]
                  [-rules FILE|DIR] [FILE|DIR...]`

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := cli.New("rulescheck", synopsis,
		"rulescheck checks rules files as one rule set, as schedule -rules loads them, and prints each\n"+
			"state's rule; given a contact and a -date, it says whether that date is excluded. The rules\n"+
			"are -rules and the arguments: at least one.",
		"rulescheck testdata/rules/default.rules",
		"rulescheck -state CA -birthday 1950-12-01 -date 2024-09-02 -rules testdata/rules/default.rules")
	fs := cmd.Flags
	rulesPath := fs.String("rules", "", "check the rules of `FILE|DIR`: a rules file, or a directory whose *.rules files form one set (the arguments name more)")
	state := fs.String("state", "", "the contact's state field (two-letter code `XX`)")
	zip := fs.String("zip", "", "the contact's `ZIP` code (decides the state when it maps to one)")
	var birthday, effective, date, today dateFlag
	fs.Var(&birthday, "birthday", "the contact's birthday, `YYYY-MM-DD`")
	fs.Var(&effective, "effective-date", "the contact's policy effective date, `YYYY-MM-DD`")
	fs.Var(&date, "date", "the date to check, `YYYY-MM-DD`")
	fs.Var(&today, "today", "the run date, `YYYY-MM-DD`, that ages are computed on (default: -date)")
	allowMissing := fs.Bool("allow-missing-states", false, cli.AllowMissingStatesUsage)
	if code, ok := cmd.Parse(args, stdout, stderr); !ok {
		return code
	}
	usage := func(format string, a ...any) int { return cmd.Fail(stderr, format, a...) }
	args = fs.Args()
	if *rulesPath != "" {
		args = append([]string{*rulesPath}, args...)
	}
	if len(args) == 0 {
		return usage("no rules file: give -rules FILE|DIR or the files as arguments")
	}
	contact := *state != "" || *zip != "" || !birthday.d.IsZero() || !effective.d.IsZero() || !today.d.IsZero()
	if contact && date.d.IsZero() {
		return usage("-date is required to check a contact")
	}
	if !date.d.IsZero() && *state == "" && *zip == "" {
		return usage("-date needs a contact's -state or -zip")
	}
	var res rules.StateResolution
	if !date.d.IsZero() {
		if _, ok := emailsched.ParseState(*state); *state != "" && !ok {
			return usage("unknown state code %q", *state)
		}
		r, err := rules.ResolveState(*zip, *state)
		if err != nil {
			return usage("%v", err)
		}
		res = r
	}
	var paths []string
	for _, p := range args {
		files, err := dsl.RulesFiles(p)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitInput
		}
		paths = append(paths, files...)
	}
	set, err := dsl.LoadFiles(ctx, paths...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		var ds dsl.Diagnostics
		if errors.As(err, &ds) {
			fmt.Fprintf(stderr, "%d problem(s)\n", len(ds))
		}
		return exitInput
	}
	if err := dsl.CheckCoverage(set, *allowMissing); err != nil {
		fmt.Fprintln(stderr, err)
		return exitInput
	}
	printTable(stdout, set)
	if date.d.IsZero() {
		return exitOK
	}
	if today.d.IsZero() {
		today = date
	}
	c := &emailsched.Contact{ID: 1, ZIP: *zip, State: *state, Birthday: birthday.d, EffectiveDate: effective.d}
	explain(stdout, set, c, res, today.d, date.d)
	return exitOK
}

// printTable prints the rule of every state that has one.
func printTable(w io.Writer, set *rules.Set) {
	fmt.Fprintf(w, "rules:             %s\nchecksum:          %s\npre_window_buffer: %d\n\n", set.Name(), set.Checksum(), set.Buffer())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tRULE\tWRITTEN AT")
	states := emailsched.States()
	slices.SortFunc(states, func(a, b emailsched.State) int { return strings.Compare(a.String(), b.String()) })
	for _, s := range states {
		r, dynamic, origin := set.Describe(s)
		if origin == "" {
			continue
		}
		desc := r.String()
		if dynamic {
			desc = "depends on the contact"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s, desc, origin)
	}
	fmt.Fprintln(tw, "others\tno_exclusion()\t-")
	tw.Flush()
}

// explain prints the rule that applies to the contact and whether day is
// excluded.
func explain(w io.Writer, set *rules.Set, c *emailsched.Contact, res rules.StateResolution, today, day datecalc.Date) {
	from := "ZIP code"
	if res.Source == rules.SourceField {
		from = "state field"
	}
	fmt.Fprintf(w, "\ncontact: state %s (from the %s), birthday %s, effective date %s\n",
		res.State, from, orNone(c.Birthday), orNone(c.EffectiveDate))
	if res.Mismatch {
		fmt.Fprintf(w, "note: the ZIP code says %s, the state field %s: the ZIP code wins\n", res.State, res.Field)
	}
	a := set.Apply(c, res.State, today)
	if a.Err() != nil {
		fmt.Fprintf(w, "rule:    failed for this contact: %v\n", a.Err())
	} else {
		fmt.Fprintf(w, "rule:    %s (%s)\n", a.Rule(), a.Origin())
	}
	x, excluded := a.Excluded(day)
	switch {
	case !excluded:
		fmt.Fprintf(w, "%s: not excluded\n", day)
		return
	case x.YearRound, x.Unknown:
		fmt.Fprintf(w, "%s: excluded (%s), every day\n", day, x.Reason)
		return
	}
	fmt.Fprintf(w, "%s: excluded (%s) by %s, anniversary %s, period %s to %s\n",
		day, x.Reason, x.Window, x.Anniversary, x.Period.Start, x.Period.End)
	if next, ok := a.NextAllowed(day); ok {
		fmt.Fprintf(w, "first day allowed: %s\n", next)
	}
}

func orNone(d datecalc.Date) string {
	if d.IsZero() {
		return "none"
	}
	return d.String()
}

// dateFlag is a YYYY-MM-DD flag.
type dateFlag struct{ d datecalc.Date }

func (f *dateFlag) String() string { return f.d.String() }

func (f *dateFlag) Set(s string) error {
	d, err := datecalc.Parse(s)
	if err != nil {
		return fmt.Errorf("expected a date written YYYY-MM-DD")
	}
	f.d = d
	return nil
}
