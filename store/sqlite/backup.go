package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// backupStamp is the time in a backup's file name (UTC).
const backupStamp = "20060102T150405.000Z"

// Backup writes an online copy of the database into dir (created if
// missing) with SQLite's backup API, while other connections may keep
// reading and writing, checks it with PRAGMA integrity_check and returns its
// path: "<name>.backup-<UTC time>.sqlite3", name being the database file's
// name without its extension. The copy is one self-contained file in
// rollback-journal mode, whatever the database's mode, so that no -wal or
// -shm file goes with it. It is written under a ".partial" name and renamed
// only once verified, so a crash never leaves a backup that looks complete.
// A failed check returns an error wrapping ErrIntegrity.
//
// Begin takes it before the run changes anything (migrations included)
// when Options.Backup.Dir is set, so that it restores the database as it
// was.
func (s *Store) Backup(ctx context.Context, dir string) (string, error) {
	stem, err := s.stem(ctx)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("sqlite: backup: %w", err)
	}
	final := filepath.Join(dir, stem+".backup-"+s.opts.Now().UTC().Format(backupStamp)+".sqlite3")
	tmp := final + ".partial"
	removeFiles(tmp)
	if err := s.copyTo(ctx, tmp); err != nil {
		removeFiles(tmp)
		return "", fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := checkIntegrity(ctx, tmp); err != nil {
		removeFiles(tmp)
		return "", fmt.Errorf("sqlite: backup %s: %w", final, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		removeFiles(tmp)
		return "", fmt.Errorf("sqlite: backup: %w", err)
	}
	return final, nil
}

// companions are the files SQLite may keep beside a database file.
var companions = []string{"", "-wal", "-shm", "-journal"}

// removeFiles removes a database file and its companions, if any.
func removeFiles(path string) {
	for _, c := range companions {
		os.Remove(path + c)
	}
}

// stem returns the database file's name without directory and extension.
func (s *Store) stem(ctx context.Context) (string, error) {
	var file string
	if err := s.db.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		return "", fmt.Errorf("sqlite: backup: %w", err)
	}
	if file == "" {
		return "", errors.New("sqlite: backup: the database has no file (in-memory or temporary)")
	}
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base)), nil
}

func (s *Store) copyTo(ctx context.Context, path string) error {
	dst, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=DELETE")
	if err != nil {
		return err
	}
	defer dst.Close()
	dconn, err := dst.Conn(ctx)
	if err != nil {
		return err
	}
	defer dconn.Close()
	sconn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer sconn.Close()
	return dconn.Raw(func(dd any) error {
		return sconn.Raw(func(sd any) error {
			d, ok1 := dd.(*sqlite3.SQLiteConn)
			src, ok2 := sd.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return fmt.Errorf("the database's driver is %T, not github.com/mattn/go-sqlite3", sd)
			}
			b, err := d.Backup("main", src, "main")
			if err != nil {
				return err
			}
			for {
				done, err := b.Step(2048)
				if err != nil {
					b.Close()
					return err
				}
				if done {
					if err := b.Finish(); err != nil {
						return err
					}
					// The copy has the source's journal mode in its header:
					// a WAL copy would grow -wal and -shm files as soon as
					// it is opened.
					_, err := d.Exec("PRAGMA journal_mode = DELETE", nil)
					return err
				}
				if err := ctx.Err(); err != nil {
					b.Close()
					return err
				}
			}
		})
	})
}

// checkIntegrity runs PRAGMA integrity_check on the database at path.
func checkIntegrity(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_query_only=1")
	if err != nil {
		return err
	}
	defer db.Close()
	return IntegrityCheck(ctx, db)
}

// IntegrityCheck runs PRAGMA integrity_check on db; anything but "ok" is an
// error wrapping ErrIntegrity that quotes the first problems.
func IntegrityCheck(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("integrity_check: %w", err)
		}
		if m != "ok" && len(msgs) < 5 {
			msgs = append(msgs, m)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%w: %s", ErrIntegrity, strings.Join(msgs, "; "))
	}
	return nil
}

// PruneBackups deletes this database's backups in dir (and leftover
// ".partial" files, and any -wal, -shm or -journal file beside either) that
// are older than Options.Backup.KeepDays days, by the time in their names,
// and returns the deleted paths. Files that do not match the backup naming
// of this database are never touched. KeepDays zero keeps every backup.
func (s *Store) PruneBackups(ctx context.Context, dir string) ([]string, error) {
	if s.opts.Backup.KeepDays <= 0 {
		return nil, nil
	}
	stem, err := s.stem(ctx)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prune backups: %w", err)
	}
	cutoff := s.opts.Now().Add(-time.Duration(s.opts.Backup.KeepDays) * 24 * time.Hour)
	prefix := stem + ".backup-"
	var removed []string
	for _, e := range entries {
		name := e.Name()
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || e.IsDir() {
			continue
		}
		for _, c := range companions[1:] {
			if r, ok := strings.CutSuffix(rest, c); ok {
				rest = r
				break
			}
		}
		rest, _ = strings.CutSuffix(rest, ".partial")
		stamp, ok := strings.CutSuffix(rest, ".sqlite3")
		if !ok {
			continue
		}
		t, err := time.Parse(backupStamp, stamp)
		if err != nil || !t.Before(cutoff) {
			continue
		}
		p := filepath.Join(dir, name)
		if err := os.Remove(p); err != nil {
			return removed, fmt.Errorf("sqlite: prune backups: %w", err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}
