package rules_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/rules"
)

func TestResolveState(t *testing.T) {
	tests := []struct {
		name  string
		zip   string
		field string
		want  rules.StateResolution
		err   error
	}{
		{"ZIP wins over a disagreeing field", "90210", "TX", rules.StateResolution{State: st("CA"), Source: rules.SourceZIP, Field: st("TX"), Mismatch: true}, nil},
		{"ZIP and field agree", "90210", "ca", rules.StateResolution{State: st("CA"), Source: rules.SourceZIP, Field: st("CA")}, nil},
		{"ZIP only", "10001", "", rules.StateResolution{State: st("NY"), Source: rules.SourceZIP}, nil},
		{"ZIP+4 with dash", "90210-1234", "", rules.StateResolution{State: st("CA"), Source: rules.SourceZIP}, nil},
		{"ZIP+4 without dash", "631011234", "MO", rules.StateResolution{State: st("MO"), Source: rules.SourceZIP, Field: st("MO")}, nil},
		{"ZIP unknown, field used", "00100", "ny", rules.StateResolution{State: st("NY"), Source: rules.SourceField, Field: st("NY")}, nil},
		{"ZIP empty, field with spaces", "", " tx ", rules.StateResolution{State: st("TX"), Source: rules.SourceField, Field: st("TX")}, nil},
		{"ZIP garbage, field used", "ABCDE", "NV", rules.StateResolution{State: st("NV"), Source: rules.SourceField, Field: st("NV")}, nil},
		{"invalid field with valid ZIP: no mismatch", "90210", "XX", rules.StateResolution{State: st("CA"), Source: rules.SourceZIP}, nil},
		{"neither", "", "", rules.StateResolution{}, rules.ErrNoState},
		{"unknown ZIP, invalid field", "00100", "XX", rules.StateResolution{}, rules.ErrNoState},
		{"unknown ZIP, three letters", "00000", "CAL", rules.StateResolution{}, rules.ErrNoState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rules.ResolveState(tt.zip, tt.field)
			if !errors.Is(err, tt.err) {
				t.Errorf("ResolveState(%q, %q) error = %v, want %v", tt.zip, tt.field, err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ResolveState(%q, %q) (-want +got):\n%s", tt.zip, tt.field, diff)
			}
		})
	}
}

func TestStateSourceString(t *testing.T) {
	tests := []struct {
		s    rules.StateSource
		want string
	}{
		{rules.SourceZIP, "zip"},
		{rules.SourceField, "state_field"},
		{0, ""},
		{9, ""},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("StateSource(%d).String() = %q, want %q", uint8(tt.s), got, tt.want)
		}
	}
}

// TestResolveStateEveryState: a state field alone resolves every state.
func TestResolveStateEveryState(t *testing.T) {
	for _, s := range emailsched.States() {
		got, err := rules.ResolveState("", s.String())
		if err != nil || got.State != s || got.Source != rules.SourceField {
			t.Errorf("ResolveState(\"\", %q) = %+v, %v", s, got, err)
		}
	}
}
