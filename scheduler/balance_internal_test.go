package scheduler

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/memory"
)

// The balancer computes the stable hash only where Place reads it: placing
// with every hash of the shedding days set gives the same days.
func TestHashesOnlyWhereRead(t *testing.T) {
	today := demodata.DefaultToday
	cat := demodata.DemoCampaigns(today)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 21, Contacts: 3000, Today: today, Campaigns: cat, HistoryFraction: 0.5})
	m, err := memory.New(contacts, cat)
	if err != nil {
		t.Fatal(err)
	}
	// Birthday and effective-date emails of equal priority tie when they share
	// a day (catch-up days often coincide): the hash orders them.
	s, err := New(Config{DailyCapPercent: Float(0.5), EDSoftLimit: Int(2),
		BirthdayPriority: Int(10), EffectiveDatePriority: Int(10)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	camp, err := loadCampaigns(ctx, m, today)
	if err != nil {
		t.Fatal(err)
	}
	newBalancer := func() *balancer {
		counter, valid, err := s.countingPass(ctx, pass{today: today, camp: camp}, m)
		if err != nil {
			t.Fatal(err)
		}
		b := newBalancer(&s.s)
		b.start(counter, s.s.balanceConfig(today, valid), today)
		return b
	}
	lazy, all := newBalancer(), newBalancer()
	all.hashAll = true
	p := newPlanner(&s.s, today, camp)
	var o1, o2 outcome
	moved, tiedOnShedding := 0, 0
	for c, err := range m.Contacts(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		p.plan(c, &o1)
		p.plan(c, &o2)
		before := dates(o1.emails)
		// The hash is set exactly where Place reads it: effective-date
		// emails and ties of day and priority, on days that shed.
		lazy.candidates(&o1)
		lazy.hash(c)
		for i, cand := range lazy.cands {
			if !lazy.plan.Sheds(cand.Date) {
				continue
			}
			e := &o1.emails[lazy.idx[i]]
			want := uint64(0)
			if cand.IsED || lazy.tied(i) {
				want = datecalc.StableHash(c.ID, string(e.Type), e.Event.Year())
			}
			if cand.Hash != want {
				t.Fatalf("contact %d, %s on %v: hash %d, want %d", c.ID, e.Type, e.Date, cand.Hash, want)
			}
			if !cand.IsED && want != 0 {
				tiedOnShedding++
			}
		}
		if err := lazy.place(c, &o1); err != nil {
			t.Fatal(err)
		}
		if err := all.place(c, &o2); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(o2.emails, o1.emails); diff != "" {
			t.Fatalf("contact %d placed differently (-every hash +lazy):\n%s", c.ID, diff)
		}
		if !cmp.Equal(before, dates(o1.emails)) {
			moved++
		}
	}
	if moved == 0 || tiedOnShedding == 0 {
		t.Errorf("the test needs moves (%d) and ties on shedding days (%d)", moved, tiedOnShedding)
	}
}

func dates(es []emailsched.Email) []string {
	out := make([]string, len(es))
	for i := range es {
		out[i] = es[i].Date.String()
	}
	return out
}

// TestCampaignMayMove: one campaign email per day, and no move that would
// make the next run settle the conflicts between campaign emails
// differently.
func TestCampaignMayMove(t *testing.T) {
	s := mustSettings(t, Config{})
	d1, d2, d3 := d(2025, 5, 1), d(2025, 5, 2), d(2025, 5, 3)
	camp := func(o *outcome, date datecalc.Date, reason emailsched.SkipReason) {
		e, info := o.next()
		e.Type, e.Date, e.Priority, e.Status, e.SkipReason = "campaign_x", date, 5, emailsched.StatusPreScheduled, reason
		if reason != "" {
			e.Status = emailsched.StatusSkipped
		}
		info.kind = kindCampaign
	}
	for _, tc := range []struct {
		name    string
		skipped emailsched.SkipReason
		on      datecalc.Date
		to      datecalc.Date
		want    bool
	}{
		{"nothing in the way", "", datecalc.Date{}, d2, true},
		{"another planned campaign email on the day", "planned", d2, d2, false},
		{"a conflict it won on its day", emailsched.ReasonCampaignConflict, d1, d3, false},
		{"a conflict on the day", emailsched.ReasonCampaignConflict, d2, d2, false},
		{"a conflict elsewhere", emailsched.ReasonCampaignConflict, d3, d2, true},
		{"skipped by the frequency limit on the day", emailsched.ReasonFrequencyLimit, d2, d2, false},
		{"skipped by the frequency limit on its day", emailsched.ReasonFrequencyLimit, d1, d2, true},
		{"skipped by a window on the day", "exclusion_window:CA:birthday", d2, d2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBalancer(s)
			var o outcome
			camp(&o, d1, "")
			switch {
			case tc.skipped == "planned":
				camp(&o, tc.on, "")
			case tc.skipped != "":
				camp(&o, tc.on, tc.skipped)
			}
			b.candidates(&o)
			if got := b.campaignMayMove(0, tc.to); got != tc.want {
				t.Errorf("campaignMayMove = %v, want %v", got, tc.want)
			}
		})
	}
}
