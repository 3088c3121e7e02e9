package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/memory"
)

// Plan two contacts in memory: a Californian whose birthday email falls in
// the state's exclusion window (skipped, with a post-window email after
// it) and a Texan (no window). Two contacts make a daily cap of one email
// (7 %, rounded up), so load balancing moves one AEP email to the next day
// of the AEP send window (September 15 to 30).
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
	// 1 2025-09-16 aep         pre-scheduled
	// 2 2025-06-06 birthday    pre-scheduled
	// 2 2025-09-15 aep         pre-scheduled
	// rows inserted: 5
}

// Configuration fields left zero take their documented defaults;
// New reports every invalid field at once.
func ExampleNew() {
	_, err := scheduler.New(scheduler.Config{
		SendTime:          "8h30",
		CatchUpSpreadDays: scheduler.Int(100),
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
	// scheduler: invalid configuration: SendTime is "8h30", must be "HH:MM" from "00:00" to "23:59"
	// scheduler: invalid configuration: CatchUpSpreadDays is 100, must be 1-90
	// today in Chicago: 2025-03-09
}

// Explain prints why a contact gets what it gets: its state and rule, its
// exclusion periods and every decision about each email.
func ExampleScheduler_ExplainAt() {
	db, err := memory.New([]emailsched.Contact{
		{ID: 7, Email: "maria@example.com", ZIP: "90210", Birthday: datecalc.MustNew(1955, 1, 15)},
	}, emailsched.Campaigns{})
	if err != nil {
		panic(err)
	}
	s, err := scheduler.New(scheduler.Config{})
	if err != nil {
		panic(err)
	}
	ex, err := s.ExplainAt(context.Background(), datecalc.MustNew(2024, 12, 10), db, 7)
	if err != nil {
		panic(err)
	}
	if err := ex.WriteText(os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// Contact 7, planned for 2024-12-10
	//   State CA, from the ZIP code
	//   Rule birthday_window(30, 60) (builtin)
	//   Exclusion period 2024-10-17 … 2025-03-16 (birthday_window(30, 60) around 2025-01-15)
	//   Exclusion period 2025-10-17 … 2026-03-16 (birthday_window(30, 60) around 2026-01-15)
	//   Priority: when emails compete (the frequency limit, campaigns on one day, a day over the cap), the lower number goes first
	//
	//   2025-01-01 birthday: skipped (exclusion_window:CA:birthday: inside CA's exclusion period around the birthday), priority 10; new row
	//     - event 2025-01-15; ideal send date 2025-01-01 (14 days before)
	//     - skipped on 2025-01-01: exclusion_window:CA:birthday, birthday_window(30, 60) around the anniversary 2025-01-15: excluded 2024-10-17…2025-03-16
	//
	//   2025-03-17 post_window: pre-scheduled, priority 30; new row
	//     - the window of the anniversary 2025-01-15 blocked an email and ends 2025-03-16; first day no window excludes: 2025-03-17
	//     - pre-scheduled for 2025-03-17
	//
	//   2025-09-15 aep: pre-scheduled, priority 20; new row
	//     - event 2025-09-15; ideal send date 2025-09-15 (0 days before)
	//     - send window 2025-09-15 to 2025-09-30
	//     - pre-scheduled for 2025-09-15
}

// Run plans "today" in the configured time zone; a dry run writes to
// store.Discard{}. WriteSummary prints the report for people; the Report
// itself marshals to JSON with stable field names.
func ExampleScheduler_Run() {
	db, err := memory.New([]emailsched.Contact{
		{ID: 1, Email: "john@example.com", ZIP: "75001", Birthday: datecalc.MustNew(1950, 6, 20)},
		{ID: 2, Email: "not an address", ZIP: "75001"},
	}, emailsched.Campaigns{})
	if err != nil {
		panic(err)
	}
	s, err := scheduler.New(scheduler.Config{
		Clock: func() time.Time { return time.Date(2024, 12, 10, 15, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	report, err := s.Run(context.Background(), db, store.Discard{})
	if err != nil {
		panic(err)
	}
	fmt.Println(report.Today, report.Contacts, "contacts,", report.Invalid, "invalid:", report.InvalidContacts[0].Reason)
	for _, tc := range report.Emails {
		fmt.Println(tc.Type, tc.PreScheduled, "pre-scheduled")
	}
	// Output:
	// 2024-12-10 2 contacts, 1 invalid: invalid_email
	// aep 1 pre-scheduled
	// birthday 1 pre-scheduled
}
