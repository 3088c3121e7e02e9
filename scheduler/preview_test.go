package scheduler_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/memory"
)

// TestPreviewIsWhatARunWrites previews new settings against a stored plan,
// then runs them: the preview's counts, by state, type and kind, are the
// changes the run makes, row by row.
func TestPreviewIsWhatARunWrites(t *testing.T) {
	ctx := context.Background()
	today := demodata.DefaultToday
	contacts := demodata.Generate(demodata.GenOptions{Seed: 11, Contacts: 3000, Today: today})
	m, err := memory.New(contacts, demodata.DemoCampaigns(today))
	if err != nil {
		t.Fatal(err)
	}
	old, _ := scheduler.New(scheduler.Config{})
	if _, err := old.RunAt(ctx, today, m, m); err != nil {
		t.Fatal(err)
	}
	before := planByID(m)
	nw, err := scheduler.New(scheduler.Config{BirthdayDaysBefore: scheduler.Int(21), DailyCapPercent: scheduler.Float(5)})
	if err != nil {
		t.Fatal(err)
	}
	var changes []scheduler.RowChange
	p, err := nw.PreviewAt(ctx, today.AddDays(1), m, func(ch *scheduler.RowChange) error {
		c := *ch
		if c.Old != nil {
			o := *c.Old
			c.Old = &o
		}
		if c.New != nil {
			n := *c.New
			c.New = &n
		}
		changes = append(changes, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Report.Replan.Config || p.Total.Moved == 0 || p.Total.Added == 0 {
		t.Fatalf("preview: replan %+v, total %+v", p.Report.Replan, p.Total)
	}
	if diff := cmp.Diff(before, planByID(m)); diff != "" {
		t.Fatalf("the preview changed the store:\n%s", diff)
	}
	rep, err := nw.RunAt(ctx, today.AddDays(1), m, m)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep.Rows, p.Report.Rows); diff != "" {
		t.Errorf("rows (-run +preview):\n%s", diff)
	}
	after := planByID(m)

	// Every change the preview announced happened, and nothing else.
	var total scheduler.PreviewCount
	removed, updated := 0, 0
	for _, ch := range changes {
		switch ch.Kind {
		case scheduler.ChangeAdded:
			total.Added++
		case scheduler.ChangeRemoved:
			removed++
			if _, ok := after[ch.Old.ID]; ok {
				t.Errorf("row %d announced removed is still there", ch.Old.ID)
			}
		default:
			updated++
			got, ok := after[ch.Old.ID]
			if !ok || !got.SameContent(ch.New) {
				t.Errorf("row %d: announced %s to %+v, the run wrote %+v", ch.Old.ID, ch.Kind, ch.New, got)
			}
		}
	}
	if total.Added != rep.Rows.Inserted || removed != rep.Rows.Deleted || updated != rep.Rows.Updated ||
		p.Total.Added != total.Added || p.Total.Removed != removed ||
		p.Total.Moved+p.Total.NewlySkipped+p.Total.NewlyAllowed+p.Total.Changed != updated {
		t.Errorf("announced %d added, %d removed, %d updated (total %+v); the run wrote %+v", total.Added, removed, updated, p.Total, rep.Rows)
	}
	var sum scheduler.PreviewCount
	for _, c := range p.Counts {
		sum.NewlySkipped += c.NewlySkipped
		sum.Moved += c.Moved
		if c.State == "" && c.Type == "" {
			t.Errorf("a count without state or type: %+v", c)
		}
	}
	if sum.Moved != p.Total.Moved || sum.NewlySkipped != p.Total.NewlySkipped {
		t.Errorf("counts do not sum to the total %+v", p.Total)
	}
	// A preview of the settings that made the plan changes nothing.
	again, err := nw.PreviewAt(ctx, today.AddDays(1), m, nil)
	if err != nil || again.Report.Replan.Changed() || again.Total != (scheduler.PreviewCount{}) || len(again.Counts) != 0 {
		t.Errorf("preview of the stored settings: %+v, %v", again.Total, err)
	}
}

func planByID(m *memory.Store) map[int64]emailsched.Email {
	out := map[int64]emailsched.Email{}
	for _, e := range m.Plan() {
		if e.Status.IsPlanned() {
			out[e.ID] = e
		}
	}
	return out
}

// dryMemory is a memory store with a dry-run sink that records its runs.
type dryMemory struct {
	*memory.Store
	begun *int
}

func (d dryMemory) DryRun() store.ScheduleSink { return dryCounting(d) }

type dryCounting dryMemory

func (d dryCounting) Begin(ctx context.Context, run emailsched.RunInfo) (store.Writer, error) {
	*d.begun++
	return store.Discard{}.Begin(ctx, run)
}

// TestPreviewStops: an error of the callback ends the preview, whatever the
// kind of change; the preview writes through the source's dry-run sink.
func TestPreviewStops(t *testing.T) {
	ctx := context.Background()
	today := demodata.DefaultToday
	m, _ := memory.New(demodata.Generate(demodata.GenOptions{Seed: 11, Contacts: 400, Today: today, StoredFraction: 0.5}),
		demodata.DemoCampaigns(today))
	s, _ := scheduler.New(scheduler.Config{BirthdayDaysBefore: scheduler.Int(3), Rules: rules.Default()})
	boom := errors.New("boom")
	begun := 0
	src := dryMemory{m, &begun}
	for _, kind := range []scheduler.ChangeKind{scheduler.ChangeAdded, scheduler.ChangeRemoved, scheduler.ChangeMoved} {
		p, err := s.PreviewAt(ctx, today, src, func(ch *scheduler.RowChange) error {
			if ch.Kind == kind {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) || p == nil || p.Report == nil {
			t.Errorf("preview whose callback fails on %s: %v", kind, err)
		}
	}
	if begun != 3 || len(m.Runs()) != 0 {
		t.Errorf("%d dry runs begun, runs recorded %+v", begun, m.Runs())
	}
	p, err := s.Preview(ctx, m, nil)
	if err != nil || p.Report.Today != s.Today() {
		t.Errorf("Preview: %v, today %s", err, p.Report.Today)
	}
}

func TestMeanMoveDays(t *testing.T) {
	if got := (scheduler.PreviewCount{}).MeanMoveDays(); got != 0 {
		t.Errorf("no move: %v", got)
	}
	if got := (scheduler.PreviewCount{Moved: 4, MovedDays: -6}).MeanMoveDays(); got != -1.5 {
		t.Errorf("4 moves of -6 days: %v", got)
	}
}
