package loadbalance

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/leanovate/gopter"
)

// defaultGopterSeed is the fixed seed used when GOPTER_SEED is not set, so
// that CI runs are reproducible.
const defaultGopterSeed int64 = 1234

// newProperties returns one gopter Properties for the calling test function,
// seeded with GOPTER_SEED or defaultGopterSeed; the seed is logged when the
// test fails.
func newProperties(t *testing.T, minSuccessful int) *gopter.Properties {
	t.Helper()
	seed := defaultGopterSeed
	if s := os.Getenv("GOPTER_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("GOPTER_SEED=%q is not an int64: %v", s, err)
		}
		seed = n
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gopter seed %d (reproduce with GOPTER_SEED=%d)", seed, seed)
		}
	})
	params := gopter.DefaultTestParametersWithSeed(seed)
	params.MinSuccessfulTests = minSuccessful
	return gopter.NewProperties(params)
}

// d is datecalc.MustNew shorthand for test tables.
func d(y int, m time.Month, day int) datecalc.Date { return datecalc.MustNew(y, m, day) }
