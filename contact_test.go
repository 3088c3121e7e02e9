package emailsched_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

func fullContact() emailsched.Contact {
	return emailsched.Contact{
		ID:               99,
		Email:            "a@example.com",
		ZIP:              "90210",
		State:            "CA",
		Birthday:         datecalc.MustNew(1950, time.May, 5),
		EffectiveDate:    datecalc.MustNew(2020, time.June, 1),
		Carrier:          "acme",
		DoNotCommunicate: true,
		Issues: []emailsched.FieldIssue{
			{Field: emailsched.FieldZIP, Value: "9x", Reason: "not a ZIP"},
			{Field: emailsched.FieldBirthday, Value: "1950-13-01", Reason: "not a YYYY-MM-DD date"},
		},
		History:    []emailsched.Email{sampleEmail(), sampleEmail()},
		Stored:     []emailsched.Email{sampleEmail()},
		Engagement: []emailsched.Engagement{{Kind: emailsched.EngagementClick, At: time.Unix(1, 0)}},
		Campaigns:  []emailsched.CampaignTarget{{InstanceID: 1, Trigger: datecalc.MustNew(2025, 1, 1), Status: "active"}},
	}
}

func TestContactReset(t *testing.T) {
	c := fullContact()
	caps := map[string]int{
		"Issues":     cap(c.Issues),
		"History":    cap(c.History),
		"Stored":     cap(c.Stored),
		"Engagement": cap(c.Engagement),
		"Campaigns":  cap(c.Campaigns),
	}
	issues0 := &c.Issues[0]
	history0 := &c.History[0]

	c.Reset()

	// Every field is zero, and the slices are empty.
	if diff := cmp.Diff(emailsched.Contact{}, c, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("after Reset (-want +got):\n%s", diff)
	}
	// The slices keep their capacity and backing arrays.
	gotCaps := map[string]int{
		"Issues":     cap(c.Issues),
		"History":    cap(c.History),
		"Stored":     cap(c.Stored),
		"Engagement": cap(c.Engagement),
		"Campaigns":  cap(c.Campaigns),
	}
	if diff := cmp.Diff(caps, gotCaps); diff != "" {
		t.Errorf("Reset changed slice capacities (-want +got):\n%s", diff)
	}
	if &c.Issues[:1][0] != issues0 || &c.History[:1][0] != history0 {
		t.Error("Reset replaced a backing array")
	}
	// Appending after Reset does not allocate.
	allocs := testing.AllocsPerRun(100, func() {
		c.Reset()
		c.Issues = append(c.Issues, emailsched.FieldIssue{Field: emailsched.FieldEmail})
		c.History = append(c.History, emailsched.Email{}, emailsched.Email{})
		c.Stored = append(c.Stored, emailsched.Email{})
		c.Engagement = append(c.Engagement, emailsched.Engagement{})
		c.Campaigns = append(c.Campaigns, emailsched.CampaignTarget{})
	})
	if allocs != 0 {
		t.Errorf("reusing a reset Contact allocates %v times, want 0", allocs)
	}

	// Every field of Contact is zero after Reset, whatever fields are added
	// later (reflection, so a new field is covered without editing this
	// test).
	c = fullContact()
	c.Reset()
	v := reflect.ValueOf(c)
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		if f.Kind() == reflect.Slice {
			if f.Len() != 0 {
				t.Errorf("after Reset, %s has length %d", name, f.Len())
			}
			continue
		}
		if !f.IsZero() {
			t.Errorf("after Reset, %s = %v, want zero", name, f.Interface())
		}
	}

	// Reset of a zero Contact is a zero Contact (nil slices stay nil).
	var z emailsched.Contact
	z.Reset()
	if diff := cmp.Diff(emailsched.Contact{}, z); diff != "" {
		t.Errorf("Reset of a zero Contact (-want +got):\n%s", diff)
	}
}

func TestContactHasIssue(t *testing.T) {
	c := fullContact()
	tests := []struct {
		field string
		want  bool
	}{
		{emailsched.FieldZIP, true},
		{emailsched.FieldBirthday, true},
		{emailsched.FieldEmail, false},
		{emailsched.FieldState, false},
		{emailsched.FieldEffectiveDate, false},
		{"", false},
		{"ZIP_CODE", false},
	}
	for _, tc := range tests {
		if got := c.HasIssue(tc.field); got != tc.want {
			t.Errorf("HasIssue(%q) = %v, want %v", tc.field, got, tc.want)
		}
	}
	var empty emailsched.Contact
	for _, tc := range tests {
		if empty.HasIssue(tc.field) {
			t.Errorf("HasIssue(%q) on a contact without issues = true", tc.field)
		}
	}
}

func TestFieldConstants(t *testing.T) {
	// The field names are the column names of the contacts table.
	got := []string{emailsched.FieldEmail, emailsched.FieldZIP, emailsched.FieldState, emailsched.FieldBirthday, emailsched.FieldEffectiveDate}
	want := []string{"email", "zip_code", "state", "birth_date", "effective_date"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("field names (-want +got):\n%s", diff)
	}
}

func TestFieldIssueString(t *testing.T) {
	tests := []struct {
		f    emailsched.FieldIssue
		want string
	}{
		{emailsched.FieldIssue{Field: emailsched.FieldBirthday, Value: "1950-13-01", Reason: "not a YYYY-MM-DD date"},
			`birth_date "1950-13-01": not a YYYY-MM-DD date`},
		{emailsched.FieldIssue{Field: emailsched.FieldZIP, Value: "", Reason: "empty"},
			`zip_code "": empty`},
		{emailsched.FieldIssue{Field: emailsched.FieldEmail, Value: "a\"b\n", Reason: "not an address"},
			`email "a\"b\n": not an address`},
		{emailsched.FieldIssue{}, ` "": `},
	}
	for _, tc := range tests {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestEngagementKinds(t *testing.T) {
	// The zero EngagementKind is not a kind, so a zero Engagement is
	// recognisably unset.
	if emailsched.EngagementClick == 0 || emailsched.EngagementHealthAnswer == 0 ||
		emailsched.EngagementClick == emailsched.EngagementHealthAnswer {
		t.Errorf("EngagementClick = %d, EngagementHealthAnswer = %d; want distinct non-zero kinds",
			emailsched.EngagementClick, emailsched.EngagementHealthAnswer)
	}
}

// A clone equals its contact and keeps its values when the contact's
// buffer is reset and refilled, as a source does.
func TestContactClone(t *testing.T) {
	c := fullContact()
	clone := c.Clone()
	if diff := cmp.Diff(c, clone); diff != "" {
		t.Fatalf("clone differs (-contact +clone):\n%s", diff)
	}
	want := fullContact()
	c.Reset()
	c.Issues = append(c.Issues, emailsched.FieldIssue{Field: emailsched.FieldEmail})
	c.History = append(c.History, emailsched.Email{ID: 1})
	c.Stored = append(c.Stored, emailsched.Email{ID: 2})
	c.Engagement = append(c.Engagement, emailsched.Engagement{})
	c.Campaigns = append(c.Campaigns, emailsched.CampaignTarget{InstanceID: 3})
	if diff := cmp.Diff(want, clone); diff != "" {
		t.Errorf("the clone changed with its contact (-want +clone):\n%s", diff)
	}
}

// CopyTo reuses the buffers of its destination and shares nothing with
// its source.
func TestContactCopyTo(t *testing.T) {
	var dst emailsched.Contact
	dst.History = make([]emailsched.Email, 0, 16)
	buf := &dst.History[:1][0]
	c := fullContact()
	c.CopyTo(&dst)
	if diff := cmp.Diff(c, dst); diff != "" {
		t.Fatalf("copy differs (-contact +copy):\n%s", diff)
	}
	if &dst.History[0] != buf {
		t.Error("the copy did not reuse its buffer")
	}
	if &dst.History[0] == &c.History[0] || &dst.Stored[0] == &c.Stored[0] {
		t.Error("the copy shares its contact's rows")
	}
}
