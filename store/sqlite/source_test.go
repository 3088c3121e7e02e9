package sqlite_test

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/sqlite"
	"github.com/emailsched/emailsched/store/sqlite/sqlitefixture"
)

// TestContactsMatchGenerated reads a generated fixture database (production
// index set, every shape of raw value the fixture writes: legacy upper-case
// types, dates with a time, blank as NULL or empty, unreadable dates) and
// compares every contact, field by field, with the generated data it was
// written from.
func TestContactsMatchGenerated(t *testing.T) {
	gen := demodata.GenOptions{Seed: 7, Contacts: 3000, Today: testToday, StoredFraction: 0.5, DirtyFraction: 0.05,
		Campaigns: demodata.DemoCampaigns(testToday), CampaignFraction: 0.2}
	path := createDB(t, sqlitefixture.Options{Gen: gen, Shape: sqlitefixture.Full, ProductionIndexes: true})
	s, _ := openStore(t, path, sqlite.Options{})
	got := readAll(t, s)
	want := demodata.Generate(gen)
	if len(got) != len(want) {
		t.Fatalf("read %d contacts, want %d", len(got), len(want))
	}

	// The fixture inserts rows contact by contact, history before the
	// stored plan, so the database numbers them in that order.
	var id int64
	st := sqlite.ReadStats{Contacts: len(want), Chunks: 1}
	for i := range want {
		w := &want[i]
		rows := append(w.History, w.Stored...)
		w.History, w.Stored = nil, nil
		for _, e := range rows {
			id++
			e.ID = id
			if e.Status.IsPlanned() {
				w.Stored = append(w.Stored, e)
			} else {
				w.History = append(w.History, e)
			}
		}
		st.Rows += len(rows)
		st.FieldIssues += len(w.Issues)
		st.Targets += len(w.Campaigns)
		for _, e := range w.Engagement {
			if e.Kind == emailsched.EngagementClick {
				st.Clicks++
			} else {
				st.HealthAnswers++
			}
		}
	}
	for i := range got {
		g, w := normalise(got[i]), normalise(want[i])
		for j := range g.Issues {
			// The reason is the source's own wording.
			if !strings.HasPrefix(g.Issues[j].Reason, "not a YYYY-MM-DD date") {
				t.Errorf("contact %d: issue %v", g.ID, g.Issues[j])
			}
			g.Issues[j].Reason = ""
		}
		for j := range w.Issues {
			w.Issues[j].Reason = ""
		}
		if diff := gocmp.Diff(w, g, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("contact %d (-generated +read):\n%s", w.ID, diff)
		}
	}
	if diff := gocmp.Diff(st, s.ReadStats()); diff != "" {
		t.Errorf("ReadStats (-want +got):\n%s", diff)
	}
}

// normalise orders what the source may yield in any order: rows by id,
// engagement by kind and time, targets by instance.
func normalise(c emailsched.Contact) emailsched.Contact {
	for _, rows := range [][]emailsched.Email{c.History, c.Stored} {
		slices.SortFunc(rows, func(a, b emailsched.Email) int { return cmp.Compare(a.ID, b.ID) })
	}
	slices.SortFunc(c.Engagement, func(a, b emailsched.Engagement) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), a.At.Compare(b.At), boolCompare(a.MedicalConditions, b.MedicalConditions))
	})
	slices.SortFunc(c.Campaigns, func(a, b emailsched.CampaignTarget) int {
		return cmp.Or(cmp.Compare(a.InstanceID, b.InstanceID), a.Trigger.Compare(b.Trigger))
	})
	return c
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// TestContactsBreakAndResume breaks out of a stream and starts another on
// the same store: the first one's connection and transaction are released.
func TestContactsBreakAndResume(t *testing.T) {
	path := createDB(t, sqlitefixture.Options{Gen: demodata.GenOptions{Seed: 3, Contacts: 200}, Shape: sqlitefixture.Full})
	s, db := openStore(t, path, sqlite.Options{})
	db.SetMaxOpenConns(1)
	for range 3 {
		n := 0
		for _, err := range s.Contacts(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 10 {
				break
			}
		}
	}
	if n := len(readAll(t, s)); n != 200 {
		t.Errorf("read %d contacts, want 200", n)
	}
}
