package store_test

import (
	"errors"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store"
)

// TestDeltaCheck: a Delta that changes a row without its ID or writes a
// status of the sending system is refused with ErrNotPlanned; the others
// pass, deletes of rows of any status included.
func TestDeltaCheck(t *testing.T) {
	planned := emailsched.Email{ID: 7, Status: emailsched.StatusPreScheduled}
	skipped := emailsched.Email{ID: 8, Status: emailsched.StatusSkipped}
	sent := emailsched.Email{ID: 9, Status: emailsched.StatusSent}
	noID := emailsched.Email{Status: emailsched.StatusPreScheduled}
	for _, tc := range []struct {
		name string
		d    store.Delta
		ok   bool
	}{
		{"empty", store.Delta{ContactID: 1}, true},
		{"insert without id", store.Delta{ContactID: 1, Insert: []emailsched.Email{noID, skipped}}, true},
		{"update and delete", store.Delta{ContactID: 1, Update: []emailsched.Email{planned}, Delete: []emailsched.Email{sent}}, true},
		{"update without id", store.Delta{ContactID: 1, Update: []emailsched.Email{noID}}, false},
		{"delete without id", store.Delta{ContactID: 1, Delete: []emailsched.Email{noID}}, false},
		{"insert sent", store.Delta{ContactID: 1, Insert: []emailsched.Email{sent}}, false},
		{"update to sent", store.Delta{ContactID: 1, Update: []emailsched.Email{sent}}, false},
	} {
		err := tc.d.Check()
		if tc.ok != (err == nil) || err != nil && !errors.Is(err, store.ErrNotPlanned) {
			t.Errorf("%s: Check() = %v, want ok %v or ErrNotPlanned", tc.name, err, tc.ok)
		}
	}
}
