package postgres_test

import (
	"testing"

	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/postgres"
	"github.com/emailsched/emailsched/store/storetest"
)

// TestConformance runs store/storetest: each of its stores is a fresh
// schema of one database, loaded with the suite's fixture (its deleted
// contacts' rows without their contacts), written in batches of 7
// contacts. Atomic runs are covered by TestAtomicAbort, TestTakenDuringRun,
// TestUniqueIndexes and TestCrashSafety (the suite under the race detector
// takes most of a minute).
func TestConformance(t *testing.T) {
	pool := newPool(t)
	storetest.Run(t, func(t *testing.T, f storetest.Fixture) (store.ContactSource, store.ScheduleSink) {
		s := loaded(t, pool, f.AllContacts(), f.Campaigns, postgres.Options{BatchContacts: 7})
		return s, s
	})
}
