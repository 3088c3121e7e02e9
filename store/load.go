package store

import (
	"context"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// PlanLoad is the per-day volume of a committed plan: how many
// pre-scheduled emails it holds on each day, by priority. The scheduler
// passes it to the sink in Summary.Load; a store that keeps it offers it
// back through LoadSource, and the next run's load balancing starts from it
// instead of reading and planning every contact twice.
//
// It is a few thousand small entries whatever the number of contacts.
type PlanLoad struct {
	// Key identifies the rules and settings the plan was made with. It is
	// opaque to stores: the scheduler uses a stored load only when the key
	// is its own.
	Key string
	// Today is the run date of the plan.
	Today datecalc.Date
	// ValidContacts is the number of contacts the run planned (neither
	// invalid nor opted out): the base of the daily cap.
	ValidContacts int
	// Entries count the plan's pre-scheduled emails, one entry per day,
	// priority and effective-date flag, in ascending order of those.
	Entries []LoadEntry
}

// LoadEntry counts the pre-scheduled emails of one day and priority.
type LoadEntry struct {
	Date          datecalc.Date
	Priority      int
	EffectiveDate bool // effective_date emails, which smoothing spreads
	Emails        int
}

// LoadSource is an optional capability of a ContactSource whose store keeps
// the PlanLoad of the last committed run.
type LoadSource interface {
	// StoredLoad returns the load recorded by the last run that committed
	// completely, and false when there is none: no such run, or a later
	// run was interrupted, so that the stored plan may be a mix of two
	// runs.
	StoredLoad(ctx context.Context) (PlanLoad, bool, error)
}

// LoadKeeper is an optional capability of a Writer that keeps the PlanLoad
// of the plan it commits (Summary.Load) and gives it back through its
// store's LoadSource. The scheduler computes the load, which costs a little
// per email, only for such writers, and only when it balances the load.
type LoadKeeper interface {
	// KeepsLoad reports whether Commit keeps Summary.Load.
	KeepsLoad() bool
}

// PlanIdentity identifies the settings a plan was made with, by content:
// the checksum of the exclusion rules and the checksum of every
// plan-deciding configuration value (emailsched.RunInfo's RulesChecksum and
// ConfigChecksum). File names and spelling play no part in either.
type PlanIdentity struct {
	Rules, Config string
}

// IdentitySource is an optional capability of a ContactSource whose store
// records the PlanIdentity of each run (emailsched.RunInfo).
//
// The scheduler keeps a stored email's date while it is still legal, so
// that plans are stable from day to day, only when the stored plan was made
// with the run's own settings: after a change of the rules or of a
// plan-deciding value every email takes what the new settings give it. A
// source without this capability is trusted to hold a plan of the run's
// settings.
type IdentitySource interface {
	// StoredIdentities returns the identities of the runs whose rows the
	// stored plan may hold: the last run that completed and every later
	// one (interrupted, or still running), oldest first. It is empty when
	// no run recorded one (an earlier scheduler's plan, say).
	StoredIdentities(ctx context.Context) ([]PlanIdentity, error)
}

// TypeVolume is the number of pre-scheduled emails of one type on one day
// of a stored plan.
type TypeVolume struct {
	Date   datecalc.Date
	Type   emailsched.EmailType
	Emails int
}

// VolumeSource is an optional capability of a ContactSource that counts
// the pre-scheduled emails of its stored plan per day and type without
// reading every contact (an index on the send date, say): for a quick look
// at what goes out when.
type VolumeSource interface {
	// PlannedVolume returns the pre-scheduled emails of the stored plan
	// dated from from to to (both included), by day and then type, in
	// that order; days and types without any are left out.
	PlannedVolume(ctx context.Context, from, to datecalc.Date) ([]TypeVolume, error)
}
