package dsl

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/rules"
)

// Source is one rules file: its name (used in diagnostics and rule
// origins) and its text.
type Source struct {
	Name string
	Text []byte
}

// ErrNoFiles is returned by LoadFS when the pattern matches no file.
var ErrNoFiles = errors.New("dsl: no rules file")

// Options change how rules files are read. The zero Options read the
// language of the built-in anchors, as the package-level loaders do.
type Options struct {
	// Anchors are anchors besides the built-in ones (birthday,
	// effective_date), for rule sets that window other contact dates: each
	// adds the function <name>_window(before, after) and the fields
	// contact.<name> and contact.has_<name> to the language, and is passed
	// on to the rule set (rules.Options.Anchors). At most
	// rules.MaxAnchors anchors in all; a name whose fields would collide
	// with another field is refused.
	Anchors []rules.Anchor
}

// Load loads one rules file. The error, when the file has problems, is
// Diagnostics.
func Load(name string, src []byte) (*rules.Set, error) { return Options{}.Load(name, src) }

// LoadFiles reads and loads rules files as one rule set.
func LoadFiles(paths ...string) (*rules.Set, error) { return Options{}.LoadFiles(paths...) }

// LoadFS loads, as one rule set, the files of fsys that match pattern
// (fs.Glob syntax), in lexical order.
func LoadFS(fsys fs.FS, pattern string) (*rules.Set, error) { return Options{}.LoadFS(fsys, pattern) }

// LoadSources loads rules files as one rule set: the files' rules
// together (a state may have a rule in one file only) and their settings
// (files that set the same setting must agree). Every problem of every
// file is reported at once, as Diagnostics. The set's checksum is its
// content's: the same rules give the same checksum whatever the files'
// names, their order, comments, spacing or the order of the rules (see
// rules.Options.Checksum); a rule that depends on the contact counts by its
// expression in a canonical form.
func LoadSources(srcs ...Source) (*rules.Set, error) { return Options{}.LoadSources(srcs...) }

// Load is the package's Load with o.
func (o Options) Load(name string, src []byte) (*rules.Set, error) {
	return o.LoadSources(Source{Name: name, Text: src})
}

// LoadFiles is the package's LoadFiles with o.
func (o Options) LoadFiles(paths ...string) (*rules.Set, error) {
	srcs := make([]Source, len(paths))
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("dsl: %w", err)
		}
		srcs[i] = Source{Name: p, Text: b}
	}
	return o.LoadSources(srcs...)
}

// LoadFS is the package's LoadFS with o.
func (o Options) LoadFS(fsys fs.FS, pattern string) (*rules.Set, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, fmt.Errorf("dsl: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w matches %q", ErrNoFiles, pattern)
	}
	srcs := make([]Source, len(names))
	for i, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("dsl: %w", err)
		}
		srcs[i] = Source{Name: n, Text: b}
	}
	return o.LoadSources(srcs...)
}

// LoadSources is the package's LoadSources with o.
func (o Options) LoadSources(srcs ...Source) (*rules.Set, error) {
	lang := defaultLanguage()
	if len(o.Anchors) > 0 {
		var err error
		if lang, err = languageFor(o.Anchors); err != nil {
			return nil, err
		}
	}
	l := &loader{lang: lang}
	for _, src := range srcs {
		l.load(src)
	}
	return l.build(srcs)
}

// The settings.
const settingBuffer = "pre_window_buffer"

var settingNames = []string{settingBuffer}

type setting struct {
	value int
	file  *file
	pos   Pos
}

type loader struct {
	lang     *language
	diags    Diagnostics
	settings map[string]setting
	// listed says where each state's rule is ("file:line:col" of its code).
	listed   [emailsched.NumStates + 1]string
	programs []*program
}

func (l *loader) load(src Source) {
	f := newFile(src.Name, string(src.Text))
	if len(src.Text) > MaxFileSize {
		l.diags = append(l.diags, &Diagnostic{File: src.Name, Line: 1, Column: 1,
			Message: fmt.Sprintf("file is %d bytes long, more than the %d a rules file may have", len(src.Text), MaxFileSize)})
		return
	}
	for n, line := range f.lines {
		if i := invalidByte(line); i >= 0 {
			l.diags = append(l.diags, f.diag(f.pos(n+1, i), "file is not UTF-8 text: invalid byte 0x%02x", line[i]))
			return
		}
	}
	for _, st := range statements(f, &l.diags) {
		key := strings.TrimRight(st.key, " \t")
		switch {
		case isLowerName(key):
			l.setting(st, key)
		default:
			l.rule(st, key)
		}
	}
}

// invalidByte returns the offset of the first byte of s that is not UTF-8,
// or -1.
func invalidByte(s string) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// isLowerName reports whether key looks like a setting name.
func isLowerName(key string) bool {
	lower := false
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z':
			lower = true
		case c == '_' || '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return lower
}

func (l *loader) setting(st *stmt, name string) {
	f := st.file
	known := false
	for _, s := range settingNames {
		known = known || s == name
	}
	if !known {
		if s, ok := emailsched.ParseState(name); ok {
			l.diags = append(l.diags, f.diag(st.keyPos, "state codes are written in capitals: %s", s))
			return
		}
		l.diags = append(l.diags, f.diag(st.keyPos, "unknown setting %q%s; the settings are: %s",
			name, suggest(name, settingNames), strings.Join(settingNames, ", ")))
		return
	}
	text := string(st.text)
	if text == "" {
		l.diags = append(l.diags, f.diag(st.end, "expected a number of days (0-%d) after \"%s:\"", rules.MaxWindowDays, name))
		return
	}
	n, err := strconv.Atoi(text)
	if err != nil || strings.HasPrefix(text, "+") {
		l.diags = append(l.diags, f.diag(st.at(0), "expected a whole number of days (0-%d) for %s, found %q", rules.MaxWindowDays, name, text))
		return
	}
	if n < 0 || n > rules.MaxWindowDays {
		l.diags = append(l.diags, f.diag(st.at(0), "%s must be 0-%d days, found %d", name, rules.MaxWindowDays, n))
		return
	}
	if l.settings == nil {
		l.settings = map[string]setting{}
	}
	if old, ok := l.settings[name]; ok {
		switch {
		case old.file == f:
			l.diags = append(l.diags, f.diag(st.keyPos, "%s is set twice: first at line %d", name, old.pos.Line))
		case old.value != n:
			l.diags = append(l.diags, f.diag(st.keyPos, "conflicting settings: %s is %d here but %d at %s:%d:%d",
				name, n, old.value, old.file.name, old.pos.Line, old.pos.Column))
		}
		return
	}
	l.settings[name] = setting{value: n, file: f, pos: st.keyPos}
}

func (l *loader) rule(st *stmt, key string) {
	f := st.file
	n := st.keyPos.Line
	var states []string
	ok := true
	var here []emailsched.State
	off := 0
	for _, part := range strings.Split(key, ",") {
		start := off
		off += len(part) + 1
		for len(part) > 0 && isSpace(part[0]) {
			part, start = part[1:], start+1
		}
		part = strings.TrimRight(part, " \t")
		p := f.pos(n, start)
		s, valid := emailsched.ParseState(part)
		switch {
		case part == "":
			l.diags = append(l.diags, f.diag(p, `expected a state code such as CA (state codes are separated by ",")`))
		case strings.ContainsAny(part, " \t"):
			l.diags = append(l.diags, f.diag(p, `expected "," between state codes, found %q`, part))
		case !valid:
			l.diags = append(l.diags, f.diag(p, "unknown state code %q: expected a two-letter USPS code such as CA", part))
		case part != s.String():
			l.diags = append(l.diags, f.diag(p, "state codes are written in capitals: %s", s))
		default:
			at := fmt.Sprintf("%s:%d:%d", f.name, p.Line, p.Column)
			for _, h := range here {
				if h == s {
					l.diags = append(l.diags, f.diag(p, "%s is listed twice in this rule", s))
					valid = false
				}
			}
			if !valid {
				break
			}
			if l.listed[s] != "" {
				l.diags = append(l.diags, f.diag(p, "%s already has a rule at %s", s, l.listed[s]))
				ok = false
				continue
			}
			l.listed[s] = at
			here = append(here, s)
			states = append(states, s.String())
			continue
		}
		ok = false
	}
	if len(st.text) == 0 {
		l.diags = append(l.diags, f.diag(st.end,
			`expected a rule after ":", such as birthday_window(30, 60), year_round() or no_exclusion()`))
		return
	}
	pr := l.lang.compile(st, &l.diags)
	if pr == nil || !ok {
		return
	}
	pr.states = states
	l.programs = append(l.programs, pr)
}

// build checks what needs every file (the buffer) and builds the set.
func (l *loader) build(srcs []Source) (*rules.Set, error) {
	buffer := rules.DefaultBuffer
	if s, ok := l.settings[settingBuffer]; ok {
		buffer = s.value
	}
	lang := l.lang
	pool := &sync.Pool{New: func() any { return lang.newWorker() }}
	entries := make([]rules.Entry, 0, len(l.programs))
	for _, pr := range l.programs {
		pr.buffer, pr.pool = buffer, pool
		e := rules.Entry{Origin: pr.origin}
		for _, s := range pr.states {
			e.States = append(e.States, emailsched.MustState(s))
		}
		if pr.static {
			if err := checkSpan(pr.rule, buffer); err != nil {
				l.diags = append(l.diags, pr.st.errorAt(0, "%s", err))
				continue
			}
			e.Rule = pr.rule
		} else {
			e.Func, e.Source = pr.eval, pr.canonical
		}
		entries = append(entries, e)
	}
	if len(l.diags) > 0 {
		return nil, l.diags.sorted()
	}
	names := make([]string, len(srcs))
	for i, s := range srcs {
		names[i] = s.Name
	}
	// The set's checksum is its content's (rules.Options.Checksum): the
	// static rules as rules, the others by their canonical expression.
	set, err := rules.Build(rules.Options{
		Buffer:  buffer,
		Name:    strings.Join(names, "+"),
		Anchors: l.lang.extra,
	}, entries...)
	if err != nil {
		return nil, fmt.Errorf("dsl: %w", err) // unreachable: the loader checks what Build checks
	}
	return set, nil
}

//go:generate cp ../testdata/rules/default.rules default.rules

//go:embed default.rules
var defaultRules []byte

var loadDefault = sync.OnceValues(func() (*rules.Set, error) {
	return Load("default.rules", defaultRules)
})

// Default returns the default rule set of SPEC §4, loaded once from the
// embedded default.rules (a copy of testdata/rules/default.rules, made by
// go generate). The tests prove it loads and equals rules.Default; were it
// ever not to load, Default returns rules.Default rather than fail.
func Default() *rules.Set {
	s, err := loadDefault()
	if err != nil {
		return rules.Default()
	}
	return s
}
