package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
)

// DryRun returns a sink that writes nothing and counts what a run would
// write to the database (store.DryRunner): a row that a unique index of
// email_schedules would refuse, because another row of the contact (a
// history row, say) holds its key, is counted as conflicting, as a run
// counts it. It only reads, so it works on a database opened read-only. The
// rows the sending system may take over during a run cannot be foreseen.
//
// Unique indexes on expressions, partial ones, and those with a column the
// adapter does not write cannot be evaluated here: they are left out, with
// a warning in the log.
func (s *Store) DryRun() store.ScheduleSink { return dryRun{s} }

type dryRun struct{ s *Store }

// uniqueIndex is a unique index of email_schedules, as the positions of its
// columns in insertedColumns.
type uniqueIndex struct {
	name string
	cols []int
}

func (d dryRun) Begin(ctx context.Context, run emailsched.RunInfo) (store.Writer, error) {
	idx, err := d.s.uniqueIndexes(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: dry run: %w", err)
	}
	w := &dryWriter{s: d.s, run: run, idx: idx}
	if len(idx) > 0 {
		var cols []string
		for _, ix := range idx {
			for _, c := range ix.cols {
				if !slices.Contains(cols, insertedColumns[c]) {
					cols = append(cols, insertedColumns[c])
				}
			}
		}
		w.cols = cols
		w.query = "SELECT id, " + strings.Join(cols, ", ") + " FROM email_schedules WHERE contact_id = ?"
	}
	return w, nil
}

// uniqueIndexes returns the unique indexes of email_schedules that a dry
// run can evaluate.
func (s *Store) uniqueIndexes(ctx context.Context) ([]uniqueIndex, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT il.name, il.partial, ii.seqno, ii.cid, coalesce(ii.name, '')
		FROM pragma_index_list('email_schedules') AS il, pragma_index_info(il.name) AS ii
		WHERE il."unique" = 1 AND il.origin <> 'pk' ORDER BY il.name, ii.seqno`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uniqueIndex
	bad := map[string]string{}
	for rows.Next() {
		var name, col string
		var partial, seq, cid int
		if err := rows.Scan(&name, &partial, &seq, &cid, &col); err != nil {
			return nil, err
		}
		if seq == 0 {
			out = append(out, uniqueIndex{name: name})
		}
		ix := &out[len(out)-1]
		pos := slices.Index(insertedColumns, strings.ToLower(col))
		switch {
		case partial != 0:
			bad[name] = "a partial index"
		case cid < 0:
			bad[name] = "an index on an expression"
		case pos < 0:
			bad[name] = fmt.Sprintf("column %s is not one the adapter writes", col)
		}
		ix.cols = append(ix.cols, pos)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out = slices.DeleteFunc(out, func(ix uniqueIndex) bool {
		if why, ok := bad[ix.name]; ok {
			s.opts.Logger.Warn("dry run: the conflicts of a unique index are not counted", "index", ix.name, "why", why)
			return true
		}
		return false
	})
	return out, nil
}

// dryWriter counts what a writer would write, conflicts included.
type dryWriter struct {
	s      *Store
	run    emailsched.RunInfo
	idx    []uniqueIndex
	cols   []string // the columns of idx, read per contact
	query  string
	rows   store.RowCounts
	closed bool
	vals   []any
}

func (w *dryWriter) Write(ctx context.Context, d *store.Delta) error {
	if w.closed {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w.rows.Deleted += len(d.Delete)
	w.rows.Unchanged += d.Unchanged
	if len(w.idx) == 0 || len(d.Update)+len(d.Insert) == 0 {
		w.rows.Updated += len(d.Update)
		w.rows.Inserted += len(d.Insert)
		return nil
	}
	held, err := w.heldKeys(ctx, d)
	if err != nil {
		return fmt.Errorf("sqlite: dry run: contact %d: %w", d.ContactID, err)
	}
	// The order of a writer: deletes, updates, inserts (see apply).
	for i := range d.Update {
		if w.claim(held, d.ContactID, &d.Update[i]) {
			w.rows.Updated++
		} else {
			w.rows.Deleted++
			w.rows.Conflicting++
		}
	}
	for i := range d.Insert {
		if w.claim(held, d.ContactID, &d.Insert[i]) {
			w.rows.Inserted++
		} else {
			w.rows.Conflicting++
		}
	}
	return nil
}

// heldKeys returns the keys the contact's rows hold that d leaves in
// place, in every unique index.
func (w *dryWriter) heldKeys(ctx context.Context, d *store.Delta) (map[string]bool, error) {
	changed := map[int64]bool{}
	for _, rows := range [][]emailsched.Email{d.Delete, d.Update} {
		for i := range rows {
			changed[rows[i].ID] = true
		}
	}
	rows, err := w.s.db.QueryContext(ctx, w.query, d.ContactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	vals := make([]any, len(insertedColumns))
	dest := make([]any, 1+len(w.cols))
	var id int64
	dest[0] = &id
	read := make([]any, len(w.cols))
	for i := range read {
		dest[1+i] = &read[i]
	}
	held := map[string]bool{}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if changed[id] {
			continue
		}
		for i, c := range w.cols {
			vals[slices.Index(insertedColumns, c)] = read[i]
		}
		for _, ix := range w.idx {
			if k, ok := indexKey(ix, vals); ok {
				held[k] = true
			}
		}
	}
	return held, rows.Err()
}

// claim reports whether row e of contact fits every unique index, and
// takes its keys when it does.
func (w *dryWriter) claim(held map[string]bool, contact int64, e *emailsched.Email) bool {
	w.vals = rowValues(w.vals[:0], contact, e, w.run.SendTime, w.run.ID, "", true)
	var keys []string
	for _, ix := range w.idx {
		k, ok := indexKey(ix, w.vals)
		if !ok {
			continue
		}
		if held[k] {
			return false
		}
		keys = append(keys, k)
	}
	for _, k := range keys {
		held[k] = true
	}
	return true
}

// indexKey is the key of a row (its values in the order of
// insertedColumns) in a unique index; ok is false when a value is NULL:
// SQLite's unique indexes let NULLs repeat.
func indexKey(ix uniqueIndex, vals []any) (string, bool) {
	var b strings.Builder
	b.WriteString(ix.name)
	for _, c := range ix.cols {
		switch v := vals[c].(type) {
		case nil:
			return "", false
		case []byte:
			fmt.Fprintf(&b, "\x00s%s", v)
		case string:
			fmt.Fprintf(&b, "\x00s%s", v)
		default:
			fmt.Fprintf(&b, "\x00%v", v)
		}
	}
	return b.String(), true
}

// WriteReport implements store.WriteReporter: the rows a run would write.
func (w *dryWriter) WriteReport() store.WriteReport { return store.WriteReport{Rows: w.rows} }

func (w *dryWriter) Commit(ctx context.Context, sum store.Summary) error {
	if w.closed {
		return store.ErrClosed
	}
	w.closed = true
	// Contacts without changes never reach Write: the summary knows their
	// unchanged rows.
	w.rows.Unchanged = max(w.rows.Unchanged, sum.Rows.Unchanged)
	return ctx.Err()
}

func (w *dryWriter) Abort(context.Context, error) error {
	w.closed = true
	return nil
}

var _ store.DryRunner = (*Store)(nil)
