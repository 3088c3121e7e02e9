package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/postgres"
)

// TestPostgresOrganisations plans the organisation schemas of a
// PostgreSQL database, the queue in the same database.
func TestPostgresOrganisations(t *testing.T) {
	testQueueHooks(t)
	url := pgQueueURL(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	schemas := []string{"org_001", "org_002", "org_003"}
	for i, s := range schemas {
		gen := demodata.GenOptions{Seed: int64(i + 1), Contacts: 150, Today: fixtureToday, StoredFraction: 0.3}
		if err := postgres.Load(ctx, pool, s, demodata.GenerateSeq(gen), emailsched.Campaigns{}); err != nil {
			t.Fatal(err)
		}
	}
	// An organisation of the queue's database planned before the fleet
	// ran (a worker killed after the commit) is not planned again.
	p := &planner{orgs: &pgOrgs{pool: pool}, fleet: defaultFleet(), logger: newLogger(&strings.Builder{}, "text")}
	if o, err := p.run(ctx, planArgs{Org: "org_002", Day: fixtureToday.String()}); err != nil || o.status != statusPlanned {
		t.Fatalf("org_002 beforehand: %+v, %v", o, err)
	}
	dir := t.TempDir()
	args := []string{"-orgs", url, "-today", fixtureToday.String(), "-fleet", writeFleetFile(t, dir, "")}
	for range 2 {
		if code, stdout, stderr := runCmd(t, args...); code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
	}
	st := inspect(t, dir, []string{"-queue", url})
	want := map[string]string{"org_001": statusPlanned, "org_002": statusAlreadyPlanned, "org_003": statusPlanned}
	if d := cmp.Diff(want, st.statuses()); d != "" {
		t.Errorf("statuses (-want +got):\n%s", d)
	}
	if n := len(st.jobs); n != len(schemas) {
		t.Errorf("%d jobs, want %d", n, len(schemas))
	}
	for _, s := range schemas {
		cps, err := postgres.New(pool, postgres.Options{Schema: s}).Checkpoints(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range cps {
			if c.Status == postgres.CheckpointCompleted && c.RunDate == fixtureToday.String() {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d completed runs of the day, want 1", s, n)
		}
	}
}
