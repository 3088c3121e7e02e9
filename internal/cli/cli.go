// Package cli is the command line the programs under examples/ share, so
// that they all behave alike:
//
//   - -h and -help print the usage on stdout, once, and exit 0;
//   - -version prints the program's name and version (buildinfo.Line) on
//     stdout and exits 0, doing nothing else;
//   - bad usage, a flag that cannot be parsed or one found wrong after
//     parsing (Command.Fail), prints the error, the synopsis and a pointer
//     to -h on stderr and exits ExitUsage (3; 2 is never used: it is the
//     status of a Go program that crashes);
//   - the usage names the program by its fixed name, never os.Args[0]
//     (a temporary path under go run), and ends with example command
//     lines;
//   - the same things have the same flags, with the same placeholders:
//     -db PATH (the organisation database), -today YYYY-MM-DD (the run
//     date), -rules FILE|DIR, -config FILE and -allow-missing-states (see
//     Plan), -log-format text|json.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/internal/buildinfo"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/scheduler/configfile"
)

// ExitUsage is the exit status of bad usage or input in every program.
const ExitUsage = 3

// Main runs a program's run function with the command-line arguments and
// exits with its status. The context ends at the first Ctrl-C or SIGTERM,
// so that the program stops cleanly; a second signal kills it.
func Main(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the program
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Command is a program's command line: its flags and its usage text.
type Command struct {
	// Flags are the program's flags; New adds -version. A flag whose
	// usage string is empty is hidden: the usage does not list it.
	Flags *flag.FlagSet

	name, synopsis, description, notes string
	examples                           []string
	version                            bool
}

// SetNotes sets text that the usage prints after the flags and before the
// examples, such as a glossary of the words the program's output uses.
func (c *Command) SetNotes(text string) { c.notes = text }

// New returns the command line of the program name. synopsis is the
// usage line(s), starting with "usage: name"; description, when not
// empty, is printed between the synopsis and the flags; examples are
// command lines printed at the end of the usage (at least one).
func New(name, synopsis, description string, examples ...string) *Command {
	c := &Command{name: name, synopsis: synopsis, description: description, examples: examples}
	c.Flags = flag.NewFlagSet(name, flag.ContinueOnError)
	c.Flags.SetOutput(io.Discard) // Parse reports errors itself
	c.Flags.Usage = func() {}
	c.Flags.BoolVar(&c.version, "version", false, "print the program's name and version and exit")
	return c
}

// Parse parses args. When the program must not go on, it returns false
// and the exit status to end with: 0 after -h, -help or -version (their
// output on stdout), ExitUsage after a flag error (reported with the
// usage on stderr).
func (c *Command) Parse(args []string, stdout, stderr io.Writer) (code int, ok bool) {
	err := c.Flags.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.WriteUsage(stdout)
		return 0, false
	case err != nil:
		return c.Fail(stderr, "%v", err), false
	case c.version:
		fmt.Fprintln(stdout, buildinfo.Line(c.name))
		return 0, false
	}
	return 0, true
}

// Fail reports bad usage (a flag that cannot be parsed or is missing,
// flags that exclude each other): "name: message", the synopsis and where
// the rest is, on stderr. It returns ExitUsage.
func (c *Command) Fail(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "%s: %s\n%s\n(%s -h prints every flag, with examples)\n", c.name, fmt.Sprintf(format, a...), c.synopsis, c.name)
	return ExitUsage
}

// Error reports an error that is not bad usage, "name: message", on
// stderr, in plain words (Plain), and returns code.
func (c *Command) Error(stderr io.Writer, code int, format string, a ...any) int {
	fmt.Fprintf(stderr, "%s: %s\n", c.name, Plain(fmt.Sprintf(format, a...)))
	return code
}

// packagePrefix matches the package names the library's errors start with,
// as Go errors do ("sqlite: ", "dsl: "): an operator reads the message, not
// the package that made it.
var packagePrefix = regexp.MustCompile(`(^|: |\n)(sqlite|configfile|dsl|datecalc|scheduler|store|loadbalance): `)

// Plain returns msg without the library's package prefixes.
func Plain(msg string) string {
	for {
		plain := packagePrefix.ReplaceAllString(msg, "$1")
		if plain == msg {
			return msg
		}
		msg = plain
	}
}

// Synopsis returns the usage line(s) given to New.
func (c *Command) Synopsis() string { return c.synopsis }

// WriteUsage writes the usage to w: the synopsis, the description, every
// flag that is not hidden and the examples.
func (c *Command) WriteUsage(w io.Writer) {
	fmt.Fprintln(w, c.synopsis)
	if c.description != "" {
		fmt.Fprintf(w, "\n%s\n", c.description)
	}
	fmt.Fprintln(w, "\nFlags:")
	// The flags that are not hidden, in a set of their own, with their
	// defaults as declared (not as parsed).
	visible := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.Flags.VisitAll(func(f *flag.Flag) {
		if f.Usage != "" {
			visible.Var(f.Value, f.Name, f.Usage)
			visible.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	visible.SetOutput(w)
	visible.PrintDefaults()
	if c.notes != "" {
		fmt.Fprintf(w, "\n%s\n", c.notes)
	}
	title := "Example"
	if len(c.examples) > 1 {
		title += "s"
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	for _, e := range c.examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

// The usage strings of the flags that Plan registers; the schedule
// command's flags of the same names use them too.
const (
	ConfigUsage             = "read the configuration from `FILE`, YAML or JSON (see scheduler/configfile; default: every setting's default)"
	RulesUsage              = "read the rules from `FILE|DIR`: a rules file, or a directory whose *.rules files form one set (default: \"rules\" of the configuration, else the embedded default rules)"
	AllowMissingStatesUsage = "accept rules that leave states of the default rules without a rule (by default such rules are refused: start them with \"extends: default\" to keep those states)"
)

// Plan holds the flags of a program that plans contacts: the
// configuration and the rules to plan with.
type Plan struct {
	Config             string // -config FILE
	Rules              string // -rules FILE|DIR
	AllowMissingStates bool   // -allow-missing-states
}

// AddPlan registers -config, -rules and -allow-missing-states on fs.
func AddPlan(fs *flag.FlagSet) *Plan {
	p := new(Plan)
	fs.StringVar(&p.Config, "config", "", ConfigUsage)
	fs.StringVar(&p.Rules, "rules", "", RulesUsage)
	fs.BoolVar(&p.AllowMissingStates, "allow-missing-states", false, AllowMissingStatesUsage)
	return p
}

// Load returns the configuration -config names (configfile.Defaults
// without one), with -rules in place of its rules when given, and the rule
// set to plan with in its Scheduler.Rules: the configuration's rules, else
// the embedded default rules. Rules that leave a state of the default
// rules without a rule are refused unless -allow-missing-states (see
// dsl.CheckCoverage). Every error is bad input.
func (p *Plan) Load(ctx context.Context) (*configfile.File, error) {
	cf := configfile.Defaults()
	if p.Config != "" {
		var err error
		if cf, err = configfile.Load(ctx, p.Config); err != nil {
			return nil, err
		}
	}
	if p.Rules != "" {
		cf.Rules = p.Rules
	}
	set, err := cf.LoadRules(ctx)
	if err == nil {
		err = dsl.CheckCoverage(set, p.AllowMissingStates)
	}
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	cf.Scheduler.Rules = set
	return cf, nil
}

// Scheduler loads the configuration and the rules (Load) and returns them
// with a Scheduler made from them and the run date: today, a YYYY-MM-DD
// -today flag, or, when it is empty, today in the configured time zone.
// Every error is bad input.
func (p *Plan) Scheduler(ctx context.Context, today string) (*configfile.File, *scheduler.Scheduler, datecalc.Date, error) {
	cf, err := p.Load(ctx)
	if err != nil {
		return nil, nil, datecalc.Date{}, err
	}
	s, err := scheduler.New(cf.Scheduler)
	if err != nil {
		// Not reached from a file: configfile checks every value against
		// the ranges New checks.
		return nil, nil, datecalc.Date{}, fmt.Errorf("configuration: %w", err)
	}
	day, err := RunDate(s, today)
	return cf, s, day, err
}

// RunDate returns the run date a -today flag gives: YYYY-MM-DD, or, when
// it is empty, today in the scheduler's time zone.
func RunDate(s *scheduler.Scheduler, today string) (datecalc.Date, error) {
	if today == "" {
		return s.Today(), nil
	}
	day, err := datecalc.Parse(today)
	if err != nil {
		return datecalc.Date{}, fmt.Errorf("-today: %w", err)
	}
	return day, nil
}
