package emailsched

import (
	"time"

	"github.com/emailsched/emailsched/datecalc"
)

// RunInfo identifies a planning run; the scheduler hands it to the sink.
type RunInfo struct {
	// ID is unique per run and stored on every row the run writes.
	ID string
	// Today is the run date in the organisation's time zone.
	Today datecalc.Date
	// StartedAt is the wall-clock start of the run.
	StartedAt time.Time
	// SendTime is the local time of day emails are sent, "HH:MM".
	SendTime string
	// RulesChecksum identifies the exclusion rules that produced the plan,
	// and ConfigChecksum every configuration value that decides it, both
	// by content (store.PlanIdentity).
	RulesChecksum, ConfigChecksum string
}
