package scheduler

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/memory"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestWriteSummaryGolden(t *testing.T) {
	m, _ := memory.New(demoContacts(), emailsched.Campaigns{})
	rep, err := newTestScheduler(t, Config{}).Run(context.Background(), m, m)
	if err != nil {
		t.Fatal(err)
	}
	rep.Timings = Timings{Total: 1500000, ReadPlan: 1000000, Write: 400000, Commit: 100000}
	var b strings.Builder
	if err := rep.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "summary.golden", b.String())
	if err := rep.WriteSummary(failingWriter{}); err == nil {
		t.Error("write error not returned")
	}
	if shortSum("abc") != "abc" {
		t.Error("short checksum changed")
	}
}

// TestWriteSummaryEveryLineGolden pins the wording of every line a summary
// can have, with a report that has them all.
func TestWriteSummaryEveryLineGolden(t *testing.T) {
	day := datecalc.MustNew(2025, 3, 3)
	rep := &Report{
		RunID: "run-1", Today: day, RulesName: "ours.rules", RulesChecksum: "sha256:0123456789abcdef0123",
		Replan:   Replan{Rules: true},
		Contacts: 11, Valid: 4, OptedOut: 1, Invalid: 6,
		InvalidByReason: map[InvalidReason]int{InvalidNoEmail: 1, InvalidEmail: 1, InvalidNoState: 1, InvalidID: 1, InvalidDuplicateID: 1, "of_another_version": 1},
		FieldIssues:     map[string]int{"birth_date": 2, "birth_date: in the future": 1},
		StateFromZIP:    3, StateFromField: 1, StateMismatches: 1,
		Emails: []TypeCount{{Type: emailsched.TypeFollowUpHQNoYes, PreScheduled: 1}, {Type: "campaign_rate_increase", PreScheduled: 2, Skipped: 1}},
		Stages: StageCounts{Campaign: 3, FollowUp: 1, CampaignConflict: 1},
		SkipReasons: map[emailsched.SkipReason]int{
			emailsched.ReasonCampaignConflict: 1, emailsched.ReasonFrequencyLimit: 1,
			emailsched.RuleErrorReason(emailsched.MustState("FL")): 1, "reason_of_another_version": 1,
		},
		LoadFrom: LoadStored, LoadPlanDate: day.AddDays(-1), LoadDiffered: true,
		Settled:         &Report{RunID: "run-1-settle1", Rows: store.RowCounts{Updated: 3}},
		DeletedContacts: 2,
		Rows:            store.RowCounts{Inserted: 1, Updated: 2, Deleted: 3, Unchanged: 4, Conflicting: 5, Taken: 6},
		Timings:         Timings{Count: 1e6, ReadPlan: 2e6, Write: 3e6, Commit: 4e6, Total: 10e6, LongestLock: 5e6, Locked: 7e6},
	}
	var b strings.Builder
	if err := rep.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	// A dry run that would settle says so instead.
	rep.Settled = nil
	rep.LoadFrom = LoadCounted
	if err := rep.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "summary_every_line.golden", b.String())
}

// checkGolden compares got with testdata/name, which -update rewrites.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }

func TestCampaignTargetFilters(t *testing.T) {
	today := d(2024, 11, 20)
	for _, tc := range []struct {
		zip, carrier string
		want         bool
	}{
		{"75001", "HUMANA", true},
		{"75001", "Aetna", false},
		{"90210", "Humana", false},
	} {
		c := emailsched.Contact{ID: 3, Email: "p@example.com", ZIP: tc.zip, Carrier: tc.carrier,
			Campaigns: []emailsched.CampaignTarget{{InstanceID: 3, Trigger: d(2024, 12, 1)}}}
		got := false
		for _, e := range planWithCampaigns(t, Config{}, today, testCatalogue(), c).emails {
			got = got || e.Type == pro
		}
		if got != tc.want {
			t.Errorf("zip %s carrier %s: promotion planned %v, want %v", tc.zip, tc.carrier, got, tc.want)
		}
	}
}
