package scheduler

import (
	"testing"
	"time"

	"github.com/emailsched/emailsched/internal/proptest"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
)

// richScenario adds history, engagement and campaign targets to a scenario.
type richScenario struct {
	scenario
}

var (
	historyTypes  = []emailsched.EmailType{bd, edt, aep, pw, ri, reg, pro, emailsched.TypeFollowUpCold}
	historyStatus = []emailsched.Status{emailsched.StatusSent, emailsched.StatusDelivered, emailsched.StatusScheduled, "failed"}
	instanceIDs   = []int64{1, 3, 6, 7}
)

func propertyCatalogue() emailsched.Campaigns {
	cat := testCatalogue()
	cat.Instances[1].Start, cat.Instances[1].End = datecalc.Date{}, datecalc.Date{} // the notice is always active
	cat.Instances[2].End = datecalc.Date{}
	cat.Instances[2].TargetCarriers = nil
	cat.Instances = append(cat.Instances, emailsched.CampaignInstance{ID: 7, Type: "promotion", Name: "everywhere"})
	return cat
}

func genRichScenario() gopter.Gen {
	return gopter.CombineGens(
		genScenario(),
		gen.SliceOfN(4, gopter.CombineGens(gen.IntRange(0, len(historyTypes)-1), gen.IntRange(0, len(historyStatus)-1), gen.IntRange(-40, 10), gen.IntRange(0, 23))),
		gen.SliceOfN(3, gopter.CombineGens(gen.IntRange(0, 2), gen.IntRange(-40, 3), gen.IntRange(0, 23))),
		gen.SliceOfN(3, gopter.CombineGens(gen.IntRange(0, len(instanceIDs)-1), gen.IntRange(-10, 60))),
		gen.IntRange(0, 3),
	).Map(func(v []any) richScenario {
		sc := v[0].(scenario)
		c := &sc.Contact
		for i, h := range v[1].([][]any) {
			typ := historyTypes[h[0].(int)]
			day := sc.Today.AddDays(h[2].(int))
			e := emailsched.Email{ID: int64(100 + i), ContactID: c.ID, Type: typ, Status: historyStatus[h[1].(int)], Date: day,
				Event: day.AddDays(14), Priority: 10 + i}
			if e.Status == emailsched.StatusSent || e.Status == emailsched.StatusDelivered {
				e.SentAt = day.Time(h[3].(int), 0, time.UTC)
			}
			if _, ok := typ.Campaign(); ok {
				e.CampaignInstanceID = instanceIDs[i%len(instanceIDs)]
			}
			c.History = append(c.History, e)
		}
		for _, g := range v[2].([][]any) {
			en := emailsched.Engagement{Kind: emailsched.EngagementClick, At: sc.Today.AddDays(g[1].(int)).Time(g[2].(int), 0, time.UTC)}
			switch g[0].(int) {
			case 1:
				en.Kind = emailsched.EngagementHealthAnswer
			case 2:
				en.Kind, en.MedicalConditions = emailsched.EngagementHealthAnswer, true
			}
			c.Engagement = append(c.Engagement, en)
		}
		for _, t := range v[3].([][]any) {
			c.Campaigns = append(c.Campaigns, emailsched.CampaignTarget{InstanceID: instanceIDs[t[0].(int)], Trigger: sc.Today.AddDays(t[1].(int))})
		}
		c.Carrier = []string{"", "Humana", "Aetna", "humana"}[v[4].(int)]
		return richScenario{sc}
	})
}

// referenceKind classifies engagement independently of classify.
func referenceKind(c *emailsched.Contact, initial *emailsched.Email) emailsched.EmailType {
	since := initial.SentAt
	if since.IsZero() {
		since = initial.Date.Time(0, 0, time.UTC)
	}
	withYes, noYes, clicked := false, false, false
	for _, g := range c.Engagement {
		if g.At.Before(since) {
			continue
		}
		withYes = withYes || (g.Kind == emailsched.EngagementHealthAnswer && g.MedicalConditions)
		noYes = noYes || (g.Kind == emailsched.EngagementHealthAnswer && !g.MedicalConditions)
		clicked = clicked || g.Kind == emailsched.EngagementClick
	}
	switch {
	case withYes:
		return emailsched.TypeFollowUpHQWithYes
	case noYes:
		return emailsched.TypeFollowUpHQNoYes
	case clicked:
		return emailsched.TypeFollowUpClicked
	}
	return emailsched.TypeFollowUpCold
}

func TestPropertiesCampaignsFollowUpsFrequency(t *testing.T) {
	props := proptest.New(t, 1500)
	set := mustSettings(t, Config{})
	cat := propertyCatalogue()
	plan := func(sc richScenario) (outcome, rules.Applied) {
		return planAndRule(set, newCampaignSet(cat, sc.Today), sc.scenario)
	}
	props.Property("the plan never exceeds the frequency limit in any window (history included, follow-ups excluded)", prop.ForAll(func(sc richScenario) bool {
		o, _ := plan(sc)
		var days []datecalc.Date
		for i := range sc.Contact.History {
			h := &sc.Contact.History[i]
			if h.Status.Committed() && !h.Type.IsFollowUp() {
				days = append(days, sentDay(h))
			}
		}
		for _, e := range o.emails {
			if e.Status == emailsched.StatusPreScheduled && !e.Type.IsFollowUp() {
				days = append(days, e.Date)
			}
		}
		for _, e := range o.emails {
			if e.Status != emailsched.StatusPreScheduled || e.Type.IsFollowUp() {
				continue
			}
			for start := e.Date.AddDays(-13); !start.After(e.Date); start = start.AddDays(1) {
				n := 0
				for _, x := range days {
					if !x.Before(start) && !x.After(start.AddDays(13)) && (!x.Before(sc.Today.AddDays(-13))) {
						n++
					}
				}
				if n > 2 {
					t.Logf("%d emails in the 14 days from %v: %v (history %v)", n, start, rowsOf(o.emails), sc.Contact.History)
					return false
				}
			}
		}
		return true
	}, genRichScenario()))
	props.Property("no contact gets two campaign emails on one day", prop.ForAll(func(sc richScenario) bool {
		o, _ := plan(sc)
		seen := map[datecalc.Date]bool{}
		for _, e := range o.emails {
			if _, ok := e.Type.Campaign(); ok && e.Status == emailsched.StatusPreScheduled {
				if seen[e.Date] {
					return false
				}
				seen[e.Date] = true
			}
		}
		return true
	}, genRichScenario()))
	props.Property("follow-ups come at least two days after their initial email, outside every exclusion period, with the reference kind", prop.ForAll(func(sc richScenario) bool {
		o, ap := plan(sc)
		for _, e := range o.emails {
			if !e.Type.IsFollowUp() {
				continue
			}
			id, _ := initialEmailID(e.Metadata)
			var initial *emailsched.Email
			for i := range sc.Contact.History {
				if sc.Contact.History[i].ID == id {
					initial = &sc.Contact.History[i]
				}
			}
			if initial == nil || e.Date.Before(sentDay(initial).AddDays(2)) || e.Date.Before(sc.Today) {
				t.Logf("follow-up %+v of %+v", e, initial)
				return false
			}
			if _, ex := ap.Excluded(e.Date); ex == (e.Status == emailsched.StatusPreScheduled) {
				t.Logf("follow-up %+v: excluded %v", e, ex)
				return false
			}
			if want := referenceKind(&sc.Contact, initial); e.Type != want {
				t.Logf("follow-up kind %s, reference %s (engagement %+v)", e.Type, want, sc.Contact.Engagement)
				return false
			}
		}
		return true
	}, genRichScenario()))
	props.Property("campaign emails of types that respect windows are never planned in an exclusion period", prop.ForAll(func(sc richScenario) bool {
		o, ap := plan(sc)
		for _, e := range o.emails {
			if e.Type == reg || e.Status != emailsched.StatusPreScheduled {
				continue
			}
			if _, ok := e.Type.Campaign(); ok {
				if _, ex := ap.Excluded(e.Date); ex {
					return false
				}
			}
		}
		return true
	}, genRichScenario()))
	props.Property("no email is planned before today", prop.ForAll(func(sc richScenario) bool {
		o, _ := plan(sc)
		for _, e := range o.emails {
			if e.Date.Before(sc.Today) {
				return false
			}
		}
		return true
	}, genRichScenario()))
	props.TestingRun(t)
}
