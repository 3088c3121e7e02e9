package scheduler

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

func followUpRows(es []emailsched.Email) []emailsched.Email {
	var out []emailsched.Email
	for _, e := range es {
		if e.Type.IsFollowUp() {
			out = append(out, e)
		}
	}
	return out
}

func at(day datecalc.Date, hour int) time.Time { return day.Time(hour, 0, time.UTC) }

func TestFollowUps(t *testing.T) {
	today := d(2024, 12, 10)
	sent := func(id int64, typ emailsched.EmailType, day datecalc.Date) emailsched.Email {
		return emailsched.Email{ID: id, Type: typ, Status: emailsched.StatusSent, Date: day, SentAt: at(day, 9), Priority: 10, Event: day.AddDays(14)}
	}
	click := func(day datecalc.Date, hour int) emailsched.Engagement {
		return emailsched.Engagement{Kind: emailsched.EngagementClick, At: at(day, hour)}
	}
	answer := func(day datecalc.Date, cond bool) emailsched.Engagement {
		return emailsched.Engagement{Kind: emailsched.EngagementHealthAnswer, At: at(day, 12), MedicalConditions: cond}
	}
	for _, tc := range []struct {
		name       string
		history    []emailsched.Email
		engagement []emailsched.Engagement
		wantType   emailsched.EmailType
		wantDate   datecalc.Date
		wantMeta   string
	}{
		{"cold, two days after", []emailsched.Email{sent(1, bd, d(2024, 12, 9))}, nil,
			emailsched.TypeFollowUpCold, d(2024, 12, 11),
			`{"initial_email_id":1,"initial_type":"birthday","initial_sent":"2024-12-09","evidence":"no engagement"}`},
		{"clicked", []emailsched.Email{sent(1, bd, d(2024, 12, 9))}, []emailsched.Engagement{click(d(2024, 12, 9), 10)},
			emailsched.TypeFollowUpClicked, d(2024, 12, 11),
			`{"initial_email_id":1,"initial_type":"birthday","initial_sent":"2024-12-09","evidence":"click at 2024-12-09T10:00:00Z"}`},
		{"click before the send does not count", []emailsched.Email{sent(1, bd, d(2024, 12, 9))}, []emailsched.Engagement{click(d(2024, 12, 9), 8)},
			emailsched.TypeFollowUpCold, d(2024, 12, 11), ""},
		{"answered without conditions beats a click", []emailsched.Email{sent(1, aep, d(2024, 12, 9))},
			[]emailsched.Engagement{click(d(2024, 12, 9), 10), answer(d(2024, 12, 9), false)},
			emailsched.TypeFollowUpHQNoYes, d(2024, 12, 11), ""},
		{"answered with conditions is the highest", []emailsched.Email{sent(1, edt, d(2024, 12, 9))},
			[]emailsched.Engagement{answer(d(2024, 12, 9), true), answer(d(2024, 12, 10), false), click(d(2024, 12, 10), 1)},
			emailsched.TypeFollowUpHQWithYes, d(2024, 12, 11), ""},
		{"delay passed: tomorrow", []emailsched.Email{sent(1, bd, d(2024, 12, 1))}, nil,
			emailsched.TypeFollowUpCold, d(2024, 12, 11), ""},
		{"no SentAt: the scheduled date counts", []emailsched.Email{{ID: 1, Type: pw, Status: emailsched.StatusDelivered, Date: d(2024, 12, 9)}}, nil,
			emailsched.TypeFollowUpCold, d(2024, 12, 11), ""},
		{"campaign type with follow-ups", []emailsched.Email{{ID: 1, Type: ri, Status: emailsched.StatusSent, Date: d(2024, 12, 9), CampaignInstanceID: 1, Priority: 5}}, nil,
			emailsched.TypeFollowUpCold, d(2024, 12, 11), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := emailsched.Contact{ID: 1, Email: "f@example.com", ZIP: "75001", History: tc.history, Engagement: tc.engagement}
			o := planWithCampaigns(t, Config{DisableFrequencyLimit: true}, today, testCatalogue(), c)
			fu := followUpRows(o.emails)
			if len(fu) != 1 {
				t.Fatalf("follow-ups %+v", fu)
			}
			got := fu[0]
			if got.Type != tc.wantType || got.Date != tc.wantDate || got.Status != emailsched.StatusPreScheduled ||
				got.Priority != tc.history[0].Priority || got.CampaignInstanceID != tc.history[0].CampaignInstanceID {
				t.Errorf("follow-up %+v, want %s on %v inheriting priority %d and instance %d", got, tc.wantType, tc.wantDate,
					tc.history[0].Priority, tc.history[0].CampaignInstanceID)
			}
			if tc.wantMeta != "" && got.Metadata != tc.wantMeta {
				t.Errorf("metadata %s\nwant     %s", got.Metadata, tc.wantMeta)
			}
		})
	}
}

func TestNoFollowUp(t *testing.T) {
	today := d(2024, 12, 10)
	withMeta := func(typ emailsched.EmailType, st emailsched.Status, meta string) emailsched.Email {
		return emailsched.Email{ID: 5, Type: typ, Status: st, Date: d(2024, 12, 11), Metadata: meta}
	}
	initial := emailsched.Email{ID: 1, Type: bd, Status: emailsched.StatusSent, Date: d(2024, 12, 9)}
	for _, tc := range []struct {
		name    string
		history []emailsched.Email
		cfg     Config
	}{
		{"older than 35 days", []emailsched.Email{{ID: 1, Type: bd, Status: emailsched.StatusSent, Date: d(2024, 11, 4)}}, Config{}},
		{"not sent", []emailsched.Email{{ID: 1, Type: bd, Status: emailsched.StatusScheduled, Date: d(2024, 12, 9)}}, Config{}},
		{"sent in the future", []emailsched.Email{{ID: 1, Type: bd, Status: emailsched.StatusSent, Date: d(2024, 12, 12)}}, Config{}},
		{"no row id", []emailsched.Email{{Type: bd, Status: emailsched.StatusSent, Date: d(2024, 12, 9)}}, Config{}},
		{"campaign type without follow-ups", []emailsched.Email{{ID: 1, Type: reg, Status: emailsched.StatusSent, Date: d(2024, 12, 9)}}, Config{}},
		{"a follow-up is not followed up", []emailsched.Email{{ID: 1, Type: emailsched.TypeFollowUpCold, Status: emailsched.StatusSent, Date: d(2024, 12, 9)}}, Config{}},
		{"already followed up", []emailsched.Email{initial, withMeta(emailsched.TypeFollowUpClicked, emailsched.StatusSent, `{"initial_email_id": 1}`)}, Config{}},
		{"disabled", []emailsched.Email{initial}, Config{DisableFollowUps: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := emailsched.Contact{ID: 1, Email: "f@example.com", ZIP: "75001", History: tc.history}
			if fu := followUpRows(planWithCampaigns(t, tc.cfg, today, testCatalogue(), c).emails); len(fu) != 0 {
				t.Errorf("unexpected follow-ups %+v", fu)
			}
		})
	}
	// A follow-up of another initial email does not count.
	c := emailsched.Contact{ID: 1, Email: "f@example.com", ZIP: "75001",
		History: []emailsched.Email{initial, withMeta(emailsched.TypeFollowUpCold, emailsched.StatusSent, `{"initial_email_id":2}`), withMeta(emailsched.TypeFollowUpCold, emailsched.StatusSent, `{}`)}}
	if fu := followUpRows(planWithCampaigns(t, Config{}, today, testCatalogue(), c).emails); len(fu) != 1 {
		t.Errorf("follow-ups %+v, want one", fu)
	}
}

func TestFollowUpExclusionAndStability(t *testing.T) {
	today := d(2024, 12, 10)
	// CA, birthday Jan 15: Dec 11 is inside the window; the follow-up is
	// written skipped.
	c := emailsched.Contact{ID: 1, Email: "f@example.com", ZIP: "90210", Birthday: d(1950, 1, 15),
		History: []emailsched.Email{{ID: 1, Type: aep, Status: emailsched.StatusSent, Date: d(2024, 12, 9)}}}
	fu := followUpRows(planWithCampaigns(t, Config{}, today, testCatalogue(), c).emails)
	if len(fu) != 1 || fu[0].Status != emailsched.StatusSkipped || fu[0].SkipReason != "exclusion_window:CA:birthday" {
		t.Errorf("follow-up in a window: %+v", fu)
	}
	// A stored follow-up keeps its date, row and the kind may change.
	tx := emailsched.Contact{ID: 1, Email: "f@example.com", ZIP: "75001",
		History:    []emailsched.Email{{ID: 1, Type: aep, Status: emailsched.StatusSent, Date: d(2024, 12, 9)}},
		Stored:     []emailsched.Email{{ID: 7, Type: emailsched.TypeFollowUpCold, Status: emailsched.StatusPreScheduled, Date: d(2024, 12, 12), Metadata: `{"initial_email_id":1}`}},
		Engagement: []emailsched.Engagement{{Kind: emailsched.EngagementClick, At: at(d(2024, 12, 9), 20)}}}
	fu = followUpRows(planWithCampaigns(t, Config{}, today, testCatalogue(), tx).emails)
	want := []emailsched.Email{{ID: 7, ContactID: 1, Type: emailsched.TypeFollowUpClicked, Status: emailsched.StatusPreScheduled, Date: d(2024, 12, 12),
		Event: d(2024, 12, 9), Metadata: `{"initial_email_id":1,"initial_type":"aep","initial_sent":"2024-12-09","evidence":"click at 2024-12-09T20:00:00Z"}`}}
	if diff := cmp.Diff(want, fu); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestInitialEmailID(t *testing.T) {
	for _, tc := range []struct {
		meta string
		id   int64
		ok   bool
	}{
		{`{"initial_email_id":12}`, 12, true},
		{`{"initial_email_id": 7,"x":1}`, 7, true},
		{`{"initial_email_id":"x"}`, 0, false},
		{`{}`, 0, false},
		{``, 0, false},
	} {
		id, ok := initialEmailID(tc.meta)
		if id != tc.id || ok != tc.ok {
			t.Errorf("initialEmailID(%q) = %d, %v", tc.meta, id, ok)
		}
	}
}

func TestFrequencyLimit(t *testing.T) {
	today := d(2024, 12, 10)
	// A TX contact with birthday Jan 1 (email Dec 18), effective date Jan 5
	// (email Dec 6 → catch-up Dec 14) and a rate increase (priority 5) on
	// Dec 20: three emails within 14 days. The rate increase is the most
	// important; birthday and effective date tie on priority 10, so the
	// later one (the birthday) is skipped.
	c := emailsched.Contact{ID: 4, Email: "q@example.com", ZIP: "75001", Birthday: d(1950, 1, 1), EffectiveDate: d(2010, 1, 5),
		Campaigns: []emailsched.CampaignTarget{{InstanceID: 1, Trigger: d(2025, 1, 3)}}}
	cat := testCatalogue()
	cat.Instances[1].End = d(2024, 1, 1) // no regulatory notice here
	o := planWithCampaigns(t, Config{}, today, cat, c)
	status := map[emailsched.EmailType]emailsched.SkipReason{}
	for _, e := range o.emails {
		status[e.Type] = emailsched.SkipReason(e.Status) + "/" + e.SkipReason
	}
	want := map[emailsched.EmailType]emailsched.SkipReason{
		bd: "skipped/frequency_limit", edt: "pre-scheduled/", ri: "pre-scheduled/", aep: "pre-scheduled/",
	}
	if diff := cmp.Diff(want, status); diff != "" {
		t.Errorf("(-want +got):\n%s\n%v", diff, rowsOf(o.emails))
	}
	// History counts: a sent email yesterday leaves room for one more.
	c.Campaigns = nil
	c.History = []emailsched.Email{{ID: 1, Type: reg, Status: emailsched.StatusSent, Date: d(2024, 12, 9)}}
	o = planWithCampaigns(t, Config{}, today, cat, c)
	for _, e := range o.emails {
		if e.Type == bd && e.Status != emailsched.StatusSkipped {
			t.Errorf("birthday email on %v should be over the limit with history: %v", e.Date, rowsOf(o.emails))
		}
	}
	// Disabled: everything goes.
	o = planWithCampaigns(t, Config{DisableFrequencyLimit: true}, today, cat, c)
	for _, e := range o.emails {
		if e.Status != emailsched.StatusPreScheduled {
			t.Errorf("limit disabled but %s skipped", e.Type)
		}
	}
}

func TestFitsFrequency(t *testing.T) {
	days := []datecalc.Date{d(2025, 1, 1), d(2025, 1, 10)}
	for _, tc := range []struct {
		day  datecalc.Date
		want bool
	}{
		{d(2025, 1, 5), false},
		{d(2025, 1, 14), false},
		{d(2025, 1, 15), true},  // window Jan 2 … Jan 15 holds Jan 10 only
		{d(2024, 12, 19), true}, // window Dec 19 … Jan 1 holds Jan 1 only
		{d(2024, 12, 28), false},
	} {
		if got := fitsFrequency(days, tc.day, 2, 14); got != tc.want {
			t.Errorf("fitsFrequency(%v) = %v", tc.day, got)
		}
	}
}
