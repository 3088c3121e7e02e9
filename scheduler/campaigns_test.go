package scheduler

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store/memory"
)

// testCatalogue has a rate increase (respects windows, 14 days before,
// follow-ups), a regulatory notice (ignores windows, all contacts,
// priority 1), a promotion (7 days after the trigger, TX only, carrier
// filter) and an inactive type.
func testCatalogue() emailsched.Campaigns {
	return emailsched.Campaigns{
		Types: []emailsched.CampaignType{
			{Name: "rate_increase", RespectExclusionWindows: true, EnableFollowUps: true, DaysBeforeEvent: 14, Priority: 5, Active: true},
			{Name: "regulatory_notice", DaysBeforeEvent: 0, TargetAllContacts: true, Priority: 1, Active: true},
			{Name: "promotion", RespectExclusionWindows: true, DaysBeforeEvent: -7, Priority: 40, Active: true},
			{Name: "dormant", RespectExclusionWindows: true, Priority: 50, Active: false},
		},
		Instances: []emailsched.CampaignInstance{
			{ID: 1, Type: "rate_increase", Name: "RI 2025", EmailTemplate: "ri.html", SMSTemplate: "ri.txt"},
			{ID: 2, Type: "regulatory_notice", Name: "notice", EmailTemplate: "n.html", Start: d(2024, 11, 15), End: d(2025, 1, 31)},
			{ID: 3, Type: "promotion", Name: "promo", TargetStates: []emailsched.State{emailsched.MustState("TX")}, TargetCarriers: []string{"Humana"}, End: d(2025, 3, 1)},
			{ID: 4, Type: "dormant", Name: "never"},
			{ID: 5, Type: "rate_increase", Name: "ended", End: d(2024, 1, 1)},
			{ID: 6, Type: "rate_increase", Name: "second RI", EmailTemplate: "ri2.html"},
		},
	}
}

func planWithCampaigns(t testing.TB, cfg Config, today datecalc.Date, cat emailsched.Campaigns, c emailsched.Contact) outcome {
	t.Helper()
	var o outcome
	newPlanner(mustSettings(t, cfg), today, newCampaignSet(cat, today)).plan(&c, &o)
	return o
}

// campaignRows keeps the campaign emails of a plan.
func campaignRows(es []emailsched.Email) []row {
	var out []emailsched.Email
	for _, e := range es {
		if _, ok := e.Type.Campaign(); ok {
			out = append(out, e)
		}
	}
	return rowsOf(out)
}

const (
	ri  = emailsched.EmailType("campaign_rate_increase")
	reg = emailsched.EmailType("campaign_regulatory_notice")
	pro = emailsched.EmailType("campaign_promotion")
)

func TestCampaigns(t *testing.T) {
	today := d(2024, 11, 20)
	target := func(id int64, trigger datecalc.Date) emailsched.CampaignTarget {
		return emailsched.CampaignTarget{InstanceID: id, Trigger: trigger, Status: "active"}
	}
	contact := func(zip string, targets ...emailsched.CampaignTarget) emailsched.Contact {
		return emailsched.Contact{ID: 11, Email: "c@example.com", ZIP: zip, Campaigns: targets}
	}
	notice := pre(reg, today, today) // active since Nov 15: the trigger is today
	for _, tc := range []struct {
		name  string
		today datecalc.Date
		c     emailsched.Contact
		want  []row
	}{
		{"rate increase 14 days before its trigger (TX)", today, contact("75001", target(1, d(2024, 12, 15))),
			[]row{pre(ri, d(2024, 12, 1), d(2024, 12, 15)), notice}},
		{"NY contact: a campaign that respects windows is skipped", today, contact("10001", target(1, d(2024, 12, 15))),
			[]row{skip(ri, d(2024, 12, 1), d(2024, 12, 15), "year_round:NY"), notice}},
		{"a trigger in the past plans nothing", today, contact("75001", target(1, d(2024, 11, 19))), []row{notice}},
		{"a passed send date is caught up, never in the past", today, contact("75001", target(1, d(2024, 11, 25))),
			[]row{catchUpRow(pre(ri, catchUpDay(11, ri, today, d(2024, 11, 25), 7), d(2024, 11, 25))), notice}},
		{"inactive type, ended instance and unknown instance plan nothing", today,
			contact("75001", target(4, d(2024, 12, 15)), target(5, d(2024, 12, 15)), target(99, d(2024, 12, 15))), []row{notice}},
		{"target states and carriers filter", today, contact("75001", target(3, d(2024, 12, 15))), []row{notice}},
		{"all-contacts instance before its start: not active", d(2024, 11, 14), contact("75001"), nil},
		{"all-contacts instance on its start", d(2024, 11, 15), contact("75001"), []row{pre(reg, d(2024, 11, 15), d(2024, 11, 15))}},
		{"all-contacts instance after its start: trigger is today", d(2025, 1, 10), contact("75001"),
			[]row{pre(reg, d(2025, 1, 10), d(2025, 1, 10))}},
		{"two instances of one type", today, contact("75001", target(1, d(2024, 12, 15)), target(6, d(2025, 1, 15))),
			[]row{pre(ri, d(2024, 12, 1), d(2024, 12, 15)), notice, pre(ri, d(2025, 1, 1), d(2025, 1, 15))}},
		{"enrolled twice for the same trigger: one email", today, contact("75001", target(1, d(2024, 12, 15)), target(1, d(2024, 12, 15))),
			[]row{pre(ri, d(2024, 12, 1), d(2024, 12, 15)), notice}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := planWithCampaigns(t, Config{DisableFrequencyLimit: true}, tc.today, testCatalogue(), tc.c)
			slices.SortStableFunc(tc.want, func(a, b row) int { return a.Date.Compare(b.Date) })
			if diff := cmp.Diff(tc.want, campaignRows(o.emails), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("campaign emails (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCampaignRowFields(t *testing.T) {
	c := emailsched.Contact{ID: 11, Email: "c@example.com", ZIP: "10001"}
	o := planWithCampaigns(t, Config{}, d(2024, 12, 1), testCatalogue(), c)
	// A regulatory notice ignores windows: planned for a New Yorker.
	var got *emailsched.Email
	for i := range o.emails {
		if o.emails[i].Type == reg {
			got = &o.emails[i]
		}
	}
	if got == nil || got.Status != emailsched.StatusPreScheduled || got.CampaignInstanceID != 2 || got.EmailTemplate != "n.html" || got.Priority != 1 {
		t.Fatalf("regulatory notice for NY: %+v", got)
	}
}

func TestCampaignPromotionAfterTrigger(t *testing.T) {
	c := emailsched.Contact{ID: 3, Email: "p@example.com", ZIP: "75001", Carrier: " humana ",
		Campaigns: []emailsched.CampaignTarget{{InstanceID: 3, Trigger: d(2024, 11, 1)}}}
	// Send date 2024-11-08 has passed: catch-up, bounded by the instance end.
	o := planWithCampaigns(t, Config{}, d(2024, 11, 20), testCatalogue(), c)
	// The catch-up hash uses the trigger's year; the day is bounded by the
	// instance's end, not by the trigger.
	spread := int(datecalc.StableHash(3, string(pro), 2024) % 7)
	want := []row{catchUpRow(pre(pro, d(2024, 11, 20).AddDays(spread), d(2024, 11, 1)))}
	if diff := cmp.Diff(want, campaignRows(o.emails)[1:]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// After the instance ended, nothing.
	cat := testCatalogue()
	cat.Instances[2].End = d(2024, 11, 19)
	if o := planWithCampaigns(t, Config{}, d(2024, 11, 20), cat, c); len(campaignRows(o.emails)) != 1 {
		t.Errorf("ended promotion planned: %v", campaignRows(o.emails))
	}
	// A promotion after its trigger whose instance has no end: planned.
	cat.Instances[2].End = datecalc.Date{}
	c.Campaigns[0].Trigger = d(2024, 12, 1)
	if o := planWithCampaigns(t, Config{}, d(2024, 11, 20), cat, c); campaignRows(o.emails)[1].Date != d(2024, 12, 8) {
		t.Errorf("open-ended promotion: %v", campaignRows(o.emails))
	}
}

func TestCampaignConflicts(t *testing.T) {
	cat := testCatalogue()
	cat.Instances = append(cat.Instances, emailsched.CampaignInstance{ID: 7, Type: "promotion", Name: "promo all"})
	// Rate increase (priority 5) and promotion (priority 40) on 2024-12-01.
	c := emailsched.Contact{ID: 11, Email: "c@example.com", ZIP: "75001", Campaigns: []emailsched.CampaignTarget{
		{InstanceID: 1, Trigger: d(2024, 12, 15)}, {InstanceID: 7, Trigger: d(2024, 11, 24)}, {InstanceID: 6, Trigger: d(2024, 12, 15)}}}
	o := planWithCampaigns(t, Config{DisableFrequencyLimit: true}, d(2024, 11, 20), cat, c)
	want := []row{
		pre(reg, d(2024, 11, 20), d(2024, 11, 20)),
		{Type: pro, Date: d(2024, 12, 1), Status: emailsched.StatusSkipped, Reason: emailsched.ReasonCampaignConflict, Event: d(2024, 11, 24)},
		pre(ri, d(2024, 12, 1), d(2024, 12, 15)),
		{Type: ri, Date: d(2024, 12, 1), Status: emailsched.StatusSkipped, Reason: emailsched.ReasonCampaignConflict, Event: d(2024, 12, 15)},
	}
	if diff := cmp.Diff(want, campaignRows(o.emails)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, e := range o.emails {
		if e.Type == ri && e.Status == emailsched.StatusPreScheduled && e.CampaignInstanceID != 1 {
			t.Errorf("the lower instance id must win a tie: %+v", e)
		}
	}
}

func TestCampaignHistoryAndStability(t *testing.T) {
	today := d(2024, 11, 20)
	c := emailsched.Contact{ID: 11, Email: "c@example.com", ZIP: "75001",
		Campaigns: []emailsched.CampaignTarget{{InstanceID: 1, Trigger: d(2024, 12, 15)}},
		History: []emailsched.Email{
			{ID: 1, Type: ri, Status: emailsched.StatusSent, CampaignInstanceID: 1, Event: d(2024, 12, 15), Date: d(2024, 12, 1)},
			{ID: 2, Type: reg, Status: emailsched.StatusScheduled, CampaignInstanceID: 2, Event: d(2024, 12, 22), Date: d(2024, 12, 22)},
		}}
	if o := planWithCampaigns(t, Config{}, today, testCatalogue(), c); len(campaignRows(o.emails)) != 0 {
		t.Errorf("campaign planned twice against history: %v", campaignRows(o.emails))
	}
	// Stored all-contacts email keeps its date and event as the trigger
	// moves with the run date.
	c.History = nil
	c.Campaigns = nil
	c.Stored = []emailsched.Email{{ID: 9, Type: reg, Status: emailsched.StatusPreScheduled, CampaignInstanceID: 2, Event: d(2025, 1, 6), Date: d(2025, 1, 5)}}
	o := planWithCampaigns(t, Config{}, d(2025, 1, 3), testCatalogue(), c)
	want := []row{{Type: reg, Date: d(2025, 1, 5), Status: emailsched.StatusPreScheduled, Event: d(2025, 1, 6), ID: 9}}
	if diff := cmp.Diff(want, campaignRows(o.emails)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A stored all-contacts email whose day passed without the sending
	// system taking it is planned afresh while the instance is active, as
	// it would be without the row: the run after this one finds the same
	// plan (it used to drop the email, and the next run planned it again).
	late := d(2025, 1, 20)
	o = planWithCampaigns(t, Config{}, late, testCatalogue(), c)
	want = []row{{Type: reg, Date: late, Status: emailsched.StatusPreScheduled, Event: late}}
	if diff := cmp.Diff(want, campaignRows(o.emails)); diff != "" {
		t.Errorf("after its day (-want +got):\n%s", diff)
	}
	c.Stored = nil
	if diff := cmp.Diff(want, campaignRows(planWithCampaigns(t, Config{}, late, testCatalogue(), c).emails)); diff != "" {
		t.Errorf("without the row (-want +got):\n%s", diff)
	}
}

func TestCampaignCatalogueIssues(t *testing.T) {
	cat := testCatalogue()
	cat.Types = append(cat.Types, emailsched.CampaignType{Name: "Bad Name", Active: true}, emailsched.CampaignType{Name: "promotion", Active: true})
	cat.Instances = append(cat.Instances, emailsched.CampaignInstance{ID: 8, Type: "missing"}, emailsched.CampaignInstance{ID: 1, Type: "rate_increase"})
	m, _ := memory.New([]emailsched.Contact{{ID: 1, Email: "a@example.com", ZIP: "75001"}}, cat)
	rep, err := newTestScheduler(t, Config{}).RunAt(context.Background(), d(2024, 12, 1), m, m)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`campaign type "Bad Name" ignored`,
		`campaign type "promotion" defined twice`,
		`campaign instance 8 ignored: unknown type "missing"`,
		`campaign instance 1 defined twice`,
	}
	if len(rep.CampaignIssues) != len(want) {
		t.Fatalf("issues %q", rep.CampaignIssues)
	}
	for i, w := range want {
		if !strings.HasPrefix(rep.CampaignIssues[i], w) {
			t.Errorf("issue %d = %q, want prefix %q", i, rep.CampaignIssues[i], w)
		}
	}
}

func TestCampaignSourceError(t *testing.T) {
	_, err := newTestScheduler(t, Config{}).RunAt(context.Background(), d(2024, 12, 1), failingCampaigns{}, &fakeSink{})
	if err == nil || !strings.Contains(err.Error(), "reading campaigns: boom") {
		t.Errorf("err = %v", err)
	}
}

type failingCampaigns struct{ fakeSource }

func (failingCampaigns) Campaigns(context.Context) (emailsched.Campaigns, error) {
	return emailsched.Campaigns{}, testError("boom")
}

var _ = time.UTC
