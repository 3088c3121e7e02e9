package safefile

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.rules")
	if err := os.WriteFile(small, []byte("CA: no_exclusion()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.rules")
	if err := os.WriteFile(big, bytes.Repeat([]byte("#"), 200<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := Read(ctx, small, 100)
	if err != nil || string(got) != "CA: no_exclusion()\n" {
		t.Errorf("small: %q, %v", got, err)
	}
	if got, err := Read(ctx, big, 200<<10); err != nil || len(got) != 200<<10 {
		t.Errorf("big, several chunks: %d bytes, %v", len(got), err)
	}
	for _, tc := range []struct {
		name, path string
		limit      int64
		want       error
	}{
		{"too large", big, 1000, ErrTooLarge},
		{"directory", dir, 1000, ErrNotRegular},
		{"missing", filepath.Join(dir, "none"), 1000, fs.ErrNotExist},
	} {
		if _, err := Read(ctx, tc.path, tc.limit); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Read(cancelled, small, 100); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestReadRefusesSpecialFiles: a FIFO and a device are refused at once,
// without waiting for a writer or reading without end.
func TestReadRefusesSpecialFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no FIFOs or /dev/zero")
	}
	fifo := filepath.Join(t.TempDir(), "rules.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Read(context.Background(), fifo, 1<<20)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("FIFO: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read blocked on a FIFO")
	}
	if _, err := Read(context.Background(), "/dev/zero", 1<<20); !errors.Is(err, ErrNotRegular) {
		t.Errorf("/dev/zero: %v", err)
	}
}
