package configfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/rules"
)

// ErrNoRules is returned by LoadRules for a rules directory without any
// *.rules file.
var ErrNoRules = errors.New("configfile: no *.rules file in the rules directory")

// LoadRules loads the rule set the configuration names: the file Rules,
// every *.rules file of the directory Rules (in lexical order, as one set),
// or, when Rules is empty, the embedded default rules (dsl.Default). When
// PreWindowBuffer is set it replaces the rules' pre_window_buffer (see the
// package documentation). Problems in the rules files are returned as
// dsl.Diagnostics.
func (f *File) LoadRules() (*rules.Set, error) {
	if f.Rules == "" {
		set := dsl.Default()
		if f.PreWindowBuffer == nil {
			return set, nil
		}
		return rebuild(set, *f.PreWindowBuffer)
	}
	paths := []string{f.Rules}
	if st, err := os.Stat(f.Rules); err != nil {
		return nil, fmt.Errorf("configfile: rules: %w", err)
	} else if st.IsDir() {
		// Glob fails only for a bad pattern; the pattern is fixed.
		paths, _ = filepath.Glob(filepath.Join(globEscape(f.Rules), "*.rules"))
		if len(paths) == 0 {
			return nil, fmt.Errorf("%w: %s", ErrNoRules, f.Rules)
		}
	}
	srcs := make([]dsl.Source, 0, len(paths)+1)
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("configfile: rules: %w", err)
		}
		srcs = append(srcs, dsl.Source{Name: p, Text: text})
	}
	if f.PreWindowBuffer != nil {
		for i := range srcs {
			srcs[i].Text = dropBufferSetting(srcs[i].Text)
		}
		name := f.Name
		if name == "" {
			name = "configuration"
		}
		srcs = append(srcs, dsl.Source{Name: name, Text: fmt.Appendf(nil, "pre_window_buffer: %d\n", *f.PreWindowBuffer)})
	}
	return dsl.LoadSources(srcs...)
}

// globEscape quotes the glob metacharacters of a directory name.
func globEscape(dir string) string {
	var b strings.Builder
	for _, r := range dir {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// dropBufferSetting empties the lines of a rules file's pre_window_buffer
// setting (its line and the indented lines that continue it), keeping every
// other line where it is so that diagnostics keep their positions.
func dropBufferSetting(text []byte) []byte {
	lines := strings.Split(string(text), "\n")
	inSetting := false
	for i, line := range lines {
		switch {
		case line == "" || line[0] == '#' || line[0] == '\r':
			// blank or comment: a setting may continue after it
		case line[0] == ' ' || line[0] == '\t':
			if inSetting {
				lines[i] = ""
			}
		default:
			key, _, _ := strings.Cut(line, ":")
			inSetting = strings.TrimRight(key, " \t") == "pre_window_buffer"
			if inSetting {
				lines[i] = ""
			}
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// rebuild returns set, whose rules must all be static (such as
// dsl.Default()), with the default pre-window buffer buffer.
func rebuild(set *rules.Set, buffer int) (*rules.Set, error) {
	var entries []rules.Entry
	for _, st := range emailsched.States() {
		r, dynamic, origin := set.Describe(st)
		if dynamic {
			return nil, fmt.Errorf("configfile: cannot change the pre-window buffer of %s: the rule of %s depends on the contact", set.Name(), st)
		}
		if origin != "" {
			entries = append(entries, rules.Entry{States: []emailsched.State{st}, Rule: r, Origin: origin})
		}
	}
	sum := sha256.Sum256([]byte(set.Checksum() + "\npre_window_buffer: " + strconv.Itoa(buffer)))
	return rules.Build(rules.Options{
		Buffer:   buffer,
		Name:     fmt.Sprintf("%s (pre_window_buffer: %d)", set.Name(), buffer),
		Checksum: hex.EncodeToString(sum[:]),
	}, entries...)
}
