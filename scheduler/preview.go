package scheduler

import (
	"cmp"
	"context"
	"slices"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

// ChangeKind says how a row a run would write differs from the stored plan.
type ChangeKind string

// The kinds of changes.
const (
	ChangeAdded        ChangeKind = "added"         // a new row
	ChangeRemoved      ChangeKind = "removed"       // a stored row deleted
	ChangeNewlySkipped ChangeKind = "newly_skipped" // pre-scheduled before, skipped now
	ChangeNewlyAllowed ChangeKind = "newly_allowed" // skipped before, pre-scheduled now
	ChangeMoved        ChangeKind = "moved"         // pre-scheduled on another day
	ChangeOther        ChangeKind = "changed"       // another change: a reason, a priority, a skipped row's day, the row reused for another event
)

// RowChange is one row that a run would write differently from the stored
// plan. Old is nil for an added row, New for a removed one.
type RowChange struct {
	ContactID int64
	// State is the contact's state; empty for a contact that no longer
	// resolves to one (invalid, deleted).
	State    string
	Kind     ChangeKind
	Type     emailsched.EmailType
	Old, New *emailsched.Email
}

// PreviewCount counts the changes of one state and email type.
type PreviewCount struct {
	State        string               `json:"state"`
	Type         emailsched.EmailType `json:"type"`
	NewlySkipped int                  `json:"newly_skipped"`
	NewlyAllowed int                  `json:"newly_allowed"`
	Moved        int                  `json:"moved"`
	// MovedDays sums the days the moved emails move (later is positive).
	MovedDays int `json:"moved_days"`
	Changed   int `json:"changed"`
	Added     int `json:"added"`
	Removed   int `json:"removed"`
}

// MeanMoveDays is the mean number of days a moved email moves (later is
// positive); 0 when none moves.
func (c PreviewCount) MeanMoveDays() float64 {
	if c.Moved == 0 {
		return 0
	}
	return float64(c.MovedDays) / float64(c.Moved)
}

func (c *PreviewCount) add(o PreviewCount) {
	c.NewlySkipped += o.NewlySkipped
	c.NewlyAllowed += o.NewlyAllowed
	c.Moved += o.Moved
	c.MovedDays += o.MovedDays
	c.Changed += o.Changed
	c.Added += o.Added
	c.Removed += o.Removed
}

func (c *PreviewCount) count(ch *RowChange) {
	switch ch.Kind {
	case ChangeAdded:
		c.Added++
	case ChangeRemoved:
		c.Removed++
	case ChangeNewlySkipped:
		c.NewlySkipped++
	case ChangeNewlyAllowed:
		c.NewlyAllowed++
	case ChangeMoved:
		c.Moved++
		c.MovedDays += ch.Old.Date.DaysUntil(ch.New.Date)
	default:
		c.Changed++
	}
}

// Preview is what a run would change in the stored plan, computed without
// writing anything.
type Preview struct {
	// Report is the report of the run, written nowhere. Its Rows are what
	// the store would write, rows it would decline included, when the
	// source can tell (store.DryRunner); Replan says whether the settings
	// differ from the stored plan's.
	Report *Report `json:"report"`
	// Counts count the changes by state and email type, in that order;
	// Total sums them.
	Counts []PreviewCount `json:"counts"`
	Total  PreviewCount   `json:"total"`
}

// Preview is PreviewAt for today (see Today).
func (s *Scheduler) Preview(ctx context.Context, src store.ContactSource, each func(*RowChange) error) (*Preview, error) {
	return s.PreviewAt(ctx, s.Today(), src, each)
}

// PreviewAt plans every contact of src as RunAt would with s's settings,
// writing nothing, and returns what the run would change in the stored
// plan: the rows newly skipped, newly allowed, moved (and how far), changed
// otherwise, added and removed, by state and email type. It is the run
// itself, writing to the source's dry-run sink (store.DryRunner) or to
// none: a preview of new rules or a new configuration against a database
// takes the time of a dry run. When each is set it is called with every
// changed row, in the order of the contacts; an error it returns ends the
// preview. The RowChange and its rows are valid only during the call.
func (s *Scheduler) PreviewAt(ctx context.Context, today datecalc.Date, src store.ContactSource, each func(*RowChange) error) (*Preview, error) {
	var sink store.ScheduleSink = store.Discard{}
	if dr, ok := src.(store.DryRunner); ok {
		sink = dr.DryRun()
	}
	w := &previewer{each: each, counts: map[previewKey]*PreviewCount{}}
	rep, err := s.execute(ctx, today, src, sink, w)
	p := &Preview{Report: rep}
	for _, c := range w.counts {
		p.Counts = append(p.Counts, *c)
		p.Total.add(*c)
	}
	slices.SortFunc(p.Counts, func(a, b PreviewCount) int {
		return cmp.Or(cmp.Compare(a.State, b.State), cmp.Compare(a.Type, b.Type))
	})
	return p, err
}

type previewKey struct {
	state string
	typ   emailsched.EmailType
}

// previewer watches a run for the rows it would change.
type previewer struct {
	each   func(*RowChange) error
	counts map[previewKey]*PreviewCount
	ch     RowChange
}

func (*previewer) trace() int64   { return 0 }
func (*previewer) estimate() bool { return false }

func (w *previewer) see(c *emailsched.Contact, o *outcome, d *store.Delta) error {
	if d.Empty() {
		return nil
	}
	var state string
	if !o.deleted && o.invalid == "" {
		state = o.state.State.String()
	}
	w.ch = RowChange{ContactID: c.ID, State: state}
	for i := range d.Insert {
		if err := w.note(ChangeAdded, nil, &d.Insert[i]); err != nil {
			return err
		}
	}
	for i := range d.Delete {
		if err := w.note(ChangeRemoved, &d.Delete[i], nil); err != nil {
			return err
		}
	}
	for i := range d.Update {
		u := &d.Update[i]
		for j := range c.Stored {
			if st := &c.Stored[j]; st.ID == u.ID {
				if err := w.note(changeKind(st, u), st, u); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// changeKind classifies the update of stored row was to now. A row reused
// for another event (next year's anniversary, say) is neither skipped,
// allowed nor moved: it is another email.
func changeKind(was, now *emailsched.Email) ChangeKind {
	pre := emailsched.StatusPreScheduled
	switch {
	case was.Event != now.Event:
		return ChangeOther
	case was.Status == pre && now.Status != pre:
		return ChangeNewlySkipped
	case was.Status != pre && now.Status == pre:
		return ChangeNewlyAllowed
	case was.Status == pre && was.Date != now.Date:
		return ChangeMoved
	}
	return ChangeOther
}

func (w *previewer) note(kind ChangeKind, was, now *emailsched.Email) error {
	ch := &w.ch
	ch.Kind, ch.Old, ch.New = kind, was, now
	ch.Type = cmp.Or(now, was).Type
	k := previewKey{ch.State, ch.Type}
	c := w.counts[k]
	if c == nil {
		c = &PreviewCount{State: k.state, Type: k.typ}
		w.counts[k] = c
	}
	c.count(ch)
	if w.each != nil {
		return w.each(ch)
	}
	return nil
}
