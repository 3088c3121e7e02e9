package scheduler

import (
	"strconv"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// followUps plans one follow-up per recent initial email (SPEC §6): an
// anniversary email or a campaign email whose type enables follow-ups, sent
// or delivered in the last FollowUpLookbackDays days, that has no follow-up
// yet. Its kind is chosen from the engagement after the initial send.
func (p *planner) followUps(c *emailsched.Contact, o *outcome) {
	if p.s.followUpDelay < 0 {
		return // disabled
	}
	today := p.today
	oldest := today.AddDays(-p.s.followUpLookback)
	for i := range c.History {
		h := &c.History[i]
		if h.ID == 0 || (h.Status != emailsched.StatusSent && h.Status != emailsched.StatusDelivered) || !p.followsUp(h.Type) {
			continue
		}
		sent := sentDay(h)
		if sent.Before(oldest) || sent.After(today) || hasFollowUp(c.History, h.ID) {
			continue
		}
		kind, evidence := classify(c.Engagement, h)
		date := sent.AddDays(p.s.followUpDelay)
		if date.Before(today) {
			date = today.AddDays(1)
		}
		e := emailsched.Email{ContactID: c.ID, Type: kind, Date: date, Status: emailsched.StatusPreScheduled,
			Priority: h.Priority, Event: sent, CampaignInstanceID: h.CampaignInstanceID}
		if !p.counting { // the counting pass needs no metadata: save its allocations
			e.Metadata = followUpMetadata(h, sent, evidence.describe())
		}
		info := emailInfo{kind: kindFollowUp, respects: true}
		if p.tr != nil {
			info.notef("follows up row %d (%s sent %s): %s; send date %s", h.ID, h.Type, sent, evidence.describe(), date)
		}
		if st := storedFollowUp(c.Stored, h.ID); st != nil && !st.Date.Before(today) {
			p.keepStored(&e, st, true, &info)
		}
		o.add(e, info)
	}
}

// followsUp reports whether emails of type t get follow-ups.
func (p *planner) followsUp(t emailsched.EmailType) bool {
	if t.IsAnniversary() {
		return true
	}
	return p.camp.followUps[t]
}

// sentDay is the day an email went out: its SentAt in UTC when known, else
// its scheduled date.
func sentDay(h *emailsched.Email) datecalc.Date {
	if !h.SentAt.IsZero() {
		return datecalc.FromTime(h.SentAt.UTC())
	}
	return h.Date
}

// evidence is what decided a follow-up's kind: the engagement (nil for
// none) and a description of its kind.
type evidence struct {
	what string
	at   time.Time
}

func (ev evidence) describe() string {
	if ev.at.IsZero() {
		return ev.what
	}
	return ev.what + " at " + ev.at.UTC().Format(time.RFC3339)
}

// classify chooses the follow-up kind from the engagement at or after the
// initial email was sent: a health answer with a medical condition, a health
// answer without one, a click, or nothing (SPEC §6); the evidence is the
// first engagement of the chosen kind.
func classify(engagement []emailsched.Engagement, initial *emailsched.Email) (emailsched.EmailType, evidence) {
	since := initial.SentAt
	if since.IsZero() {
		since = initial.Date.Time(0, 0, time.UTC)
	}
	kind, ev, rank := emailsched.TypeFollowUpCold, evidence{what: "no engagement"}, 0
	for i := range engagement {
		g := &engagement[i]
		if g.At.Before(since) {
			continue
		}
		r, k, what := 0, emailsched.EmailType(""), ""
		switch {
		case g.Kind == emailsched.EngagementHealthAnswer && g.MedicalConditions:
			r, k, what = 3, emailsched.TypeFollowUpHQWithYes, "health answer with medical conditions"
		case g.Kind == emailsched.EngagementHealthAnswer:
			r, k, what = 2, emailsched.TypeFollowUpHQNoYes, "health answer without medical conditions"
		case g.Kind == emailsched.EngagementClick:
			r, k, what = 1, emailsched.TypeFollowUpClicked, "click"
		}
		if r > rank {
			kind, ev, rank = k, evidence{what: what, at: g.At}, r
		}
	}
	return kind, ev
}

// followUpMetadata names the initial email and the evidence in JSON. The
// values are identifiers, dates and fixed phrases: no escaping is needed.
func followUpMetadata(h *emailsched.Email, sent datecalc.Date, evidence string) string {
	var b strings.Builder
	b.WriteString(`{"initial_email_id":`)
	b.WriteString(strconv.FormatInt(h.ID, 10))
	b.WriteString(`,"initial_type":"`)
	b.WriteString(string(h.Type))
	b.WriteString(`","initial_sent":"`)
	b.WriteString(sent.String())
	b.WriteString(`","evidence":"`)
	b.WriteString(evidence)
	b.WriteString(`"}`)
	return b.String()
}

// initialEmailID reads the initial email's ID from a follow-up's metadata.
func initialEmailID(meta string) (int64, bool) {
	const key = `"initial_email_id":`
	i := strings.Index(meta, key)
	if i < 0 {
		return 0, false
	}
	rest := strings.TrimLeft(meta[i+len(key):], " ")
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	id, err := strconv.ParseInt(rest[:j], 10, 64)
	return id, err == nil
}

// hasFollowUp reports whether the history holds a follow-up (any status)
// of the initial email id.
func hasFollowUp(history []emailsched.Email, id int64) bool {
	for i := range history {
		if history[i].Type.IsFollowUp() {
			if got, ok := initialEmailID(history[i].Metadata); ok && got == id {
				return true
			}
		}
	}
	return false
}

// storedFollowUp returns the stored follow-up of the initial email id.
func storedFollowUp(stored []emailsched.Email, id int64) *emailsched.Email {
	for i := range stored {
		if stored[i].Type.IsFollowUp() {
			if got, ok := initialEmailID(stored[i].Metadata); ok && got == id {
				return &stored[i]
			}
		}
	}
	return nil
}
