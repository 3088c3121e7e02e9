package scheduler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/emailsched/emailsched/store"
)

// configChecksum is the checksum of every value that decides a plan besides
// the rules: each parameter the table declares as deciding the plan
// (Param.Plan), as a configuration file writes it, and the declaration of
// every event type, so that a parameter or a type added to its table joins
// it. It is the SHA-256 of a canonical text, one "key=value" line each: the
// same values give the same checksum whatever file or code set them.
func (s *settings) configChecksum() string {
	var b strings.Builder
	b.WriteString("emailsched config v1\n")
	for _, p := range params {
		if p.Plan {
			fmt.Fprintf(&b, "%s=%v\n", p.Key, s.cfg.ParamValue(p))
		}
	}
	for _, t := range eventTypes {
		fmt.Fprintf(&b, "type %s days_before=%s priority=%s smoothed=%t anchor=%s one_year_after=%t\n",
			t.typ, t.daysBefore, t.priority, t.smoothed, t.anchor.Name(), t.oneYearAfter)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Identity returns the identity of the settings of s's plans: the rules'
// checksum and the configuration's (see store.PlanIdentity). Runs record it
// (emailsched.RunInfo); a run whose identity differs from the stored plan's
// re-plans every email instead of keeping stored dates.
func (s *Scheduler) Identity() store.PlanIdentity {
	return store.PlanIdentity{Rules: s.s.rules.Checksum(), Config: s.s.configSum}
}

// Replan says why a run does not keep stored dates: the settings of the
// stored plan differ from the run's. Its zero value means they are the same
// (or unknown: store.IdentitySource).
type Replan struct {
	// Rules and Config are set when the rules, respectively a
	// plan-deciding configuration value, changed since the stored plan.
	Rules  bool `json:"rules,omitempty"`
	Config bool `json:"config,omitempty"`
}

// Changed reports whether the run re-plans.
func (r Replan) Changed() bool { return r.Rules || r.Config }

// String says what changed, in words.
func (r Replan) String() string {
	switch {
	case r.Rules && r.Config:
		return "the rules and the configuration changed since the stored plan"
	case r.Rules:
		return "the rules changed since the stored plan"
	case r.Config:
		return "the configuration changed since the stored plan"
	}
	return "the stored plan was made with these settings"
}

// replanOf compares the identities of the stored plan with the run's.
func replanOf(stored []store.PlanIdentity, own store.PlanIdentity) Replan {
	var r Replan
	for _, id := range stored {
		r.Rules = r.Rules || id.Rules != own.Rules
		r.Config = r.Config || id.Config != own.Config
	}
	return r
}

// storedReplan reads the identities of the stored plan from src, when it
// records them.
func (s *Scheduler) storedReplan(ctx context.Context, src store.ContactSource) (Replan, error) {
	is, ok := src.(store.IdentitySource)
	if !ok {
		return Replan{}, nil
	}
	ids, err := is.StoredIdentities(ctx)
	if err != nil {
		return Replan{}, fmt.Errorf("scheduler: reading the stored plan's settings: %w", err)
	}
	return replanOf(ids, s.Identity()), nil
}
