package datecalc

// FNV-1a 64-bit parameters (see http://www.isthe.com/chongo/tech/comp/fnv/).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// StableHash is the stable hash, part of the storage contract: FNV-1a
// 64-bit over the ASCII bytes of "{contactID}_{emailType}_{eventYear}", with
// the decimal forms of contactID and eventYear (a minus sign for negative
// values, no padding). It is a storage and interoperability contract: the
// same inputs give the same value on every machine and in every version, so
// another system can reproduce a plan. It does not allocate.
//
// Published vectors (also held by the tests):
//
//	StableHash(1, "birthday", 2025)        = 0x48e68a027da25efe
//	StableHash(42, "effective_date", 2024) = 0x23883543eee7a15f
//	StableHash(123456, "aep", 2025)        = 0x4e9646d9bd058907
func StableHash(contactID int64, emailType string, eventYear int) uint64 {
	h := hashInt(fnvOffset64, contactID)
	h = (h ^ '_') * fnvPrime64
	for i := 0; i < len(emailType); i++ {
		h = (h ^ uint64(emailType[i])) * fnvPrime64
	}
	h = (h ^ '_') * fnvPrime64
	return hashInt(h, int64(eventYear))
}

// hashInt feeds the decimal digits of v (with a leading '-' when negative)
// to the FNV-1a state h, as strconv.AppendInt would write them.
func hashInt(h uint64, v int64) uint64 {
	var buf [20]byte
	i := len(buf)
	u := uint64(v)
	if v < 0 {
		u = -u // the two's complement magnitude, right for math.MinInt64 too
		h = (h ^ '-') * fnvPrime64
	}
	for {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	for _, c := range buf[i:] {
		h = (h ^ uint64(c)) * fnvPrime64
	}
	return h
}

// Spread maps a stable hash onto 0 … n-1 (h mod n); n < 1 yields 0. It is
// the catch-up rule: today + Spread(h, catch_up_spread_days).
func Spread(h uint64, n int) int {
	if n < 1 {
		return 0
	}
	return int(h % uint64(n))
}

// Jitter maps a stable hash onto -w … +w as (h mod (2w+1)) - w, the
// effective-date smoothing rule; w < 1 yields 0.
func Jitter(h uint64, w int) int {
	if w < 1 {
		return 0
	}
	return int(h%uint64(2*w+1)) - w
}

// IDChecksum is FNV-1a 64-bit over a sequence of IDs, each as its 8 bytes
// in little-endian order: a run's checksum of the contacts it planned,
// which tells whether two plans were made for the same contacts. Start
// from NewIDChecksum.
type IDChecksum uint64

// NewIDChecksum is the checksum of no ID.
func NewIDChecksum() IDChecksum { return fnvOffset64 }

// Add returns the checksum of the sequence with id appended.
func (h IDChecksum) Add(id int64) IDChecksum {
	v := uint64(id)
	for range 8 {
		h = (h ^ IDChecksum(v&0xff)) * fnvPrime64
		v >>= 8
	}
	return h
}
