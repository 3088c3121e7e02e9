// Package memory is an in-memory store: a ContactSource and ScheduleSink
// over contacts held in memory. It serves tests, examples and services that
// keep their contacts in memory already. A Store behaves like a database:
// what a committed run writes becomes the stored plan the next run reads.
package memory

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

var (
	_ store.ContactSource  = (*Store)(nil)
	_ store.CampaignSource = (*Store)(nil)
	_ store.LoadSource     = (*Store)(nil)
	_ store.IdentitySource = (*Store)(nil)
	_ store.ScheduleSink   = (*Store)(nil)
)

// Store holds contacts, their email rows and the campaign catalogue. It is
// safe for concurrent use; a run's writes become visible at Commit, all at
// once.
type Store struct {
	mu        sync.RWMutex
	contacts  []emailsched.Contact // sorted by ID; History and Stored kept current
	index     map[int64]int
	campaigns emailsched.Campaigns
	nextID    int64
	runs      []Run
}

// Run records a committed or aborted run.
type Run struct {
	Info    emailsched.RunInfo
	Summary store.Summary
	Err     string // the abort cause; "" for a committed run
}

// New returns a Store holding copies of contacts. Each contact's History
// and Stored rows may be given; rows without an ID get one; rows are sorted
// into History or Stored by status. Contacts must have distinct IDs. A
// contact marked Deleted stands for one an application deleted, leaving its
// rows behind (see DeleteContact).
func New(contacts []emailsched.Contact, campaigns emailsched.Campaigns) (*Store, error) {
	s := &Store{index: make(map[int64]int, len(contacts)), campaigns: cloneCampaigns(campaigns)}
	s.contacts = make([]emailsched.Contact, 0, len(contacts))
	for _, c := range contacts {
		for _, e := range append(slices.Clone(c.History), c.Stored...) {
			s.nextID = max(s.nextID, e.ID)
		}
	}
	for _, c := range contacts {
		rows := append(slices.Clone(c.History), c.Stored...)
		c.History, c.Stored = nil, nil
		c.Issues = slices.Clone(c.Issues)
		c.Engagement = slices.Clone(c.Engagement)
		c.Campaigns = slices.Clone(c.Campaigns)
		for _, e := range rows {
			if e.ID == 0 {
				s.nextID++
				e.ID = s.nextID
			}
			e.ContactID = c.ID
			if e.Status.IsPlanned() {
				c.Stored = append(c.Stored, e)
			} else {
				c.History = append(c.History, e)
			}
		}
		s.contacts = append(s.contacts, c)
	}
	slices.SortFunc(s.contacts, func(a, b emailsched.Contact) int { return cmp.Compare(a.ID, b.ID) })
	for i, c := range s.contacts {
		if _, dup := s.index[c.ID]; dup {
			return nil, fmt.Errorf("memory: duplicate contact id %d", c.ID)
		}
		s.index[c.ID] = i
	}
	pack(s.contacts)
	return s, nil
}

// pack moves what the contacts' slices and texts hold into one array per
// kind and one string, in contact order, so that reading the contacts in
// order reads memory in order. Allocated contact by contact, they lie all
// over the heap, and a run spent more time waiting for them than planning.
// Each slice's capacity ends at its length: an append never reaches the
// next contact's part.
func pack(cs []emailsched.Contact) {
	packRows(cs, func(c *emailsched.Contact) *[]emailsched.Email { return &c.History })
	packRows(cs, func(c *emailsched.Contact) *[]emailsched.Email { return &c.Stored })
	packRows(cs, func(c *emailsched.Contact) *[]emailsched.Engagement { return &c.Engagement })
	packRows(cs, func(c *emailsched.Contact) *[]emailsched.CampaignTarget { return &c.Campaigns })
	packRows(cs, func(c *emailsched.Contact) *[]emailsched.FieldIssue { return &c.Issues })
	n := 0
	for i := range cs {
		c := &cs[i]
		n += len(c.Email) + len(c.ZIP) + len(c.State) + len(c.Carrier)
	}
	var b strings.Builder
	b.Grow(n)
	for i := range cs {
		c := &cs[i]
		b.WriteString(c.Email)
		b.WriteString(c.ZIP)
		b.WriteString(c.State)
		b.WriteString(c.Carrier)
	}
	text := b.String()
	cut := func(s string) string {
		s, text = text[:len(s)], text[len(s):]
		return s
	}
	for i := range cs {
		c := &cs[i]
		c.Email, c.ZIP, c.State, c.Carrier = cut(c.Email), cut(c.ZIP), cut(c.State), cut(c.Carrier)
	}
}

// packRows moves the non-empty slices that field selects into one array.
func packRows[T any](cs []emailsched.Contact, field func(*emailsched.Contact) *[]T) {
	n := 0
	for i := range cs {
		n += len(*field(&cs[i]))
	}
	all := make([]T, 0, n)
	for i := range cs {
		f := field(&cs[i])
		if len(*f) == 0 {
			continue
		}
		k := len(all)
		all = append(all, *f...)
		*f = all[k:len(all):len(all)]
	}
}

// Contacts implements store.ContactSource. It yields a copy of each contact
// (its slices are shared with the store and must not be modified), so a
// concurrent commit does not change a contact being planned.
func (s *Store) Contacts(ctx context.Context) iter.Seq2[*emailsched.Contact, error] {
	return func(yield func(*emailsched.Contact, error) bool) {
		// Contacts are copied a block at a time: one lock per block, not
		// per contact.
		var buf [64]emailsched.Contact
		for i := 0; ; {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					yield(nil, err)
					return
				}
			}
			s.mu.RLock()
			n := copy(buf[:], s.contacts[min(i, len(s.contacts)):])
			s.mu.RUnlock()
			if n == 0 {
				return
			}
			for k := range n {
				c := &buf[k]
				if c.Deleted {
					// Only the plan rows of a deleted contact are left for
					// a run to see, and only while it has some.
					if len(c.Stored) == 0 {
						continue
					}
					*c = emailsched.Contact{ID: c.ID, Stored: c.Stored, Deleted: true}
				}
				if !yield(c, nil) {
					return
				}
			}
			i += n
		}
	}
}

// DeleteContact removes a contact as an application would, leaving its
// email rows behind: its history stays, and its planned rows are what the
// next run removes (Contacts yields it with Deleted set while it has any).
// It returns store.ErrNotFound for an unknown or already deleted contact.
func (s *Store) DeleteContact(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index[id]
	if !ok || s.contacts[i].Deleted {
		return fmt.Errorf("memory: contact %d: %w", id, store.ErrNotFound)
	}
	s.contacts[i].Deleted = true
	return nil
}

// Campaigns implements store.CampaignSource.
func (s *Store) Campaigns(context.Context) (emailsched.Campaigns, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return cloneCampaigns(s.campaigns), nil
}

// cloneCampaigns copies a catalogue so that the store and its callers never
// share slices.
func cloneCampaigns(c emailsched.Campaigns) emailsched.Campaigns {
	out := emailsched.Campaigns{Types: slices.Clone(c.Types), Instances: slices.Clone(c.Instances)}
	for i := range out.Instances {
		in := &out.Instances[i]
		in.TargetStates, in.TargetCarriers = slices.Clone(in.TargetStates), slices.Clone(in.TargetCarriers)
	}
	return out
}

// Rows returns a copy of every row of a contact (history and plan), sorted
// by ID, or store.ErrNotFound.
func (s *Store) Rows(contactID int64) ([]emailsched.Email, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.index[contactID]
	if !ok {
		return nil, fmt.Errorf("memory: contact %d: %w", contactID, store.ErrNotFound)
	}
	c := &s.contacts[i]
	rows := append(slices.Clone(c.History), c.Stored...)
	slices.SortFunc(rows, func(a, b emailsched.Email) int { return cmp.Compare(a.ID, b.ID) })
	return rows, nil
}

// Plan returns a copy of every stored planned row (pre-scheduled and
// skipped) of every contact, in contact then row ID order.
func (s *Store) Plan() []emailsched.Email {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []emailsched.Email
	for i := range s.contacts {
		rows := slices.Clone(s.contacts[i].Stored)
		slices.SortFunc(rows, func(a, b emailsched.Email) int { return cmp.Compare(a.ID, b.ID) })
		out = append(out, rows...)
	}
	return out
}

var _ store.VolumeSource = (*Store)(nil)

// PlannedVolume implements store.VolumeSource.
func (s *Store) PlannedVolume(ctx context.Context, from, to datecalc.Date) ([]store.TypeVolume, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := map[store.TypeVolume]int{}
	for i := range s.contacts {
		for _, e := range s.contacts[i].Stored {
			if e.Status == emailsched.StatusPreScheduled && !e.Date.Before(from) && !e.Date.After(to) {
				n[store.TypeVolume{Date: e.Date, Type: e.Type}]++
			}
		}
	}
	out := make([]store.TypeVolume, 0, len(n))
	for k, v := range n {
		k.Emails = v
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b store.TypeVolume) int { return cmp.Or(a.Date.Compare(b.Date), cmp.Compare(a.Type, b.Type)) })
	return out, nil
}

// Runs returns the runs recorded so far, oldest first.
func (s *Store) Runs() []Run {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.runs)
}

// Begin implements store.ScheduleSink. Writes are buffered and applied all
// at once by Commit.
func (s *Store) Begin(_ context.Context, run emailsched.RunInfo) (store.Writer, error) {
	return &writer{s: s, run: run}, nil
}

type writer struct {
	s      *Store
	run    emailsched.RunInfo
	deltas []store.Delta
	rows   store.RowCounts // what Commit applied
	closed bool
}

// WriteReport implements store.WriteReporter: what Commit applied (a
// memory store has no write lock that others wait for).
func (w *writer) WriteReport() store.WriteReport { return store.WriteReport{Rows: w.rows} }

// KeepsLoad implements store.LoadKeeper: StoredLoad gives the load back.
func (w *writer) KeepsLoad() bool { return true }

func (w *writer) Write(ctx context.Context, d *store.Delta) error {
	if w.closed {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validate(d); err != nil {
		return err
	}
	cp := store.Delta{ContactID: d.ContactID, Unchanged: d.Unchanged,
		Insert: slices.Clone(d.Insert), Update: slices.Clone(d.Update), Delete: slices.Clone(d.Delete)}
	w.deltas = append(w.deltas, cp)
	return nil
}

// validate refuses what no run may write: a status of the sending system,
// a row to change without its ID, or named twice.
func validate(d *store.Delta) error {
	if err := d.Check(); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	seen := map[int64]bool{}
	for _, rows := range [][]emailsched.Email{d.Update, d.Delete} {
		for _, e := range rows {
			if seen[e.ID] {
				return fmt.Errorf("memory: contact %d: row %d is changed twice in one delta: %w", d.ContactID, e.ID, store.ErrNotPlanned)
			}
			seen[e.ID] = true
		}
	}
	return nil
}

func (w *writer) Commit(ctx context.Context, sum store.Summary) error {
	if w.closed {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w.closed = true
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	// Build every contact's new stored plan aside and swap them in only when
	// all deltas are valid, so that a refused commit changes nothing.
	plans := map[int]*[]emailsched.Email{}
	nextID := s.nextID
	var rows store.RowCounts
	for i := range w.deltas {
		if err := s.stage(&w.deltas[i], w.run.ID, plans, &nextID, &rows); err != nil {
			s.runs = append(s.runs, Run{Info: w.run, Err: err.Error()})
			return err
		}
	}
	for i, rows := range plans {
		s.contacts[i].Stored = *rows
	}
	s.nextID = nextID
	// Contacts without changes never reach Write: the summary knows their
	// unchanged rows.
	rows.Unchanged = max(rows.Unchanged, sum.Rows.Unchanged)
	w.rows = rows
	s.runs = append(s.runs, Run{Info: w.run, Summary: sum})
	return nil
}

// StoredLoad implements store.LoadSource: the load of the last committed
// run. Commits are all or nothing, so a later aborted run leaves that plan,
// and its load, in place.
func (s *Store) StoredLoad(context.Context) (store.PlanLoad, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := len(s.runs) - 1; i >= 0; i-- {
		r := s.runs[i]
		if r.Err != "" {
			continue
		}
		if r.Summary.Load == nil {
			return store.PlanLoad{}, false, nil
		}
		l := *r.Summary.Load
		l.Entries = slices.Clone(l.Entries)
		return l, true, nil
	}
	return store.PlanLoad{}, false, nil
}

// StoredIdentities implements store.IdentitySource: the identity of the last
// committed run, the only one whose rows the stored plan holds (commits are
// all or nothing); none before the first.
func (s *Store) StoredIdentities(context.Context) ([]store.PlanIdentity, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := len(s.runs) - 1; i >= 0; i-- {
		if r := s.runs[i]; r.Err == "" {
			return []store.PlanIdentity{{Rules: r.Info.RulesChecksum, Config: r.Info.ConfigChecksum}}, nil
		}
	}
	return nil, nil
}

func (w *writer) Abort(_ context.Context, cause error) error {
	if w.closed {
		return nil
	}
	w.closed = true
	msg := "aborted"
	if cause != nil {
		msg = cause.Error()
	}
	w.s.mu.Lock()
	w.s.runs = append(w.s.runs, Run{Info: w.run, Err: msg})
	w.s.mu.Unlock()
	return nil
}

// stage applies a delta to the contact's staged plan (a copy). A row to
// update or delete that is not (any longer) one of the contact's planned
// rows was taken by the sending system: the contact's whole delta is left
// out and its rows counted in rows.Taken.
func (s *Store) stage(d *store.Delta, runID string, plans map[int]*[]emailsched.Email, nextID *int64, rows *store.RowCounts) error {
	ci, ok := s.index[d.ContactID]
	if !ok {
		return fmt.Errorf("memory: contact %d: %w", d.ContactID, store.ErrNotFound)
	}
	staged, ok := plans[ci]
	if !ok {
		cp := slices.Clone(s.contacts[ci].Stored)
		staged = &cp
	}
	at := func(id int64) int {
		return slices.IndexFunc(*staged, func(x emailsched.Email) bool { return x.ID == id })
	}
	taken := 0
	for _, rs := range [][]emailsched.Email{d.Delete, d.Update} {
		for _, e := range rs {
			if at(e.ID) < 0 {
				taken++
			}
		}
	}
	if taken > 0 {
		rows.Taken += taken
		return nil
	}
	plans[ci] = staged
	for _, e := range d.Delete {
		j := at(e.ID)
		*staged = slices.Delete(*staged, j, j+1)
	}
	for _, e := range d.Update {
		e.ContactID, e.RunID = d.ContactID, runID
		(*staged)[at(e.ID)] = e
	}
	for _, e := range d.Insert {
		*nextID++
		e.ID, e.ContactID, e.RunID = *nextID, d.ContactID, runID
		*staged = append(*staged, e)
	}
	rows.Deleted += len(d.Delete)
	rows.Updated += len(d.Update)
	rows.Inserted += len(d.Insert)
	rows.Unchanged += d.Unchanged
	return nil
}

// Send plays the sending system: every pre-scheduled row dated on or before
// day gets status (typically emailsched.StatusSent), with SentAt set to
// sentAt, and moves from the stored plan to the history. It returns the
// number of rows sent. Tests and demos use it to run several days in a row.
func (s *Store) Send(day datecalc.Date, status emailsched.Status, sentAt time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for i := range s.contacts {
		c := &s.contacts[i]
		kept := c.Stored[:0:0]
		for _, e := range c.Stored {
			if e.Status == emailsched.StatusPreScheduled && !e.Date.After(day) {
				e.Status, e.SentAt = status, sentAt
				c.History = append(slices.Clip(c.History), e)
				n++
				continue
			}
			kept = append(kept, e)
		}
		c.Stored = kept
	}
	return n
}
