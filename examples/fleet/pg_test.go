package main

import (
	"testing"

	"github.com/emailsched/emailsched/internal/pgtest"
)

// runTests runs the tests, with a PostgreSQL server for the queue tests
// when one can be had (internal/pgtest: EMAILSCHED_TEST_POSTGRES, or a
// throw-away cluster; otherwise those tests skip).
func runTests(m *testing.M) int { return pgtest.Main(m) }

// pgQueueURL returns the URL of a fresh PostgreSQL database for a queue,
// or skips when there is no server.
func pgQueueURL(t testing.TB) string { return pgtest.URL(t) }
