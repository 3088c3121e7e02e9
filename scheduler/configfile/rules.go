package configfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
	set, err := f.loadRules()
	if err != nil || f.PreWindowBuffer == nil {
		return set, err
	}
	return set.WithBuffer(*f.PreWindowBuffer)
}

func (f *File) loadRules() (*rules.Set, error) {
	if f.Rules == "" {
		return dsl.Default(), nil
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
	return dsl.LoadFiles(paths...)
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
