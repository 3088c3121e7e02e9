// Package store defines the storage contract of emailsched: where contacts
// come from (ContactSource) and where plans go (ScheduleSink), the Delta a
// sink applies per contact, and optional capabilities found by type
// assertion, in the manner of database/sql/driver.
//
// Adapters: store/memory (tests, examples, embedding) and store/sqlite (the
// organisation databases). Every adapter's tests call storetest.Run.
package store

import (
	"context"
	"errors"
	"iter"

	"github.com/emailsched/emailsched"
)

// Sentinel errors.
var (
	// ErrNotFound: the requested object does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed: the Writer was already committed or aborted.
	ErrClosed = errors.New("store: writer closed")
	// ErrNotPlanned: a Delta tried to change or delete a row that is not
	// this scheduler's (its status is neither pre-scheduled nor skipped).
	ErrNotPlanned = errors.New("store: row is not a planned row")
)

// ContactSource streams the contacts of an organisation.
type ContactSource interface {
	// Contacts yields every contact in ascending ID order, each with its
	// history, stored plan, engagement and campaign targets. The *Contact
	// may be a buffer that is reused: it is valid only until the next
	// iteration and must not be modified (keep a Clone). A non-nil error ends the stream
	// (the Contact is then nil). Breaking out of the loop releases
	// resources. A source can be iterated again: each call starts a fresh
	// stream (the scheduler reads it twice when it balances load).
	Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error]
}

// CampaignSource is an optional capability of a ContactSource: the campaign
// catalogue (types and instances). A source without it has no campaigns.
type CampaignSource interface {
	Campaigns(ctx context.Context) (emailsched.Campaigns, error)
}

// ScheduleSink stores plans.
type ScheduleSink interface {
	// Begin starts writing the plan of run. The previous plan stays
	// visible until the Writer commits; a sink documents whether it
	// commits all at once or per batch of whole contacts.
	Begin(ctx context.Context, run emailsched.RunInfo) (Writer, error)
}

// Writer receives the changes of one run. Its methods are called from one
// goroutine at a time.
type Writer interface {
	// Write applies the changes of one contact. The Delta and its slices
	// are reused by the caller after Write returns. A contact's changes are
	// never split across transactions.
	Write(ctx context.Context, d *Delta) error
	// Commit makes every written change durable and visible and records
	// the summary. After Commit the Writer is closed.
	Commit(ctx context.Context, s Summary) error
	// Abort discards what was not committed and records cause. After Abort
	// the Writer is closed. Aborting a closed Writer is a no-op.
	Abort(ctx context.Context, cause error) error
}

// WriteCounter is an optional capability of a Writer: the rows it actually
// stored, which can differ from the Deltas it was given when the store
// declines rows (a unique index of an existing database refusing a row
// whose key a history row holds). The scheduler reports these counts when
// the Writer has them.
type WriteCounter interface {
	WriteCounts() WriteCounts
}

// WriteCounts are the rows a Writer has committed.
type WriteCounts struct {
	Inserted  int
	Updated   int
	Deleted   int
	Unchanged int
	// Conflicting counts rows not stored because the store refused them.
	Conflicting int
}

// Delta is the difference between a contact's stored plan and its new plan.
type Delta struct {
	ContactID int64
	// Insert holds new rows (ID 0).
	Insert []emailsched.Email
	// Update holds rows to rewrite in place (ID set, content changed).
	Update []emailsched.Email
	// Delete holds stored rows that no longer belong (ID set).
	Delete []emailsched.Email
	// Unchanged counts stored rows that stay as they are and are not
	// written at all.
	Unchanged int
}

// Reset empties d for reuse.
func (d *Delta) Reset(contactID int64) {
	d.ContactID = contactID
	d.Insert, d.Update, d.Delete, d.Unchanged = d.Insert[:0], d.Update[:0], d.Delete[:0], 0
}

// Empty reports whether the delta writes nothing.
func (d *Delta) Empty() bool { return len(d.Insert)+len(d.Update)+len(d.Delete) == 0 }

// Summary is what a run reports to the sink when it commits.
type Summary struct {
	Contacts         int
	ContactsChecksum uint64
	Inserted         int
	Updated          int
	Deleted          int
	Unchanged        int
	// Load is the per-day volume of the committed plan, for stores that
	// keep it (LoadSource); nil when the run did not compute it.
	Load *PlanLoad
}

// Discard is a ScheduleSink that writes nothing: for dry runs and
// benchmarks.
var Discard ScheduleSink = discard{}

type discard struct{}

func (discard) Begin(context.Context, emailsched.RunInfo) (Writer, error) { return discard{}, nil }
func (discard) Write(context.Context, *Delta) error                       { return nil }
func (discard) Commit(context.Context, Summary) error                     { return nil }
func (discard) Abort(context.Context, error) error                        { return nil }
