// Package safefile reads the files a user names (rules, configuration)
// without trusting them: only regular files, never more than a bound,
// never blocking on a FIFO or a device, and giving up when the context
// ends.
package safefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by Read for a path that is not a regular file
// (a directory, a FIFO, a device, a socket).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by Read for a file larger than its bound.
var ErrTooLarge = errors.New("file too large")

// chunk is what Read reads between two looks at the context.
const chunk = 64 << 10

// Read returns the content of the regular file at path, at most limit
// bytes. It refuses anything else before reading a byte: a path that is not
// a regular file (ErrNotRegular), a file larger than limit (ErrTooLarge,
// also when it grows while being read). It opens without blocking, so that
// a FIFO put in the file's place is refused rather than waited for, and it
// stops when ctx ends. Errors name the path.
func Read(ctx context.Context, path string, limit int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		// "path: no such file or directory", not "stat path: ...": the
		// message is read by people, and errors.Is still sees the cause.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := check(path, st, limit); err != nil {
		return nil, err
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have been replaced between Stat and Open.
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := check(path, st, limit); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, st.Size())
	part := make([]byte, chunk)
	r := io.LimitReader(f, limit+1)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		n, err := r.Read(part)
		buf = append(buf, part[:n]...)
		if int64(len(buf)) > limit {
			return nil, fmt.Errorf("%s: %w: it grew beyond %d bytes while being read", path, ErrTooLarge, limit)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// check refuses what Read does not read.
func check(path string, st fs.FileInfo, limit int64) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, Kind(st.Mode()))
	}
	if st.Size() > limit {
		return fmt.Errorf("%s: %w: %d bytes, more than the %d allowed", path, ErrTooLarge, st.Size(), limit)
	}
	return nil
}

// Kind names the type of a file mode that is not a regular file's ("a
// directory", "a named pipe").
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}
