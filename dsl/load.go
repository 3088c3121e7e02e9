package dsl

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/internal/safefile"
	"github.com/emailsched/emailsched/rules"
)

// Source is one rules file: its name (used in diagnostics and rule
// origins) and its text.
type Source struct {
	Name string
	Text []byte
}

// ErrNoFiles is returned by LoadFS when the pattern matches no file, and by
// LoadPath for a directory without rules files.
var ErrNoFiles = errors.New("dsl: no rules file")

// MaxExtends bounds a chain of rules files that extend one another.
const MaxExtends = 8

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

// LoadFiles reads and loads rules files as one rule set. Each must be a
// regular file of at most MaxFileSize bytes: anything else (a directory, a
// FIFO, a device, a larger file) is refused before it is read, and the
// reading stops when ctx ends. A file may extend another by its path,
// relative to its own directory.
func LoadFiles(ctx context.Context, paths ...string) (*rules.Set, error) {
	return Options{}.LoadFiles(ctx, paths...)
}

// LoadPath loads the rules at path: a rules file, or a directory whose
// rules files form one set, in lexical order. A directory's rules files are
// its files whose extension is ".rules" in any case ("CA.RULES" too), but
// not hidden ones (".#CA.rules", an editor's); it is an error (ErrNoFiles)
// when it has none.
func LoadPath(ctx context.Context, path string) (*rules.Set, error) {
	return Options{}.LoadPath(ctx, path)
}

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
func (o Options) LoadFiles(ctx context.Context, paths ...string) (*rules.Set, error) {
	return o.loadFiles(ctx, paths, nil)
}

// LoadPath is the package's LoadPath with o.
func (o Options) LoadPath(ctx context.Context, path string) (*rules.Set, error) {
	paths, err := RulesFiles(path)
	if err != nil {
		return nil, err
	}
	return o.LoadFiles(ctx, paths...)
}

// ErrMissingStates is wrapped by CheckCoverage's error.
var ErrMissingStates = errors.New("dsl: the rules leave states of the default rules without a rule")

// CheckCoverage refuses a rule set that gives no rule to a state the
// default rules give one, unless allow says that this is meant: rules
// written to replace the default set by mistake would lift those states'
// windows without a word. The error wraps ErrMissingStates and lists the
// states, with the ways to keep them or lift them on purpose.
func CheckCoverage(set *rules.Set, allow bool) error {
	missing := set.Uncovered(rules.Default())
	if len(missing) == 0 || allow {
		return nil
	}
	names := make([]string, len(missing))
	for i, st := range missing {
		names[i] = st.String()
	}
	return fmt.Errorf("%w: %s. Start the rules with \"extends: default\" to build on the default rules, give those "+
		"states rules of their own (\"XX: no_exclusion()\" lifts a state's exclusions), or, if the rules are meant "+
		"to replace the default rules entirely, say so with -allow-missing-states", ErrMissingStates, strings.Join(names, ", "))
}

// RulesFiles returns the rules files path names: path itself when it is not
// a directory, else the directory's rules files in lexical order (see
// LoadPath), or ErrNoFiles.
func RulesFiles(path string) ([]string, error) {
	entries, err := os.ReadDir(path)
	if err != nil {
		if st, serr := os.Stat(path); serr == nil && !st.IsDir() {
			return []string{path}, nil // a file: LoadFiles checks what kind
		}
		return nil, fmt.Errorf("dsl: %w", err)
	}
	var paths []string
	for _, e := range entries {
		if n := e.Name(); strings.EqualFold(filepath.Ext(n), ".rules") && !strings.HasPrefix(n, ".") {
			paths = append(paths, filepath.Join(path, n))
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w in the directory %s (files named *.rules)", ErrNoFiles, path)
	}
	return paths, nil
}

// LoadFS is the package's LoadFS with o. Its files are read as LoadFiles
// reads them: regular files of at most MaxFileSize bytes.
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
		b, err := readFS(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("dsl: %s: %w", n, err)
		}
		srcs[i] = Source{Name: n, Text: b}
	}
	return o.LoadSources(srcs...)
}

// readFS reads the regular file name of fsys, at most MaxFileSize bytes.
func readFS(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w (%s)", safefile.ErrNotRegular, safefile.Kind(st.Mode()))
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err == nil && len(b) > MaxFileSize {
		err = fmt.Errorf("%w: more than the %d bytes a rules file may have", safefile.ErrTooLarge, MaxFileSize)
	}
	return b, err
}

// loadFiles loads paths as one set; chain holds the files that extend
// them (cleaned paths), to refuse a cycle. A cycle spelled with other paths
// ends at MaxExtends.
func (o Options) loadFiles(ctx context.Context, paths []string, chain []string) (*rules.Set, error) {
	srcs := make([]Source, len(paths))
	for i, p := range paths {
		b, err := safefile.Read(ctx, p, MaxFileSize)
		if err != nil {
			return nil, fmt.Errorf("dsl: %w", err)
		}
		srcs[i] = Source{Name: p, Text: b}
		chain = append(chain, filepath.Clean(p))
	}
	base := func(ref string, from *file) (*rules.Set, error) {
		target := ref
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(from.name), ref)
		}
		if slices.Contains(chain, target) {
			return nil, fmt.Errorf("%s extends itself (through %s)", target, strings.Join(chain, " → "))
		}
		if len(chain) >= MaxExtends {
			return nil, fmt.Errorf("more than %d rules files extend one another", MaxExtends)
		}
		return o.loadFiles(ctx, []string{target}, slices.Clone(chain))
	}
	return o.loadSources(srcs, base)
}

// LoadSources is the package's LoadSources with o.
func (o Options) LoadSources(srcs ...Source) (*rules.Set, error) { return o.loadSources(srcs, nil) }

// loadSources loads srcs with base resolving extends (nil: only
// "default").
func (o Options) loadSources(srcs []Source, base func(string, *file) (*rules.Set, error)) (*rules.Set, error) {
	lang := defaultLanguage()
	if len(o.Anchors) > 0 {
		var err error
		if lang, err = languageFor(o.Anchors); err != nil {
			return nil, err
		}
	}
	l := &loader{lang: lang, base: base}
	for _, src := range srcs {
		l.load(src)
	}
	return l.build(srcs)
}

// The settings.
const (
	settingBuffer  = "pre_window_buffer"
	settingExtends = "extends"
)

var settingNames = []string{settingBuffer, settingExtends}

// extendsDefault is the value of extends that names the default rules.
const extendsDefault = "default"

type setting struct {
	value int    // pre_window_buffer
	text  string // extends
	file  *file
	pos   Pos
}

type loader struct {
	lang     *language
	diags    diagList
	settings map[string]setting
	// listed says where each state's rule is ("file:line:col" of its code).
	listed   [emailsched.NumStates + 1]string
	programs []*program
	// others is the rule written for "*": every state without a rule of
	// its own or of the base.
	others *program
	// unchecked counts the rules not compiled because there were too many
	// problems already.
	unchecked int
	// base resolves the value of extends (nil: only "default").
	base func(ref string, from *file) (*rules.Set, error)
}

func (l *loader) load(src Source) {
	f := newFile(src.Name, string(src.Text))
	if len(src.Text) > MaxFileSize {
		l.diags.add(&Diagnostic{File: src.Name, Line: 1, Column: 1,
			Message: fmt.Sprintf("file is %d bytes long, more than the %d a rules file may have", len(src.Text), MaxFileSize)})
		return
	}
	for n, line := range f.lines {
		if i := invalidByte(line); i >= 0 {
			l.diags.add(f.diag(f.pos(n+1, i), "file is not UTF-8 text: invalid byte 0x%02x", line[i]))
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
			l.diags.add(f.diag(st.keyPos, "state codes are written in capitals: %s", s))
			return
		}
		l.diags.add(f.diag(st.keyPos, "unknown setting %q%s; the settings are: %s",
			name, suggest(name, settingNames), strings.Join(settingNames, ", ")))
		return
	}
	text := string(st.text)
	if name == settingExtends {
		l.extends(st, text)
		return
	}
	if text == "" {
		l.diags.add(f.diag(st.end, "expected a number of days (0-%d) after \"%s:\"", rules.MaxWindowDays, name))
		return
	}
	n, err := strconv.Atoi(text)
	if err != nil || strings.HasPrefix(text, "+") {
		l.diags.add(f.diag(st.at(0), "expected a whole number of days (0-%d) for %s, found %q", rules.MaxWindowDays, name, text))
		return
	}
	if n < 0 || n > rules.MaxWindowDays {
		l.diags.add(f.diag(st.at(0), "%s must be 0-%d days, found %d", name, rules.MaxWindowDays, n))
		return
	}
	l.record(st, name, setting{value: n, file: f, pos: st.keyPos})
}

// record keeps the value s of setting name, unless this file set it
// already, or another file of the set gave it another value: both are
// reported, and the first value stands.
func (l *loader) record(st *stmt, name string, s setting) {
	if l.settings == nil {
		l.settings = map[string]setting{}
	}
	old, ok := l.settings[name]
	if !ok {
		l.settings[name] = s
		return
	}
	f := st.file
	switch {
	case old.file == f:
		l.diags.add(f.diag(st.keyPos, "%s is set twice: first at line %d", name, old.pos.Line))
	case old.value != s.value || old.text != s.text:
		l.diags.add(f.diag(st.keyPos, "conflicting settings: %s is %s here but %s at %s:%d:%d",
			name, s.shown(), old.shown(), old.file.name, old.pos.Line, old.pos.Column))
	}
}

// shown is the setting's value as messages quote it.
func (s setting) shown() string {
	if s.text != "" {
		return strconv.Quote(s.text)
	}
	return strconv.Itoa(s.value)
}

// extends records the rule set this one builds on: "default" (the default
// rules) or the path of a rules file, relative to this file's directory.
func (l *loader) extends(st *stmt, text string) {
	f := st.file
	ref := text
	if unq, err := strconv.Unquote(text); err == nil && strings.HasPrefix(text, `"`) {
		ref = unq
	}
	if ref == "" || strings.ContainsAny(ref, "\n\x00") {
		l.diags.add(f.diag(st.at(0), `expected "default" or the path of a rules file after "extends:", such as extends: default`))
		return
	}
	l.record(st, settingExtends, setting{text: ref, file: f, pos: st.at(0)})
}

func (l *loader) rule(st *stmt, key string) {
	f := st.file
	if strings.TrimSpace(key) == "*" {
		l.otherStates(st)
		return
	}
	n := st.keyPos.Line
	var states []string
	ok := true
	var here []emailsched.State
	off, col := 0, 1 // the byte offset and column (in runes) of the part
	for _, part := range strings.Split(key, ",") {
		start, startCol := off, col
		off += len(part) + 1
		col += utf8.RuneCountInString(part) + 1
		for len(part) > 0 && isSpace(part[0]) {
			part, start, startCol = part[1:], start+1, startCol+1
		}
		part = strings.TrimRight(part, " \t")
		p := Pos{Line: n, Column: startCol, Byte: f.starts[n-1] + start}
		s, valid := emailsched.ParseState(part)
		switch {
		case part == "":
			l.diags.addf(func() *Diagnostic {
				return f.diag(p, `expected a state code such as CA (state codes are separated by ",")`)
			})
		case strings.ContainsAny(part, " \t"):
			l.diags.addf(func() *Diagnostic { return f.diag(p, `expected "," between state codes, found %q`, part) })
		case !valid:
			l.diags.addf(func() *Diagnostic {
				return f.diag(p, "unknown state code %q: expected a two-letter USPS code such as CA", part)
			})
		case part != s.String():
			l.diags.addf(func() *Diagnostic { return f.diag(p, "state codes are written in capitals: %s", s) })
		case slices.Contains(here, s):
			l.diags.addf(func() *Diagnostic { return f.diag(p, "%s is listed twice in this rule", s) })
		case l.listed[s] != "":
			l.diags.addf(func() *Diagnostic { return f.diag(p, "%s already has a rule at %s", s, l.listed[s]) })
		default:
			l.listed[s] = fmt.Sprintf("%s:%d:%d", f.name, p.Line, p.Column)
			here = append(here, s)
			states = append(states, s.String())
			continue
		}
		ok = false
	}
	if len(st.text) == 0 {
		l.diags.add(f.diag(st.end,
			`expected a rule after ":", such as birthday_window(30, 60), year_round() or no_exclusion()`))
		return
	}
	if l.diags.full() {
		l.unchecked++ // compiling costs more than counting problems
		return
	}
	pr := l.lang.compile(st, &l.diags)
	if pr == nil || !ok {
		return
	}
	pr.states = states
	l.programs = append(l.programs, pr)
}

// otherStates records the rule of "*:", for every state that has no rule
// of its own (nor of the set this one extends).
func (l *loader) otherStates(st *stmt) {
	f := st.file
	if l.others != nil {
		o := l.others.st.keyPos
		l.diags.add(f.diag(st.keyPos, "the rule of every other state (*) is written twice: first at %s:%d:%d",
			l.others.st.file.name, o.Line, o.Column))
		return
	}
	if len(st.text) == 0 {
		l.diags.add(f.diag(st.end, `expected a rule after "*:", such as no_exclusion()`))
		return
	}
	if l.diags.full() {
		l.unchecked++
		return
	}
	if pr := l.lang.compile(st, &l.diags); pr != nil {
		l.others = pr
	}
}

// resolveBase loads the set that extends names, or returns nil.
func (l *loader) resolveBase() *rules.Set {
	ext, ok := l.settings[settingExtends]
	if !ok {
		return nil
	}
	if ext.text == extendsDefault {
		if len(l.lang.extra) > 0 {
			// The default rules know the built-in anchors only; load them
			// in this language so that the sets agree on the anchors.
			base, err := Options{Anchors: l.lang.extra}.Load("default.rules", defaultRules)
			if err == nil {
				return base
			}
		}
		return Default()
	}
	if l.base == nil {
		l.diags.add(ext.file.diag(ext.pos, `extends %q: only "default" can be extended here: load rules files by path (LoadFiles, LoadPath) to extend another file`, ext.text))
		return nil
	}
	base, err := l.base(ext.text, ext.file)
	if err != nil {
		l.diags.add(ext.file.diag(ext.pos, "extends %q: %s", ext.text, strings.ReplaceAll(err.Error(), "\n", "\n\t")))
		return nil
	}
	return base
}

// build checks what needs every file (the buffer, extends, that there is a
// rule at all) and builds the set.
func (l *loader) build(srcs []Source) (*rules.Set, error) {
	base := l.resolveBase()
	buffer := rules.DefaultBuffer
	if base != nil {
		buffer = base.Buffer()
	}
	if s, ok := l.settings[settingBuffer]; ok {
		buffer = s.value
	}
	if len(l.programs) == 0 && l.others == nil && base == nil && l.diags.count() == 0 && len(srcs) > 0 {
		f := newFile(srcs[0].Name, "")
		l.diags.add(f.diag(Pos{Line: 1, Column: 1},
			"the rules hold no rule: they would plan every email without any exclusion. Write \"extends: default\" "+
				"to build on the default rules, or \"*: no_exclusion()\" to mean no exclusion at all"))
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
				l.diags.add(pr.st.errorAt(0, "%s", err))
				continue
			}
			e.Rule = pr.rule
		} else {
			e.Func, e.Source = pr.eval, pr.canonical
		}
		entries = append(entries, e)
	}
	if base != nil {
		for _, st := range emailsched.States() {
			if l.listed[st] != "" {
				continue // this set's own rule replaces the base's
			}
			if e, ok := base.Entry(st); ok {
				l.listed[st] = e.Origin
				entries = append(entries, e)
			}
		}
	}
	if pr := l.others; pr != nil {
		e := rules.Entry{Origin: pr.origin}
		for _, st := range emailsched.States() {
			if l.listed[st] == "" {
				e.States = append(e.States, st)
			}
		}
		pr.buffer, pr.pool = buffer, pool
		switch {
		case len(e.States) == 0:
			// Every state has a rule: "*" covers none.
		case pr.static:
			if err := checkSpan(pr.rule, buffer); err != nil {
				l.diags.add(pr.st.errorAt(0, "%s", err))
			}
			e.Rule = pr.rule
			entries = append(entries, e)
		default:
			e.Func, e.Source = pr.eval, pr.canonical
			entries = append(entries, e)
		}
	}
	if l.diags.count() > 0 {
		return nil, l.diags.result(l.unchecked)
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

var (
	defaultOnce sync.Once
	defaultSet  *rules.Set
	defaultErr  error
)

// loadDefault loads the embedded default rules once. (A sync.Once rather
// than sync.OnceValues: a package-level initializer that reaches Load
// would make an initialization cycle through extends.)
func loadDefault() (*rules.Set, error) {
	defaultOnce.Do(func() { defaultSet, defaultErr = Load("default.rules", defaultRules) })
	return defaultSet, defaultErr
}

// Default returns the default rule set (the default exclusion rules), loaded once from the
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
