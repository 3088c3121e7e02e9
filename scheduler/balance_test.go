package scheduler_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/proptest"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
	"github.com/emailsched/emailsched/store/memory"
)

// checkPlan verifies the rules every final plan obeys, whatever balancing
// did: nothing before today or after its anniversary, nothing pre-scheduled
// in an exclusion period of an email that respects windows, one campaign
// email a day, and the frequency limit (history included, follow-ups
// excluded).
func checkPlan(t *testing.T, today datecalc.Date, contacts []emailsched.Contact, cat emailsched.Campaigns, plan []emailsched.Email) {
	t.Helper()
	respects := map[emailsched.EmailType]bool{}
	for _, ty := range cat.Types {
		respects[emailsched.EmailType("campaign_"+ty.Name)] = ty.RespectExclusionWindows
	}
	byContact := map[int64][]emailsched.Email{}
	for _, e := range plan {
		byContact[e.ContactID] = append(byContact[e.ContactID], e)
	}
	set := rules.Default()
	for i := range contacts {
		c := &contacts[i]
		res, err := rules.ResolveState(c.ZIP, c.State)
		if err != nil {
			continue
		}
		ap := set.Apply(c, res.State, today)
		var days []datecalc.Date
		for _, h := range c.History {
			if h.Status.Committed() && !h.Type.IsFollowUp() {
				day := h.Date
				if !h.SentAt.IsZero() {
					day = datecalc.FromTime(h.SentAt.UTC())
				}
				days = append(days, day)
			}
		}
		var planned []datecalc.Date
		campaignDays := map[datecalc.Date]bool{}
		for _, e := range byContact[c.ID] {
			if e.Status != emailsched.StatusPreScheduled {
				continue
			}
			if e.Date.Before(today) {
				t.Fatalf("contact %d: %s on %v before today", c.ID, e.Type, e.Date)
			}
			if (e.Type == emailsched.TypeBirthday || e.Type == emailsched.TypeEffectiveDate || e.Type == emailsched.TypeAEP) && e.Date.After(scheduler.LastSendDay(&e)) {
				t.Fatalf("contact %d: %s on %v after its last day %v", c.ID, e.Type, e.Date, scheduler.LastSendDay(&e))
			}
			r, isCampaign := respects[e.Type]
			if !isCampaign || r {
				if x, ex := ap.Excluded(e.Date); ex {
					t.Fatalf("contact %d: %s on %v excluded by %s %v", c.ID, e.Type, e.Date, x.Reason, x.Period)
				}
			}
			if isCampaign {
				if campaignDays[e.Date] {
					t.Fatalf("contact %d: two campaign emails on %v", c.ID, e.Date)
				}
				campaignDays[e.Date] = true
			}
			if !e.Type.IsFollowUp() {
				planned = append(planned, e.Date)
			}
		}
		days = append(days, planned...)
		for _, d := range planned {
			for start := d.AddDays(-13); !start.After(d); start = start.AddDays(1) {
				n := 0
				for _, x := range days {
					if !x.Before(start) && !x.After(start.AddDays(13)) {
						n++
					}
				}
				if n > 2 {
					t.Fatalf("contact %d: %d emails in the 14 days from %v: %v", c.ID, n, start, byContact[c.ID])
				}
			}
		}
	}
}

func runPlan(t *testing.T, cfg scheduler.Config, today datecalc.Date, contacts []emailsched.Contact, cat emailsched.Campaigns) ([]emailsched.Email, *scheduler.Report) {
	t.Helper()
	m, err := memory.New(contacts, cat)
	if err != nil {
		t.Fatal(err)
	}
	s, err := scheduler.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.RunAt(context.Background(), today, m, m)
	if err != nil {
		t.Fatal(err)
	}
	return m.Plan(), rep
}

func TestBalancedPlanKeepsEveryRule(t *testing.T) {
	props := proptest.New(t, 12)
	props.Property("balancing moves emails but breaks no rule and changes no count or status", prop.ForAll(func(seed int64, pct int) bool {
		today := demodata.DefaultToday
		cat := demodata.DemoCampaigns(today)
		contacts := demodata.Generate(demodata.GenOptions{Seed: seed, Contacts: 600, Today: today, Campaigns: cat, HistoryFraction: 0.5})
		cfg := scheduler.Config{DailyCapPercent: scheduler.Float(float64(pct) / 10)}
		balanced, rep := runPlan(t, cfg, today, contacts, cat)
		plain, _ := runPlan(t, scheduler.Config{DisableLoadBalancing: true}, today, contacts, cat)
		checkPlan(t, today, contacts, cat, balanced)
		if len(balanced) != len(plain) {
			t.Logf("balanced %d emails, plain %d", len(balanced), len(plain))
			return false
		}
		status := func(es []emailsched.Email) map[string]int {
			m := map[string]int{}
			for _, e := range es {
				m[fmt.Sprint(e.ContactID, e.Type, e.Event, e.Status, e.SkipReason)]++
			}
			return m
		}
		a, b := status(balanced), status(plain)
		for k, v := range a {
			if b[k] != v {
				t.Logf("status of %s changed: %d vs %d", k, v, b[k])
				return false
			}
		}
		if rep.Balance == nil || rep.Balance.Moved == 0 {
			t.Logf("nothing moved with cap %d: %+v", rep.Balance.Cap, rep.Balance)
			return false
		}
		for _, day := range rep.Balance.After {
			if day.Total > rep.Balance.Threshold && day.Stuck == 0 {
				t.Logf("day %v holds %d > %d without stuck emails", day.Date, day.Total, rep.Balance.Threshold)
				return false
			}
		}
		return true
	}, gen.Int64Range(1, 1<<30), gen.IntRange(3, 20)))
	props.TestingRun(t)
}

func TestBalancedPlanIsStable(t *testing.T) {
	today := demodata.DefaultToday
	cat := demodata.DemoCampaigns(today)
	contacts := demodata.Generate(demodata.GenOptions{Seed: 7, Contacts: 2000, Today: today, Campaigns: cat})
	m, _ := memory.New(contacts, cat)
	s, err := scheduler.New(scheduler.Config{DailyCapPercent: scheduler.Float(1)})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.RunAt(context.Background(), today, m, m)
	if err != nil {
		t.Fatal(err)
	}
	if first.Balance.Moved == 0 {
		t.Fatal("nothing moved: the test needs days over the cap")
	}
	again, err := s.RunAt(context.Background(), today, m, m)
	if err != nil {
		t.Fatal(err)
	}
	if again.Rows != (store.RowCounts{Unchanged: first.Planned()}) || again.Balance.Moved != 0 {
		t.Errorf("same day again: rows %+v, moved %d", again.Rows, again.Balance.Moved)
	}
	m.Send(today, emailsched.StatusSent, today.Time(14, 0, nil))
	next, err := s.RunAt(context.Background(), today.AddDays(1), m, m)
	if err != nil {
		t.Fatal(err)
	}
	changed := next.Rows.Inserted + next.Rows.Updated + next.Rows.Deleted
	if float64(changed) > 0.01*float64(next.Planned()) {
		t.Errorf("next day rewrote %d of %d rows (%+v)", changed, next.Planned(), next.Rows)
	}
}
