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
