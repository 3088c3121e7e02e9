// Package proptest is the one place the module's property tests get their
// gopter.Properties from: seeded with GOPTER_SEED, or with a fixed seed so
// that CI runs the same cases every time, and the seed logged when a test
// fails so that its cases can be run again.
package proptest

import (
	"os"
	"strconv"
	"testing"

	"github.com/leanovate/gopter"
)

// DefaultSeed is the seed of every property test when GOPTER_SEED is not
// set.
const DefaultSeed = 20241210

// New returns the Properties of one test function, which need
// minSuccessful passing cases each.
func New(t testing.TB, minSuccessful int) *gopter.Properties {
	t.Helper()
	seed := int64(DefaultSeed)
	if s := os.Getenv("GOPTER_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("GOPTER_SEED=%q is not an integer: %v", s, err)
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
