package configfile

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/emailsched/emailsched/internal/safefile"
	"github.com/emailsched/emailsched/internal/snippet"
	"github.com/emailsched/emailsched/scheduler"
)

// File is a loaded configuration: every key of the file, with the defaults
// applied to the keys it does not set. Scheduler holds explicit values for
// every parameter (never nil pointers), so printing it shows what a run uses.
type File struct {
	// Name is the file's name as given to Load or Parse.
	Name string
	// Scheduler holds the scheduler's parameters. Rules, Clock, NewRunID,
	// Progress and Logger are left unset: they are not configuration.
	Scheduler scheduler.Config
	// PreWindowBuffer replaces the rules' pre-window buffer when set
	// (0-366 days); nil keeps the rules files' own. See LoadRules.
	PreWindowBuffer *int
	// Database is the path of the organisation database.
	Database string
	// Rules is a rules file or a directory whose *.rules files form one
	// set; empty means the embedded default rules.
	Rules string
	// Atomic makes a run one database transaction: an interrupted or failed
	// run leaves the previous plan entirely intact, and the sending system
	// waits while the whole change is written. By default (false) a run
	// writes its changes, once it has planned every contact, in short
	// transactions of whole contacts (see BatchContacts).
	Atomic bool
	// BulkWrites lets a run that is not atomic write a large change in
	// bulk, in one transaction (sqlite.Options.BulkWrites).
	BulkWrites bool
	// BatchContacts bounds the contacts of one write transaction when the
	// run is not atomic (1-1,000,000; a transaction also ends after about
	// 200 ms). Defaults to 1000.
	BatchContacts int
	// Backup configures the backups taken before a run.
	Backup Backup
}

// Backup configures the online backups taken before a run.
type Backup struct {
	// Dir receives the backups; empty means a "backups" directory beside
	// the database.
	Dir string
	// RetentionDays deletes backups older than that many days after each
	// backup (0-3650); 0 keeps every backup. Defaults to 7.
	RetentionDays int
}

// Defaults returns the configuration of an empty file: the documented
// default of every key.
func Defaults() *File {
	f := &File{BatchContacts: 1000, Backup: Backup{RetentionDays: 7}}
	f.Scheduler, _ = scheduler.Config{}.WithDefaults() // the zero Config is valid
	return f
}

// Limits on what Load and Parse read, so that no file can exhaust the
// process: a configuration is a few hundred bytes.
const (
	// MaxFileSize bounds the size of a configuration file, in bytes.
	MaxFileSize = 64 << 10
	// MaxProblems bounds the problems reported for one file; the last
	// says how many more there were.
	MaxProblems = 20
	// MaxListLength bounds a list of days (one per day of the year).
	MaxListLength = 366
)

// Load reads and parses the configuration file at path (see Parse).
// Relative paths in it (database, rules, backup.dir) are resolved against
// the file's directory. It reads only a regular file of at most
// MaxFileSize bytes (a FIFO or a device is refused at once), and gives up
// when ctx ends.
func Load(ctx context.Context, path string) (*File, error) {
	data, err := safefile.Read(ctx, path, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("configfile: %w", err)
	}
	f, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	for _, p := range []*string{&f.Database, &f.Rules, &f.Backup.Dir} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return f, nil
}

// Parse parses a configuration in YAML or JSON; name is used in messages.
// Keys it does not set keep their defaults (see Defaults). Every unknown or
// duplicate key, value of the wrong type and value out of range is reported
// at once: the error is then Problems.
func Parse(name string, data []byte) (*File, error) {
	p := &parser{name: name, f: Defaults()}
	p.f.Name = name
	if len(data) > MaxFileSize {
		p.add(&yaml.Node{}, "", "the file is %d bytes long, more than the %d a configuration may have", len(data), MaxFileSize)
		return nil, p.done()
	}
	p.lines = yamlLines(yamlText(data))
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return p.f, nil // empty, or only comments
	case err != nil:
		p.syntax(err)
		return nil, p.done()
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		p.add(&more, "", "the file must hold one document, found a second one")
		return nil, p.done()
	}
	if root := deref(doc.Content[0]); root.Kind == yaml.MappingNode {
		p.mapping(root, "")
	} else if root.ShortTag() != "!!null" {
		p.add(root, "", "the file must be a mapping of keys to values (such as \"send_time: 08:30\"), found %s", describe(root))
	}
	if len(p.problems) > 0 {
		return nil, p.done()
	}
	return p.f, nil
}

// done returns the problems, the last saying how many more there were.
func (p *parser) done() Problems {
	if p.more > 0 {
		p.problems = append(p.problems, &Problem{File: p.name, Message: fmt.Sprintf("and %d more problems", p.more)})
		p.more = 0
	}
	return p.problems
}

// Problem is one fault of a configuration file.
type Problem struct {
	// File is the file's name as given to Load or Parse.
	File string
	// Line and Column locate the fault, both counting from 1; zero when
	// unknown.
	Line, Column int
	// Key is the dotted key the fault concerns ("timing.catch_up_spread_days");
	// empty for faults of the file as a whole.
	Key string
	// Message says what is wrong and what is allowed.
	Message string
	// Snippet is the line, prefixed with its number, and a caret under
	// Column; empty when there is no such line.
	Snippet string
}

// Error renders the problem as "file:line:col: message" and the snippet on
// the next lines.
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
		}
	}
	b.WriteString(": " + p.Message)
	if p.Snippet != "" {
		b.WriteString("\n" + p.Snippet)
	}
	return b.String()
}

// Problems is every problem of a configuration file, in file order; it is
// the error type of Load and Parse for an invalid file (use errors.As).
type Problems []*Problem

// Error renders every problem, separated by blank lines.
func (ps Problems) Error() string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "\n\n")
}

// parser walks the YAML node tree against the schema.
type parser struct {
	name     string
	lines    []string
	f        *File
	problems Problems
	more     int // problems beyond MaxProblems
}

func (p *parser) add(n *yaml.Node, key, format string, args ...any) {
	if len(p.problems) >= MaxProblems {
		p.more++
		return
	}
	pr := &Problem{File: p.name, Line: n.Line, Column: n.Column, Key: key, Message: fmt.Sprintf(format, args...)}
	if pr.Line >= 1 && pr.Line <= len(p.lines) {
		pr.Snippet = snippet.Render(pr.Line, p.lines[pr.Line-1], pr.Column)
	}
	p.problems = append(p.problems, pr)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax records a YAML syntax error, at its line when the parser gave one.
func (p *parser) syntax(err error) {
	msg := err.Error()
	n := &yaml.Node{}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.add(n, "", "not valid YAML: %s", msg)
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapping checks the keys of the section prefix ("" for the top level).
func (p *parser) mapping(m *yaml.Node, prefix string) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, at := m.Content[i], m.Content[i+1] // at: where the value is written (an alias's own place)
		v := deref(at)
		full := prefix + k.Value
		if first, dup := seen[k.Value]; dup {
			p.add(k, full, "duplicate key %q, first set on line %d", full, first.Line)
			continue
		}
		seen[k.Value] = k
		if v.ShortTag() == "!!null" {
			continue // the default
		}
		if isSection(full) {
			if v.Kind != yaml.MappingNode {
				p.add(at, full, "%s must be a mapping of the keys %s, found %s", full, strings.Join(keysIn(full+"."), ", "), describe(v))
				continue
			}
			p.mapping(v, full+".")
			continue
		}
		fd, ok := fieldByKey(full)
		if !ok || strings.Contains(k.Value, ".") {
			where := "at the top level"
			if prefix != "" {
				where = "in " + strings.TrimSuffix(prefix, ".")
			}
			p.add(k, full, "unknown key %q %s; allowed: %s", k.Value, where, strings.Join(keysIn(prefix), ", "))
			continue
		}
		p.value(fd, v, at)
	}
}

// describe names what a node holds, for "found ..." messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 40 {
		cut := 40
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut] + "…"
	}
	if n.ShortTag() == "!!str" {
		return strconv.Quote(v)
	}
	return v
}

// value checks and sets one key; at is where n is written.
func (p *parser) value(fd field, n, at *yaml.Node) {
	var v value
	var ok bool
	key := fd.Key
	switch fd.Kind {
	case scheduler.KindInt:
		v.i, ok = intValue(n)
		ok = ok && float64(v.i) >= fd.Min && float64(v.i) <= fd.Max
		if !ok {
			p.add(at, key, "%s must be an integer from %s to %s, found %s", key, num(fd.Min), num(fd.Max), describe(n))
		}
	case scheduler.KindNumber:
		v.f, ok = floatValue(n)
		ok = ok && !math.IsNaN(v.f) && (v.f > fd.Min || !fd.MinOpen && v.f == fd.Min) && v.f <= fd.Max
		if !ok {
			lo := "from " + num(fd.Min) + " to"
			if fd.MinOpen {
				lo = "greater than " + num(fd.Min) + " and at most"
			}
			p.add(at, key, "%s must be a number %s %s, found %s", key, lo, num(fd.Max), describe(n))
		}
	case scheduler.KindBool:
		ok = n.ShortTag() == "!!bool" && n.Decode(&v.b) == nil
		if !ok {
			p.add(at, key, "%s must be true or false, found %s", key, describe(n))
		}
	case scheduler.KindTimeZone, scheduler.KindTimeOfDay:
		ok = n.ShortTag() == "!!str"
		v.s = n.Value
		if !ok {
			p.add(at, key, "%s must be a string, found %s", key, describe(n))
		} else if msg := fd.check(v.s); msg != "" {
			ok = false
			p.add(at, key, "%s %s, found %s", key, msg, describe(n))
		}
	case scheduler.KindMonthDays:
		v.dates, ok = p.dates(key, n, at)
	case scheduler.KindMonthDay:
		v.dates, ok = p.day(key, n, at)
	}
	if ok {
		fd.set(p.f, v)
	}
}

// intValue reads an integer scalar.
func intValue(n *yaml.Node) (int, bool) {
	var i int64
	if n.ShortTag() != "!!int" || n.Decode(&i) != nil || i < math.MinInt32 || i > math.MaxInt32 {
		return 0, false
	}
	return int(i), true
}

// floatValue reads a number scalar (an integer or a float).
func floatValue(n *yaml.Node) (float64, bool) {
	var f float64
	if t := n.ShortTag(); t != "!!int" && t != "!!float" || n.Decode(&f) != nil {
		return 0, false
	}
	return f, true
}

// num renders a range bound.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// dates reads a list of "MM-DD" days.
func (p *parser) dates(key string, n, at *yaml.Node) ([]scheduler.MonthDay, bool) {
	const want = `a list of one or more days "MM-DD" (such as ["09-15"])`
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.add(at, key, "%s must be %s, found %s", key, want, describe(n))
		return nil, false
	}
	if len(n.Content) > MaxListLength {
		p.add(at, key, "%s lists %d days, more than the %d days of a year", key, len(n.Content), MaxListLength)
		return nil, false
	}
	var out []scheduler.MonthDay
	ok := true
	for _, at := range n.Content {
		e := deref(at)
		md, err := scheduler.ParseMonthDay(e.Value)
		switch {
		case err != nil || e.ShortTag() != "!!str":
			p.add(at, key, "%s must hold days of the year \"MM-DD\" (month 01-12, day 01 to the month's last, 02-29 allowed), found %s", key, describe(e))
			ok = false
		case slices.Contains(out, md):
			p.add(at, key, "%s lists %s twice", key, md)
			ok = false
		default:
			out = append(out, md)
		}
	}
	return out, ok
}

// day reads one "MM-DD" day.
func (p *parser) day(key string, n, at *yaml.Node) ([]scheduler.MonthDay, bool) {
	md, err := scheduler.ParseMonthDay(n.Value)
	if err != nil || n.ShortTag() != "!!str" {
		p.add(at, key, "%s must be a day of the year \"MM-DD\" (month 01-12, day 01 to the month's last, 02-29 allowed), found %s", key, describe(n))
		return nil, false
	}
	return []scheduler.MonthDay{md}, true
}

// yamlBreaks are the line breaks of YAML: the parser counts a line at each,
// so a problem's line number must index lines split the same way (a lone
// carriage return is a line of its own).
var yamlBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n")

// yamlText is data as the YAML parser reads it: UTF-16 when it starts with
// a UTF-16 byte order mark, else UTF-8.
func yamlText(data []byte) string {
	var order binary.ByteOrder
	switch {
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		order = binary.BigEndian
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		order = binary.LittleEndian
	default:
		return string(data)
	}
	units := make([]uint16, 0, len(data)/2-1)
	for i := 2; i+1 < len(data); i += 2 {
		units = append(units, order.Uint16(data[i:]))
	}
	return string(utf16.Decode(units))
}

// yamlLines splits data into lines as the YAML parser counts them.
func yamlLines(data string) []string {
	return strings.Split(yamlBreaks.Replace(data), "\n")
}
