package scheduler

import (
	"strconv"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// followUps plans one follow-up per recent initial email: an
// anniversary email or a campaign email whose type enables follow-ups, sent
// or delivered in the last FollowUpLookbackDays days, that has no follow-up
// yet. Its kind is chosen from the engagement after the initial send.
func (p *planner) followUps(c *emailsched.Contact, o *outcome) {
	if p.s.followUpDelay < 0 || p.skipRespecting {
		return // disabled, or all would be skipped
	}
	today := p.today
	for i := range p.hist { // sent and delivered are committed statuses
		hr := &p.hist[i]
		h, sent := hr.e, hr.day
		// The cheap tests first: most history went out long ago.
		if sent.Before(p.followUpFrom) || sent.After(today) || h.ID == 0 ||
			(h.Status != emailsched.StatusSent && h.Status != emailsched.StatusDelivered) ||
			!p.followsUp(h.Type) || hasFollowUp(c.History, h.ID) {
			continue
		}
		date := sent.AddDays(p.s.followUpDelay)
		if date.Before(today) {
			date = today.AddDays(1)
		}
		// The counting pass needs neither the kind (a follow-up counts the
		// same whatever it is) nor the metadata.
		kind, ev := emailsched.TypeFollowUpCold, evidence{}
		if !p.counting {
			kind, ev = classify(c.Engagement, h)
		}
		st := storedFollowUp(c.Stored, h.ID)
		e, info := o.next()
		e.ContactID, e.Type, e.Date, e.Status, e.Priority, e.Event, e.CampaignInstanceID = c.ID, kind, date,
			emailsched.StatusPreScheduled, h.Priority, sent, h.CampaignInstanceID
		info.kind, info.respects = kindFollowUp, true
		if !p.counting {
			p.buf = appendFollowUpMetadata(p.buf[:0], h, sent, ev)
			if st != nil && st.Metadata == string(p.buf) {
				e.Metadata = st.Metadata // unchanged: no new string
			} else {
				e.Metadata = string(p.buf)
			}
		}
		if p.tr != nil {
			info.notef("follows up row %d (%s sent %s): %s; send date %s", h.ID, h.Type, sent, ev.describe(), date)
		}
		if st != nil && !st.Date.Before(today) {
			p.keepStored(e, st, true, info)
		}
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
	return string(ev.appendTo(nil))
}

// appendTo appends the description of ev to b.
func (ev evidence) appendTo(b []byte) []byte {
	b = append(b, ev.what...)
	if !ev.at.IsZero() {
		b = append(b, " at "...)
		b = ev.at.UTC().AppendFormat(b, time.RFC3339)
	}
	return b
}

// classify chooses the follow-up kind from the engagement at or after the
// initial email was sent: a health answer with a medical condition, a health
// answer without one, a click, or nothing; the evidence is the
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

// appendFollowUpMetadata appends the JSON that names the initial email
// and the evidence to b. The values are identifiers, dates and fixed
// phrases: no escaping is needed.
func appendFollowUpMetadata(b []byte, h *emailsched.Email, sent datecalc.Date, ev evidence) []byte {
	b = append(b, `{"initial_email_id":`...)
	b = strconv.AppendInt(b, h.ID, 10)
	b = append(b, `,"initial_type":"`...)
	b = append(b, h.Type...)
	b = append(b, `","initial_sent":"`...)
	b = sent.AppendFormat(b)
	b = append(b, `","evidence":"`...)
	b = ev.appendTo(b)
	b = append(b, `"}`...)
	return b
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
