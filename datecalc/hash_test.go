package datecalc

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"strconv"
	"testing"

	"github.com/emailsched/emailsched/internal/proptest"

	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
)

// fnvRef is the reference implementation: hash/fnv over the formatted key.
func fnvRef(contactID int64, emailType string, eventYear int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(strconv.FormatInt(contactID, 10) + "_" + emailType + "_" + strconv.Itoa(eventYear)))
	return h.Sum64()
}

func TestStableHashVectors(t *testing.T) {
	// The published vectors of hash.go's doc comment: a storage contract.
	tests := []struct {
		id        int64
		emailType string
		year      int
		want      uint64
	}{
		{1, "birthday", 2025, 0x48e68a027da25efe},
		{42, "effective_date", 2024, 0x23883543eee7a15f},
		{123456, "aep", 2025, 0x4e9646d9bd058907},
	}
	for _, tt := range tests {
		if got := StableHash(tt.id, tt.emailType, tt.year); got != tt.want {
			t.Errorf("StableHash(%d, %q, %d) = %#x, want %#x", tt.id, tt.emailType, tt.year, got, tt.want)
		}
	}
}

func TestStableHashMatchesFNV(t *testing.T) {
	edge := []struct {
		id   int64
		typ  string
		year int
	}{
		{0, "", 0},
		{math.MinInt64, "birthday", math.MinInt},
		{math.MaxInt64, "campaign_rate_increase", math.MaxInt},
		{-1, "aep", -2025},
		{7, "ünïcödé_bytes", 2025},
	}
	for _, e := range edge {
		if got, want := StableHash(e.id, e.typ, e.year), fnvRef(e.id, e.typ, e.year); got != want {
			t.Errorf("StableHash(%d, %q, %d) = %#x, hash/fnv says %#x", e.id, e.typ, e.year, got, want)
		}
	}
	// Distinct fields must not collide by concatenation ("1_2" vs "12_").
	if StableHash(1, "2_x", 3) == StableHash(12, "x", 3) {
		t.Error("StableHash ignores the separator")
	}
}

func TestPropStableHashMatchesFNV(t *testing.T) {
	properties := proptest.New(t, 2000)
	properties.Property("StableHash == FNV-1a 64 of the formatted key", prop.ForAll(
		func(id int64, typ string, year int) bool {
			return StableHash(id, typ, year) == fnvRef(id, typ, year)
		},
		gen.Int64(), gen.AnyString(), gen.Int(),
	))
	properties.TestingRun(t)
}

func TestStableHashAllocs(t *testing.T) {
	var sink uint64
	if a := testing.AllocsPerRun(100, func() { sink = StableHash(-9223372036854775808, "effective_date", -2024) }); a != 0 {
		t.Errorf("StableHash allocates %v times, want 0", a)
	}
	_ = sink
}

func TestSpread(t *testing.T) {
	tests := []struct {
		h    uint64
		n    int
		want int
	}{
		{0x48e68a027da25efe, 7, 5}, // vector 1, catch_up_spread_days = 7
		{0x23883543eee7a15f, 7, 3},
		{0x4e9646d9bd058907, 7, 5},
		{0, 7, 0},
		{6, 7, 6},
		{7, 7, 0},
		{math.MaxUint64, 7, int(uint64(math.MaxUint64) % 7)},
		{math.MaxUint64, 1, 0},
		{12345, 0, 0},
		{12345, -3, 0},
		{math.MaxUint64, math.MaxInt, int(uint64(math.MaxUint64) % math.MaxInt)},
	}
	for _, tt := range tests {
		if got := Spread(tt.h, tt.n); got != tt.want {
			t.Errorf("Spread(%#x, %d) = %d, want %d", tt.h, tt.n, got, tt.want)
		}
	}
}

func TestJitter(t *testing.T) {
	tests := []struct {
		h    uint64
		w    int
		want int
	}{
		{0x48e68a027da25efe, 2, 0}, // vector 1, ed_smoothing_window_days = 2
		{0x23883543eee7a15f, 2, -1},
		{0x4e9646d9bd058907, 2, 1},
		{0, 2, -2},
		{4, 2, 2},
		{5, 2, -2},
		{0, 1, -1},
		{1, 1, 0},
		{2, 1, 1},
		{99, 0, 0},
		{99, -4, 0},
		// Huge windows: 2w+1 does not fit in int.
		{0, math.MaxInt, -math.MaxInt},
		{math.MaxUint64 - 1, math.MaxInt, math.MaxInt},
		{1 << 63, math.MaxInt, 1},
		{1<<63 - 1, math.MaxInt, 0},
		{0, math.MaxInt/2 + 1, -(math.MaxInt/2 + 1)},
		{math.MaxUint64, math.MaxInt, -math.MaxInt}, // MaxUint64 mod (2^64-1) = 0
	}
	for _, tt := range tests {
		if got := Jitter(tt.h, tt.w); got != tt.want {
			t.Errorf("Jitter(%#x, %d) = %d, want %d", tt.h, tt.w, got, tt.want)
		}
	}
}

func TestPropSpreadJitterBounds(t *testing.T) {
	properties := proptest.New(t, 2000)
	properties.Property("Spread in [0, n) and Jitter in [-w, w], both h mod m", prop.ForAll(
		func(h uint64, n, w int, big bool) bool {
			if big { // exercise the overflow-prone end of the range
				n, w = math.MaxInt-n, math.MaxInt-w
			}
			s := Spread(h, n)
			j := Jitter(h, w)
			return s >= 0 && s < n && uint64(s) == h%uint64(n) &&
				j >= -w && j <= w && uint64(j+w) == h%(2*uint64(w)+1)
		},
		gen.UInt64(), gen.IntRange(1, 1000), gen.IntRange(1, 1000), gen.Bool(),
	))
	properties.TestingRun(t)
}

func BenchmarkStableHash(b *testing.B) {
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		sink = StableHash(1234567, "effective_date", 2025)
	}
	_ = sink
}

func TestIDChecksum(t *testing.T) {
	ids := []int64{1, 42, -7, 1 << 40}
	h := fnv.New64a()
	sum := NewIDChecksum()
	if uint64(sum) != h.Sum64() {
		t.Errorf("NewIDChecksum() = %x, want FNV-1a of nothing %x", uint64(sum), h.Sum64())
	}
	for _, id := range ids {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(id))
		h.Write(b[:])
		sum = sum.Add(id)
	}
	if uint64(sum) != h.Sum64() {
		t.Errorf("checksum %x, want FNV-1a of the little-endian ids %x", uint64(sum), h.Sum64())
	}
	if NewIDChecksum().Add(1).Add(2) == NewIDChecksum().Add(2).Add(1) {
		t.Error("the order of the ids does not count")
	}
}
