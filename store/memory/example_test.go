package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/memory"
)

// New builds a store from contacts; Contacts streams them back in ID order
// with their history and stored plan.
func ExampleNew() {
	bd := datecalc.MustNew(1955, time.June, 12)
	s, err := memory.New([]emailsched.Contact{
		{ID: 2, Email: "bob@example.com", ZIP: "10001", Birthday: bd,
			History: []emailsched.Email{{Type: emailsched.TypeBirthday, Date: datecalc.MustNew(2024, time.May, 29),
				Status: emailsched.StatusSent, Event: bd.AnniversaryIn(2024)}}},
		{ID: 1, Email: "ann@example.com", ZIP: "90210"},
	}, emailsched.Campaigns{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for c, err := range s.Contacts(context.Background()) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%d %s history=%d stored=%d\n", c.ID, c.Email, len(c.History), len(c.Stored))
	}
	// Output:
	// 1 ann@example.com history=0 stored=0
	// 2 bob@example.com history=1 stored=0
}

// A run writes each contact's Delta and commits; the rows become the stored
// plan that the next run reads.
func ExampleStore_Begin() {
	ctx := context.Background()
	s, _ := memory.New([]emailsched.Contact{{ID: 1, Email: "ann@example.com"}}, emailsched.Campaigns{})
	w, err := s.Begin(ctx, emailsched.RunInfo{ID: "run-1", Today: datecalc.MustNew(2025, time.March, 3)})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := &store.Delta{ContactID: 1, Insert: []emailsched.Email{{
		Type: emailsched.TypeAEP, Date: datecalc.MustNew(2025, time.September, 15),
		Status: emailsched.StatusPreScheduled, Priority: 20, Event: datecalc.MustNew(2025, time.September, 15)}}}
	if err := w.Write(ctx, d); err != nil {
		fmt.Println(err)
		return
	}
	if err := w.Commit(ctx, store.Summary{Contacts: 1, Rows: store.RowCounts{Inserted: 1}}); err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range s.Plan() {
		fmt.Println(e.ID, e.ContactID, e.Type, e.Date, e.Status, e.RunID)
	}
	fmt.Println(len(s.Runs()), "run recorded")
	// Output:
	// 1 1 aep 2025-09-15 pre-scheduled run-1
	// 1 run recorded
}
