package scheduler_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store/memory"
)

// Plan two contacts in memory: a Californian whose birthday email falls in
// the state's exclusion window (skipped, with a post-window email after
// it) and a Texan (no window).
func ExampleScheduler_RunAt() {
	contacts := []emailsched.Contact{
		{ID: 1, Email: "maria@example.com", ZIP: "90210", Birthday: datecalc.MustNew(1955, 1, 15)},
		{ID: 2, Email: "john@example.com", ZIP: "75001", Birthday: datecalc.MustNew(1950, 6, 20)},
	}
	db, err := memory.New(contacts, emailsched.Campaigns{})
	if err != nil {
		panic(err)
	}
	s, err := scheduler.New(scheduler.Config{})
	if err != nil {
		panic(err)
	}
	today := datecalc.MustNew(2024, 12, 10)
	report, err := s.RunAt(context.Background(), today, db, db)
	if err != nil {
		panic(err)
	}
	for _, e := range db.Plan() {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%d %s %-11s %s %s", e.ContactID, e.Date, e.Type, e.Status, e.SkipReason)))
	}
	fmt.Println("rows inserted:", report.Rows.Inserted)
	// Output:
	// 1 2025-01-01 birthday    skipped exclusion_window:CA:birthday
	// 1 2025-03-17 post_window pre-scheduled
	// 1 2025-09-15 aep         pre-scheduled
	// 2 2025-06-06 birthday    pre-scheduled
	// 2 2025-09-15 aep         pre-scheduled
	// rows inserted: 5
}

// Configuration fields left zero take the defaults of the specification;
// New reports every invalid field at once.
func ExampleNew() {
	_, err := scheduler.New(scheduler.Config{
		SendTime:          "8h30",
		CatchUpSpreadDays: 100,
	})
	fmt.Println(err)

	s, err := scheduler.New(scheduler.Config{
		Clock:              func() time.Time { return time.Date(2025, 3, 10, 3, 0, 0, 0, time.UTC) },
		BirthdayDaysBefore: scheduler.Int(21),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("today in Chicago:", s.Today())
	// Output:
	// scheduler: invalid configuration: SendTime is "8h30", must be HH:MM from 00:00 to 23:59
	// scheduler: invalid configuration: CatchUpSpreadDays is 100, must be 1-90
	// today in Chicago: 2025-03-09
}
