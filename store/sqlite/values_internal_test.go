package sqlite

import (
	"errors"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

func TestTimestamp(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		in   any
		want time.Time
		ok   bool
	}{
		{"2025-03-03 14:30:00", at("2025-03-03T14:30:00Z"), true},
		{"2025-03-03T14:30:05", at("2025-03-03T14:30:05Z"), true},
		{" 2025-03-03 14:30:05 ", at("2025-03-03T14:30:05Z"), true},
		{"2025-03-03T14:30:00+02:00", at("2025-03-03T12:30:00Z"), true},
		{"2025-03-03 14:30:00.25", at("2025-03-03T14:30:00.25Z"), true},
		{"2025-03-03", at("2025-03-03T00:00:00Z"), true},
		{"1700000000", time.Unix(1700000000, 0).UTC(), true},
		{int64(1700000000000), time.UnixMilli(1700000000000).UTC(), true},
		{float64(1700000000), time.Unix(1700000000, 0).UTC(), true},
		{at("2025-01-01T00:00:00Z"), at("2025-01-01T00:00:00Z"), true},
		{"2025-03-03 25:00:00", time.Time{}, false},
		{"2025-02-30 10:00:00", time.Time{}, false},
		{"2025-03-03 1x:00:00", time.Time{}, false},
		{"garbage", time.Time{}, false},
		{"", time.Time{}, false},
		{nil, time.Time{}, false},
	} {
		got, ok := timestamp(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("timestamp(%#v) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if n := testing.AllocsPerRun(100, func() { timestamp("2025-03-03 14:30:00") }); n > 1 {
		t.Errorf("timestamp allocates %v times", n)
	}
}

func TestUniqueViolation(t *testing.T) {
	if uniqueViolation(nil) || uniqueViolation(errors.New("x")) {
		t.Error("not a unique violation")
	}
	if !uniqueViolation(sqlite3.Error{Code: sqlite3.ErrConstraint, ExtendedCode: sqlite3.ErrConstraintUnique}) {
		t.Error("unique violation not recognised")
	}
}
