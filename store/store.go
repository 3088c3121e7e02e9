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
	"fmt"
	"iter"
	"time"

	"github.com/emailsched/emailsched"
)

// Sentinel errors.
var (
	// ErrNotFound: the requested object does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed: the Writer was already committed or aborted.
	ErrClosed = errors.New("store: writer closed")
	// ErrNotPlanned: a Delta tried to write a row that is not a planned
	// row (its status is neither pre-scheduled nor skipped) or to change a
	// row without naming its ID.
	ErrNotPlanned = errors.New("store: row is not a planned row")
	// ErrReadOnly: the store was opened read-only; it can be read (dry
	// runs, explanations, previews) but not written.
	ErrReadOnly = errors.New("store: opened read-only")
)

// ContactSource streams the contacts of an organisation.
type ContactSource interface {
	// Contacts yields every contact in strictly ascending ID order, each
	// with its history, stored plan, engagement and campaign targets. The
	// *Contact may be a buffer that is reused: it is valid only until the
	// next iteration and must not be modified (keep a Clone). A non-nil
	// error ends the stream (the Contact is then nil). Breaking out of the
	// loop releases resources. A source can be iterated again: each call
	// starts a fresh stream (the scheduler reads it twice when it balances
	// load).
	//
	// A source that can tell yields, in the same ID order, the contacts
	// that no longer exist but still have planned rows (pre-scheduled or
	// skipped), with Deleted set and only their ID and Stored rows, so
	// that the run deletes those rows; their history stays. Rows whose
	// contact cannot be known (no id, an id that is not a number) are not
	// yielded. Ids that cannot be ordered (text, duplicates, NULL) are the
	// source's to leave out and count: the scheduler stops a run whose
	// source breaks the order.
	Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error]
}

// ContactLookup is an optional capability of a ContactSource that can read
// one contact on its own, with everything Contacts gives it, without
// reading the others: explanations use it.
type ContactLookup interface {
	// Contact returns contact id, or an error wrapping ErrNotFound when
	// the source has no such contact. The Contact is the caller's.
	Contact(ctx context.Context, id int64) (*emailsched.Contact, error)
}

// LeftOutReporter is an optional capability of a ContactSource that
// cannot yield some of its contacts (ids that are not integers, or
// duplicated): the scheduler counts them as invalid contacts.
type LeftOutReporter interface {
	// LeftOut returns, by reason (LeftOutInvalidID, LeftOutDuplicateID),
	// the contacts the last stream that ended left out.
	LeftOut() map[string]int
}

// Reasons of LeftOutReporter.
const (
	LeftOutInvalidID   = "invalid_id"
	LeftOutDuplicateID = "duplicate_id"
)

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
	// never split across transactions. A row to update or delete that is
	// no longer a planned row of the contact when the sink writes (the
	// sending system took it over, or removed it) is not the run's to
	// touch: the sink leaves the whole contact as it was, counts the row
	// in RowCounts.Taken (see WriteReporter) and goes on. A Delta that
	// writes a status other than pre-scheduled or skipped, or names a row
	// to update or delete without its ID, is refused with ErrNotPlanned
	// (Delta.Check).
	Write(ctx context.Context, d *Delta) error
	// Commit makes every written change durable and visible and records
	// the summary. After Commit the Writer is closed.
	Commit(ctx context.Context, s Summary) error
	// Abort discards what was not committed and records cause. After Abort
	// the Writer is closed. Aborting a closed Writer is a no-op.
	Abort(ctx context.Context, cause error) error
}

// WriteReporter is an optional capability of a Writer: what it actually
// stored, which can differ from the Deltas it was given (a unique index of
// an existing database refusing a row, the sending system taking a row
// over during the run), and how long it kept other writers waiting. The
// scheduler reports these figures when the Writer has them.
type WriteReporter interface {
	WriteReport() WriteReport
}

// WriteReport is what a Writer has committed so far.
type WriteReport struct {
	Rows RowCounts
	// LongestLock is the longest time the Writer held the store's write
	// lock in one stretch: while it lasts, every other writer of the
	// store (the sending system) waits. Zero for stores without such a
	// lock.
	LongestLock time.Duration
	// Locked is the total time the Writer held the write lock.
	Locked time.Duration
}

// RowCounts counts the rows of a run by what happened to them. It is the
// one tally of rows that the scheduler, the sinks and the reports share.
type RowCounts struct {
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Deleted   int `json:"deleted"`
	Unchanged int `json:"unchanged"`
	// Conflicting counts planned rows the store declined: a unique index
	// of an existing database whose key a history row already holds.
	// Never sending such an email is the safe side.
	Conflicting int `json:"conflicting,omitempty"`
	// Taken counts rows that stopped being this scheduler's between the
	// run's read and its write: the sending system took them over (or
	// removed them). The contact keeps its previous plan, except the rows
	// taken, and the next run plans it afresh.
	Taken int `json:"taken,omitempty"`
}

// Add adds o to c.
func (c *RowCounts) Add(o RowCounts) {
	c.Inserted += o.Inserted
	c.Updated += o.Updated
	c.Deleted += o.Deleted
	c.Unchanged += o.Unchanged
	c.Conflicting += o.Conflicting
	c.Taken += o.Taken
}

// Written returns the rows the run wrote: inserted, updated and deleted.
func (c RowCounts) Written() int { return c.Inserted + c.Updated + c.Deleted }

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

// Check refuses what no Writer may write (see Writer.Write): a row to
// update or delete without its ID, or a row written with a status other
// than pre-scheduled or skipped. The error wraps ErrNotPlanned.
func (d *Delta) Check() error {
	for _, rows := range [][]emailsched.Email{d.Update, d.Delete} {
		for i := range rows {
			if rows[i].ID == 0 {
				return fmt.Errorf("contact %d: a row to update or delete has no id: %w", d.ContactID, ErrNotPlanned)
			}
		}
	}
	for _, rows := range [][]emailsched.Email{d.Insert, d.Update} {
		for i := range rows {
			if !rows[i].Status.IsPlanned() {
				return fmt.Errorf("contact %d: writing status %q: %w", d.ContactID, rows[i].Status, ErrNotPlanned)
			}
		}
	}
	return nil
}

// Summary is what a run reports to the sink when it commits.
type Summary struct {
	// Contacts is the number of contacts the run read (deleted contacts
	// not included); ContactsChecksum identifies their IDs.
	Contacts         int
	ContactsChecksum uint64
	// DeletedContacts is the number of contacts that no longer exist and
	// whose planned rows the run deleted (see emailsched.Contact.Deleted).
	DeletedContacts int
	// Rows are the rows of the Deltas the run wrote (Conflicting and Taken
	// are the sink's to count).
	Rows RowCounts
	// PreScheduled and Skipped count the emails of the new plan by status.
	PreScheduled, Skipped int
	// Load is the per-day volume of the committed plan, for writers that
	// keep it (LoadKeeper); nil when the run did not compute it.
	Load *PlanLoad
}

// DryRunner is an optional capability of a ContactSource whose store can
// count, without writing, what a run would write to it: rows it would
// decline included (RowCounts.Conflicting), which a sink that writes
// nothing cannot know. Dry runs and previews use it when the source has
// it. Its sink must work on a store opened read-only.
type DryRunner interface {
	DryRun() ScheduleSink
}

// Discard is a ScheduleSink that writes nothing, for dry runs and
// benchmarks: pass store.Discard{}. It is a type rather than a variable so
// that no package can replace it for the others.
type Discard struct{}

// Begin returns a Writer that writes nothing.
func (Discard) Begin(context.Context, emailsched.RunInfo) (Writer, error) {
	return discardWriter{}, nil
}

type discardWriter struct{}

func (discardWriter) Write(context.Context, *Delta) error   { return nil }
func (discardWriter) Commit(context.Context, Summary) error { return nil }
func (discardWriter) Abort(context.Context, error) error    { return nil }
