package rules

import (
	"errors"

	"github.com/emailsched/emailsched"
)

// StateSource tells where a contact's state came from.
type StateSource uint8

// The sources of a resolved state.
const (
	SourceZIP   StateSource = iota + 1 // the ZIP code mapped to a state
	SourceField                        // the ZIP did not; the state field was used
)

// String returns "zip" or "state_field".
func (s StateSource) String() string {
	switch s {
	case SourceZIP:
		return "zip"
	case SourceField:
		return "state_field"
	}
	return ""
}

// ErrNoState means that neither the ZIP code nor the state field gives a
// known state: the contact's rules cannot be evaluated and it gets no email.
var ErrNoState = errors.New("rules: no state: ZIP code unknown and state field missing or invalid")

// StateResolution is the outcome of ResolveState.
type StateResolution struct {
	State  emailsched.State
	Source StateSource
	// Field is the state field as parsed (NoState when empty or unknown).
	Field emailsched.State
	// Mismatch is set when the ZIP and a valid state field disagree; the
	// ZIP wins and the run report records the disagreement.
	Mismatch bool
}

// ResolveState decides a contact's state: the state derived from the
// ZIP code wins when the ZIP maps to a state; otherwise the contact's own
// state field is used; a contact with neither gets ErrNoState.
func ResolveState(zip, field string) (StateResolution, error) {
	f, _ := emailsched.ParseState(field)
	if z, ok := StateFromZIP(zip); ok {
		return StateResolution{State: z, Source: SourceZIP, Field: f, Mismatch: f != emailsched.NoState && f != z}, nil
	}
	if f != emailsched.NoState {
		return StateResolution{State: f, Source: SourceField, Field: f}, nil
	}
	return StateResolution{}, ErrNoState
}
