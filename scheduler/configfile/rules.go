package configfile

import (
	"context"

	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/rules"
)

// ErrNoRules is returned by LoadRules for a rules directory without any
// rules file: it is dsl.ErrNoFiles.
var ErrNoRules = dsl.ErrNoFiles

// LoadRules loads the rule set the configuration names: the file or the
// directory Rules (see dsl.LoadPath: a directory's *.rules files, the
// extension in any case, form one set), or, when Rules is empty, the
// embedded default rules (dsl.Default). When PreWindowBuffer is set it
// replaces the rules' pre_window_buffer (see the package documentation).
// Problems in the rules files are returned as dsl.Diagnostics. Reading
// stops when ctx ends.
func (f *File) LoadRules(ctx context.Context) (*rules.Set, error) {
	set, err := f.loadRules(ctx)
	if err != nil || f.PreWindowBuffer == nil {
		return set, err
	}
	return set.WithBuffer(*f.PreWindowBuffer)
}

func (f *File) loadRules(ctx context.Context) (*rules.Set, error) {
	if f.Rules == "" {
		return dsl.Default(), nil
	}
	return dsl.LoadPath(ctx, f.Rules)
}
