package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

var (
	today = datecalc.MustNew(2025, time.March, 3)
	opts  = cmp.Options{cmp.Comparer(func(a, b datecalc.Date) bool { return a == b }), cmpopts.EquateEmpty()}
)

// em is a row: id, type, days from today, event days from today (0: none),
// campaign instance.
func em(id int64, typ emailsched.EmailType, days, event int, inst int64) emailsched.Email {
	e := emailsched.Email{ID: id, ContactID: 1, Type: typ, Date: today.AddDays(days), Status: emailsched.StatusPreScheduled,
		Priority: 10, CampaignInstanceID: inst}
	if event != 0 {
		e.Event = today.AddDays(event)
	}
	return e
}

func with(e emailsched.Email, f func(*emailsched.Email)) emailsched.Email { f(&e); return e }

func TestDiff(t *testing.T) {
	bday := em(1, emailsched.TypeBirthday, 10, 24, 0)
	aep := em(2, emailsched.TypeAEP, 30, 30, 0)
	promo4 := em(3, "campaign_promotion", 5, 12, 4)
	promo5 := em(4, "campaign_promotion", 6, 13, 5)
	sent := with(em(9, emailsched.TypeBirthday, -300, -286, 0), func(e *emailsched.Email) { e.Status = emailsched.StatusSent })
	noID := func(e emailsched.Email) emailsched.Email { e.ID = 0; return e }
	moved := func(e emailsched.Email, days int) emailsched.Email { e.Date = e.Date.AddDays(days); return e }

	for _, tc := range []struct {
		name            string
		stored, planned []emailsched.Email
		want            store.Delta
	}{
		{name: "Empty"},
		{name: "KeptIDUnchanged", stored: []emailsched.Email{bday, aep}, planned: []emailsched.Email{aep, bday},
			want: store.Delta{Unchanged: 2}},
		{name: "KeptIDIgnoresRunIDAndSentAt", stored: []emailsched.Email{with(bday, func(e *emailsched.Email) { e.RunID = "old" })},
			planned: []emailsched.Email{with(bday, func(e *emailsched.Email) { e.RunID = "new"; e.SentAt = time.Unix(1, 0) })},
			want:    store.Delta{Unchanged: 1}},
		{name: "KeptIDChanged", stored: []emailsched.Email{bday}, planned: []emailsched.Email{moved(bday, 2)},
			want: store.Delta{Update: []emailsched.Email{moved(bday, 2)}}},
		{name: "KeptIDOtherType", // the planner kept the row: rewritten in place even with another type
			stored: []emailsched.Email{bday}, planned: []emailsched.Email{with(aep, func(e *emailsched.Email) { e.ID = 1 })},
			want: store.Delta{Update: []emailsched.Email{with(aep, func(e *emailsched.Email) { e.ID = 1 })}}},
		{name: "SameTypeEventInstanceUnchanged", stored: []emailsched.Email{bday}, planned: []emailsched.Email{noID(bday)},
			want: store.Delta{Unchanged: 1}},
		{name: "SameTypeEventInstanceChanged", stored: []emailsched.Email{bday}, planned: []emailsched.Email{noID(moved(bday, -3))},
			want: store.Delta{Update: []emailsched.Email{moved(bday, -3)}}},
		{name: "InstanceDistinguishes", stored: []emailsched.Email{promo4, promo5},
			planned: []emailsched.Email{noID(moved(promo5, 1)), noID(promo4)},
			want:    store.Delta{Update: []emailsched.Email{moved(promo5, 1)}, Unchanged: 1}},
		{name: "EventBeforeFallback", // the exact match wins although a same-type row comes first
			stored:  []emailsched.Email{promo4, with(promo5, func(e *emailsched.Email) { e.CampaignInstanceID = 4; e.Event = today.AddDays(40) })},
			planned: []emailsched.Email{noID(with(promo5, func(e *emailsched.Email) { e.CampaignInstanceID = 4; e.Event = today.AddDays(40) }))},
			want:    store.Delta{Delete: []emailsched.Email{promo4}, Unchanged: 1}},
		{name: "SameTypeFallback", // next year's birthday email rewrites last year's row
			stored:  []emailsched.Email{bday},
			planned: []emailsched.Email{noID(with(bday, func(e *emailsched.Email) { e.Event = e.Event.AddDays(365); e.Date = e.Date.AddDays(365) }))},
			want:    store.Delta{Update: []emailsched.Email{with(bday, func(e *emailsched.Email) { e.Event = e.Event.AddDays(365); e.Date = e.Date.AddDays(365) })}}},
		{name: "Insert", planned: []emailsched.Email{noID(bday), with(aep, func(e *emailsched.Email) { e.ID = 77 })},
			want: store.Delta{Insert: []emailsched.Email{noID(bday), noID(aep)}}},
		{name: "Delete", stored: []emailsched.Email{bday, aep, promo4}, planned: []emailsched.Email{aep},
			want: store.Delta{Delete: []emailsched.Email{bday, promo4}, Unchanged: 1}},
		{name: "Mixed", stored: []emailsched.Email{bday, aep, promo4},
			planned: []emailsched.Email{bday, noID(moved(aep, 1)), noID(promo5)},
			want: store.Delta{Update: []emailsched.Email{moved(aep, 1), with(promo5, func(e *emailsched.Email) { e.ID = promo4.ID })},
				Unchanged: 1}},
		{name: "HistoryIgnored", stored: []emailsched.Email{sent},
			planned: []emailsched.Email{noID(bday), with(bday, func(e *emailsched.Email) { e.ID = sent.ID; e.Date = today.AddDays(11) })},
			want:    store.Delta{Insert: []emailsched.Email{noID(bday), noID(with(bday, func(e *emailsched.Email) { e.Date = today.AddDays(11) }))}}},
		{name: "HistoryNeverDeleted", stored: []emailsched.Email{sent, bday}, want: store.Delta{Delete: []emailsched.Email{bday}}},
		{name: "SkippedIsPlanned", stored: []emailsched.Email{with(bday, func(e *emailsched.Email) {
			e.Status, e.SkipReason = emailsched.StatusSkipped, "exclusion_window:CA:birthday"
		})}, planned: []emailsched.Email{noID(bday)}, want: store.Delta{Update: []emailsched.Email{bday}}},
		{name: "DuplicateStoredDeleted", stored: []emailsched.Email{bday, with(bday, func(e *emailsched.Email) { e.ID = 5 })},
			planned: []emailsched.Email{noID(bday)},
			want:    store.Delta{Delete: []emailsched.Email{with(bday, func(e *emailsched.Email) { e.ID = 5 })}, Unchanged: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d store.Delta
			d.Reset(1)
			tc.want.ContactID = 1
			store.Diff(tc.stored, tc.planned, &d)
			if diff := cmp.Diff(tc.want, d, opts); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
			if d.Empty() != (len(tc.want.Insert)+len(tc.want.Update)+len(tc.want.Delete) == 0) {
				t.Errorf("Empty() = %v", d.Empty())
			}
		})
	}
}

// TestDiffKeptIDNotTaken: a planned email that carries a stored row's ID
// (the planner kept that row) must get that row, even when an earlier
// planned email without an ID has the same type, event and instance (two
// follow-ups of one kind, for instance). Otherwise the kept row is rewritten
// with another email's content and the other row too: two updates instead
// of one, and the kept row loses its run id and timestamps (the contract: "an
// unchanged row is not written at all").
func TestDiffKeptIDNotTaken(t *testing.T) {
	f1 := with(em(1, emailsched.TypeFollowUpCold, 3, 0, 0), func(e *emailsched.Email) { e.Metadata = `{"initial":"birthday"}` })
	f2 := with(em(2, emailsched.TypeFollowUpCold, 4, 0, 0), func(e *emailsched.Email) { e.Metadata = `{"initial":"aep"}` })
	newF := with(em(0, emailsched.TypeFollowUpCold, 5, 0, 0), func(e *emailsched.Email) { e.Metadata = `{"initial":"promo"}` })
	var d store.Delta
	d.Reset(1)
	store.Diff([]emailsched.Email{f1, f2}, []emailsched.Email{newF, f1}, &d)
	want := store.Delta{ContactID: 1, Update: []emailsched.Email{with(newF, func(e *emailsched.Email) { e.ID = 2 })}, Unchanged: 1}
	if diff := cmp.Diff(want, d, opts); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
}

func TestDiffManyRows(t *testing.T) {
	// More than 64 stored and planned rows (beyond the stack buffers).
	var stored, planned []emailsched.Email
	for i := range 100 {
		e := em(int64(i+1), emailsched.TypePostWindow, i, i-61, 0)
		stored = append(stored, e)
		if i%10 != 0 {
			p := e
			p.ID = 0
			if i%10 == 1 {
				p.Date = p.Date.AddDays(1)
			}
			planned = append(planned, p)
		}
	}
	for i := range 70 {
		planned = append(planned, em(0, emailsched.TypeAEP, i, i, 0))
	}
	var d store.Delta
	d.Reset(1)
	store.Diff(stored, planned, &d)
	if len(d.Insert) != 70 || len(d.Update) != 10 || len(d.Delete) != 10 || d.Unchanged != 80 {
		t.Errorf("Diff: %d inserts, %d updates, %d deletes, %d unchanged; want 70, 10, 10, 80",
			len(d.Insert), len(d.Update), len(d.Delete), d.Unchanged)
	}
}

func TestDeltaReset(t *testing.T) {
	d := store.Delta{ContactID: 1, Insert: make([]emailsched.Email, 2), Update: make([]emailsched.Email, 1),
		Delete: make([]emailsched.Email, 3), Unchanged: 4}
	d.Reset(7)
	if d.ContactID != 7 || !d.Empty() || d.Unchanged != 0 || cap(d.Insert) != 2 || cap(d.Delete) != 3 {
		t.Errorf("Reset: %+v", d)
	}
}

func TestDiscard(t *testing.T) {
	ctx := context.Background()
	w, err := store.Discard{}.Begin(ctx, emailsched.RunInfo{ID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(w.Write(ctx, &store.Delta{}), w.Commit(ctx, store.Summary{}), w.Abort(ctx, nil)); err != nil {
		t.Errorf("Discard: %v", err)
	}
}

// diffReference is Diff as first written: three rounds of first-fit
// search, with nothing taken as a shortcut. Diff must agree with it.
func diffReference(stored, planned []emailsched.Email, d *store.Delta) {
	used := make([]bool, len(stored))
	for i := range stored {
		used[i] = !stored[i].Status.IsPlanned()
	}
	done := make([]bool, len(planned))
	find := func(ok func(*emailsched.Email) bool) int {
		for j := range stored {
			if !used[j] && ok(&stored[j]) {
				return j
			}
		}
		return -1
	}
	for round := 0; round < 3; round++ {
		for i := range planned {
			if done[i] {
				continue
			}
			p := &planned[i]
			j := -1
			switch round {
			case 0:
				if p.ID != 0 {
					j = find(func(s *emailsched.Email) bool { return s.ID == p.ID })
				}
			case 1:
				j = find(func(s *emailsched.Email) bool {
					return s.Type == p.Type && s.Event == p.Event && s.CampaignInstanceID == p.CampaignInstanceID
				})
			default:
				j = find(func(s *emailsched.Email) bool { return s.Type == p.Type })
			}
			if j < 0 {
				continue
			}
			if s := &stored[j]; s.SameContent(p) {
				d.Unchanged++
			} else {
				e := *p
				e.ID = s.ID
				d.Update = append(d.Update, e)
			}
			used[j], done[i] = true, true
		}
	}
	for i := range planned {
		if !done[i] {
			e := planned[i]
			e.ID = 0
			d.Insert = append(d.Insert, e)
		}
	}
	for j := range stored {
		if !used[j] {
			d.Delete = append(d.Delete, stored[j])
		}
	}
}

// TestDiffReference compares Diff with diffReference on random plans drawn
// from a few types, days, events, instances, IDs and statuses, so that every
// round of matching and every collision between them occurs.
func TestDiffReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 13))
	types := []emailsched.EmailType{emailsched.TypeBirthday, emailsched.TypeAEP, emailsched.TypeFollowUpCold, "campaign_promotion"}
	statuses := []emailsched.Status{emailsched.StatusPreScheduled, emailsched.StatusPreScheduled, emailsched.StatusSkipped, emailsched.StatusSent}
	row := func(id int64) emailsched.Email {
		e := em(id, types[rng.IntN(len(types))], rng.IntN(3), rng.IntN(3), int64(rng.IntN(2)))
		e.Status = statuses[rng.IntN(len(statuses))]
		return e
	}
	for n := range 50_000 {
		var stored, planned []emailsched.Email
		for k := range rng.IntN(5) {
			stored = append(stored, row(int64(k+1)))
		}
		for range rng.IntN(5) {
			e := row(int64(rng.IntN(6))) // IDs 0 (new) to 5, some of them stored
			e.Status = statuses[rng.IntN(2)+1]
			planned = append(planned, e)
		}
		var got, want store.Delta
		got.Reset(1)
		want.Reset(1)
		store.Diff(stored, planned, &got)
		diffReference(stored, planned, &want)
		if sameDelta(&got, &want) {
			continue
		}
		if diff := cmp.Diff(want, got, opts); diff != "" {
			t.Fatalf("case %d: stored %v, planned %v: Diff (-reference +got):\n%s", n, stored, planned, diff)
		}
	}
}

// sameDelta is cmp.Equal for deltas, fast enough for many cases.
func sameDelta(a, b *store.Delta) bool {
	same := func(x, y []emailsched.Email) bool {
		return slices.EqualFunc(x, y, func(e, f emailsched.Email) bool { return e.ID == f.ID && e.SameContent(&f) })
	}
	return a.ContactID == b.ContactID && a.Unchanged == b.Unchanged &&
		same(a.Insert, b.Insert) && same(a.Update, b.Update) && same(a.Delete, b.Delete)
}

// BenchmarkDiff measures the two cases a run meets most: a first run, whose
// contacts have no stored plan, and a nightly run on an unchanged
// organisation, whose planned emails carry their stored rows' IDs.
func BenchmarkDiff(b *testing.B) {
	stored := []emailsched.Email{
		em(11, emailsched.TypeBirthday, 10, 24, 0), em(12, emailsched.TypeEffectiveDate, 40, 70, 0),
		em(13, emailsched.TypeAEP, 196, 196, 0), em(14, emailsched.TypePostWindow, 80, 24, 0),
	}
	for _, bc := range []struct {
		name   string
		stored []emailsched.Email
	}{{"FirstRun", nil}, {"Unchanged", stored}} {
		b.Run(bc.name, func(b *testing.B) {
			planned := slices.Clone(stored)
			var d store.Delta
			for b.Loop() {
				d.Reset(1)
				store.Diff(bc.stored, planned, &d)
			}
		})
	}
}
