package store_test

import (
	"fmt"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

// Diff turns a contact's stored plan and its new plan into the rows a sink
// must write: here the birthday email moved (an update of row 11), the AEP
// email is unchanged (not written at all) and a post-window email is new.
func ExampleDiff() {
	d := datecalc.MustNew
	stored := []emailsched.Email{
		{ID: 11, ContactID: 1, Type: emailsched.TypeBirthday, Date: d(2025, 6, 6), Event: d(2025, 6, 20), Status: emailsched.StatusPreScheduled},
		{ID: 12, ContactID: 1, Type: emailsched.TypeAEP, Date: d(2025, 9, 15), Event: d(2025, 9, 15), Status: emailsched.StatusPreScheduled},
	}
	planned := []emailsched.Email{
		{ContactID: 1, Type: emailsched.TypeBirthday, Date: d(2025, 6, 8), Event: d(2025, 6, 20), Status: emailsched.StatusPreScheduled},
		{ContactID: 1, Type: emailsched.TypeAEP, Date: d(2025, 9, 15), Event: d(2025, 9, 15), Status: emailsched.StatusPreScheduled},
		{ContactID: 1, Type: emailsched.TypePostWindow, Date: d(2025, 8, 1), Event: d(2025, 6, 20), Status: emailsched.StatusPreScheduled},
	}
	var delta store.Delta
	delta.Reset(1)
	store.Diff(stored, planned, &delta)
	for _, e := range delta.Update {
		fmt.Println("update row", e.ID, e.Type, e.Date)
	}
	for _, e := range delta.Insert {
		fmt.Println("insert", e.Type, e.Date)
	}
	fmt.Println("delete", len(delta.Delete), "unchanged", delta.Unchanged)
	// Output:
	// update row 11 birthday 2025-06-08
	// insert post_window 2025-08-01
	// delete 0 unchanged 1
}
