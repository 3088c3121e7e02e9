package postgres_test

import (
	"context"
	"fmt"
	"log"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/postgres"
)

// Plan an organisation kept in a schema of its own: load generated data,
// then run the scheduler on it. (Compiled, not run: it needs a server.)
func Example() {
	ctx := context.Background()
	pool, err := postgres.NewPool(ctx, "postgres://emailsched@localhost/emailsched")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	today := datecalc.MustNew(2025, 3, 3)
	camps := demodata.DemoCampaigns(today)
	gen := demodata.GenerateSeq(demodata.GenOptions{Seed: 1, Contacts: 1000, Today: today, Campaigns: camps})
	if err := postgres.Load(ctx, pool, "org_001", gen, camps); err != nil {
		log.Fatal(err)
	}

	s := postgres.New(pool, postgres.Options{Schema: "org_001"})
	sch, err := scheduler.New(scheduler.Config{})
	if err != nil {
		log.Fatal(err)
	}
	report, err := sch.Run(ctx, s, s) // migrates the schema first when needed
	if err != nil {
		log.Fatal(err) // a *postgres.RunInProgressError when another run holds the organisation
	}
	fmt.Println(report.Contacts, report.Rows.Inserted)
}
