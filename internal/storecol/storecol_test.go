package storecol

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

func TestLoadRoundTrip(t *testing.T) {
	d := datecalc.MustNew
	in := store.PlanLoad{Key: "k1", Today: d(2025, 3, 3), ValidContacts: 7, Entries: []store.LoadEntry{
		{Date: d(2025, 3, 4), Priority: 10, Emails: 3}, {Date: d(2025, 4, 1), Priority: 5, EffectiveDate: true, Emails: 1}}}
	v, err := EncodeLoad(&in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"key":"k1","today":"2025-03-03","valid_contacts":7,"entries":[{"d":"2025-03-04","p":10,"n":3},{"d":"2025-04-01","p":5,"e":true,"n":1}]}`
	if v != want {
		t.Errorf("EncodeLoad = %v\nwant %s", v, want)
	}
	out, ok := DecodeLoad(want)
	if !ok {
		t.Fatal("DecodeLoad refused its own encoding")
	}
	if diff := cmp.Diff(in, out, cmp.Comparer(func(a, b datecalc.Date) bool { return a == b })); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
	if v, err := EncodeLoad(nil); v != nil || err != nil {
		t.Errorf("EncodeLoad(nil) = %v, %v; want NULL", v, err)
	}
	for _, bad := range []string{"", "{", `{"v":2,"key":"k"}`, `[]`, `{"v":1,"today":"2025-13-01"}`} {
		if _, ok := DecodeLoad(bad); ok {
			t.Errorf("DecodeLoad(%q) accepted", bad)
		}
	}
}

func TestList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"   ", nil, true},
		{"CA", []string{"CA"}, true},
		{" CA, NY ,,TX ", []string{"CA", "NY", "TX"}, true},
		{`["CA", " NY", ""]`, []string{"CA", "NY"}, true},
		{`[]`, []string{}, true},
		{`["CA"`, nil, false},
		{`[1, 2]`, nil, false},
	} {
		got, ok := List(tc.in)
		if ok != tc.ok || !cmp.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNulls(t *testing.T) {
	d := datecalc.MustNew(2025, 3, 3)
	for _, tc := range []struct {
		got, want any
	}{
		{NullText(""), nil}, {NullText("x"), "x"},
		{NullInt(0), nil}, {NullInt(7), int64(7)},
		{NullDate(datecalc.Date{}), nil}, {NullDate(d), "2025-03-03"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %#v, want %#v", tc.got, tc.want)
		}
	}
}

func TestContactDate(t *testing.T) {
	long := "x" + strings.Repeat("9", 100)
	for _, tc := range []struct {
		in     string
		want   datecalc.Date
		issues []emailsched.FieldIssue
	}{
		{"", datecalc.Date{}, nil},
		{"  ", datecalc.Date{}, nil},
		{"1950-05-20", datecalc.MustNew(1950, 5, 20), nil},
		{"1950-05-20 00:00:00", datecalc.MustNew(1950, 5, 20), nil},
		{"2025-13-01", datecalc.Date{}, []emailsched.FieldIssue{{Field: "birth_date", Value: "2025-13-01", Reason: "not a YYYY-MM-DD date: month must be 01-12"}}},
		{long, datecalc.Date{}, []emailsched.FieldIssue{{Field: "birth_date", Value: long[:64]}}},
	} {
		var c emailsched.Contact
		got := ContactDate(&c, "birth_date", tc.in)
		if got != tc.want {
			t.Errorf("ContactDate(%q) = %v, want %v", tc.in, got, tc.want)
		}
		opt := cmpopts.IgnoreFields(emailsched.FieldIssue{}, "Reason")
		if len(tc.issues) > 0 && tc.issues[0].Reason != "" {
			opt = nil
		}
		if diff := cmp.Diff(tc.issues, c.Issues, opt); diff != "" {
			t.Errorf("ContactDate(%q) issues (-want +got):\n%s", tc.in, diff)
		}
	}
}

// TestMedicalConditions: how a health answer's metadata says the contact
// has medical conditions, and what reads as not saying it.
func TestMedicalConditions(t *testing.T) {
	for _, tc := range []struct {
		metadata string
		want     bool
	}{
		{`{"has_medical_conditions": true}`, true},
		{`{"has_medical_conditions": "Yes"}`, true},
		{`{"has_medical_conditions": "y"}`, true},
		{`{"has_medical_conditions": 1}`, true},
		{`{"has_medical_conditions": " TRUE "}`, true},
		{`{"has_medical_conditions": false}`, false},
		{`{"has_medical_conditions": "no"}`, false},
		{`{"main_questions_yes_count": 2}`, true},
		{`{"main_questions_yes_count": "0.5"}`, true},
		{`{"main_questions_yes_count": 0}`, false},
		{`{"main_questions_yes_count": "-1"}`, false},
		{`{"main_questions_yes_count": "many"}`, false},
		{`{"has_medical_conditions": false, "main_questions_yes_count": 3}`, true},
		{``, false},
		{`{}`, false},
		{`not json_at_all`, false},
		{`{"has_medical_conditions": true`, false},
		{`{"other": true}`, false},
	} {
		if got := MedicalConditions(tc.metadata); got != tc.want {
			t.Errorf("MedicalConditions(%q) = %v, want %v", tc.metadata, got, tc.want)
		}
	}
}
