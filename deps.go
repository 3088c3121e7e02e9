//go:build tools

package emailsched

import (
	_ "github.com/expr-lang/expr"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/leanovate/gopter"
	_ "github.com/mattn/go-sqlite3"
)
