package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
)

// A skipTally flushed into a map counts as the map alone would, with more
// distinct reasons than it compares with, and flushing twice counts once.
func TestSkipTally(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[emailsched.SkipReason]int{"year_round:NY": 3}
	got := map[emailsched.SkipReason]int{"year_round:NY": 3}
	var tally skipTally
	for range 10_000 {
		r := emailsched.SkipReason(fmt.Sprintf("reason_%d", rng.IntN(2*maxTallied)))
		want[r]++
		tally.add(got, r)
	}
	tally.flush(got)
	tally.flush(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}
