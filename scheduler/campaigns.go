package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// campaignSet is the part of the campaign catalogue that can plan email on
// the run date: active instances of active types, with their email types
// computed once.
type campaignSet struct {
	instances []activeInstance
	byID      map[int64]int // instance ID → index in instances
	all       []int         // indexes of the target_all_contacts instances
	// followUps tells, per campaign email type, whether its type enables
	// follow-ups (every type of the catalogue, active or not).
	followUps map[emailsched.EmailType]bool
	// issues describes catalogue entries that were ignored.
	issues []string
}

type activeInstance struct {
	inst     *emailsched.CampaignInstance
	typ      *emailsched.CampaignType
	mailType emailsched.EmailType
	carriers []string // lower case
}

// newCampaignSet selects what is active on today.
func newCampaignSet(cat emailsched.Campaigns, today datecalc.Date) *campaignSet {
	cs := &campaignSet{byID: map[int64]int{}, followUps: map[emailsched.EmailType]bool{}}
	types := map[string]*emailsched.CampaignType{}
	for i := range cat.Types {
		t := &cat.Types[i]
		mt, err := emailsched.CampaignEmailType(t.Name)
		if err != nil {
			cs.issues = append(cs.issues, fmt.Sprintf("campaign type %q ignored: %v", t.Name, err))
			continue
		}
		if _, dup := types[t.Name]; dup {
			cs.issues = append(cs.issues, fmt.Sprintf("campaign type %q defined twice: the first definition is used", t.Name))
			continue
		}
		types[t.Name] = t
		cs.followUps[mt] = t.EnableFollowUps
	}
	for i := range cat.Instances {
		in := &cat.Instances[i]
		t, ok := types[in.Type]
		switch {
		case !ok:
			cs.issues = append(cs.issues, fmt.Sprintf("campaign instance %d ignored: unknown type %q", in.ID, in.Type))
			continue
		case !t.Active || !in.ActiveOn(today):
			continue
		}
		if _, dup := cs.byID[in.ID]; dup {
			cs.issues = append(cs.issues, fmt.Sprintf("campaign instance %d defined twice: the first definition is used", in.ID))
			continue
		}
		ai := activeInstance{inst: in, typ: t, mailType: emailsched.EmailType("campaign_" + t.Name)}
		for _, c := range in.TargetCarriers {
			ai.carriers = append(ai.carriers, strings.ToLower(strings.TrimSpace(c)))
		}
		cs.byID[in.ID] = len(cs.instances)
		if t.TargetAllContacts {
			cs.all = append(cs.all, len(cs.instances))
		}
		cs.instances = append(cs.instances, ai)
	}
	return cs
}

// targets reports whether the instance's state and carrier filters admit
// the contact.
func (ai *activeInstance) targets(c *emailsched.Contact, st emailsched.State) bool {
	if len(ai.inst.TargetStates) > 0 && !slices.Contains(ai.inst.TargetStates, st) {
		return false
	}
	if len(ai.carriers) > 0 && !slices.Contains(ai.carriers, strings.ToLower(strings.TrimSpace(c.Carrier))) {
		return false
	}
	return true
}

// campaigns plans the contact's campaign emails: one per enrolment in an
// active instance and one per active target_all_contacts instance.
func (p *planner) campaigns(c *emailsched.Contact, o *outcome, st emailsched.State) {
	cs := p.camp
	if len(cs.instances) == 0 {
		return
	}
	for i := range c.Campaigns {
		t := &c.Campaigns[i]
		k, ok := cs.byID[t.InstanceID]
		if !ok || t.Trigger.IsZero() || cs.instances[k].typ.TargetAllContacts {
			continue
		}
		p.campaignEmail(c, o, &cs.instances[k], st, t.Trigger, false)
	}
	for _, k := range cs.all {
		ai := &cs.instances[k]
		trigger := datecalc.Max(ai.inst.Start, p.today)
		p.campaignEmail(c, o, ai, st, trigger, true)
	}
}

// campaignEmail plans one campaign email for trigger. For an instance that
// targets all contacts the trigger moves with the run date, so its email is
// identified by the instance alone: planned once per contact, and a stored
// one keeps its date and event.
func (p *planner) campaignEmail(c *emailsched.Contact, o *outcome, ai *activeInstance, st emailsched.State, trigger datecalc.Date, all bool) {
	if (p.skipRespecting && ai.typ.RespectExclusionWindows) || !ai.targets(c, st) || campaignCommitted(c, ai, trigger, all) || plannedCampaign(o, ai.inst.ID, trigger) {
		return
	}
	today := p.today
	sr := storedCampaign(c, ai.inst.ID, trigger, all)
	if all && sr != nil && !sr.Event.IsZero() {
		if p.campaignPassed(ai, sr.Event) {
			// The stored email's day passed without the sending system
			// taking it: it is planned afresh, as it would be without the
			// row, so that the next run finds the same plan.
			sr = nil
		} else {
			trigger = sr.Event // the trigger chosen when the email was first planned
		}
	}
	if p.campaignPassed(ai, trigger) {
		return // its event (or the instance) has passed
	}
	ideal := trigger.AddDays(-ai.typ.DaysBeforeEvent)
	latest := campaignLatest(ai, trigger)
	e, info := o.next()
	e.ContactID, e.Type, e.Date, e.Status, e.Priority, e.Event, e.CampaignInstanceID = c.ID, ai.mailType, ideal,
		emailsched.StatusPreScheduled, ai.typ.Priority, trigger, ai.inst.ID
	e.EmailTemplate, e.SMSTemplate = ai.inst.EmailTemplate, ai.inst.SMSTemplate
	info.kind, info.respects, info.latest = kindCampaign, ai.typ.RespectExclusionWindows, latest
	if ideal.Before(today) {
		h := datecalc.StableHash(c.ID, string(ai.mailType), trigger.Year())
		e.Date = today.AddDays(datecalc.Spread(h, p.s.catchUp))
		if !latest.IsZero() {
			e.Date = datecalc.Min(e.Date, latest)
		}
		e.CatchUpNote = CatchUpNote
	}
	if p.tr != nil {
		info.notef("campaign instance %d (%s), trigger %s, %d days before the event: ideal date %s; respects exclusion windows: %v",
			ai.inst.ID, ai.inst.Name, trigger, ai.typ.DaysBeforeEvent, ideal, info.respects)
		if e.CatchUpNote != "" {
			info.notef("catch-up: the ideal date has passed; goes out on %s", e.Date)
		}
	}
	if sr != nil && !sr.Date.Before(today) && (latest.IsZero() || !sr.Date.After(latest)) {
		p.keepStored(e, sr, info.respects, info)
	}
}

// campaignLatest is the last legal day of the instance's email for
// trigger: the trigger for emails sent before their event, the instance's
// end (zero when open-ended) for emails sent after it.
func campaignLatest(ai *activeInstance, trigger datecalc.Date) datecalc.Date {
	if ai.typ.DaysBeforeEvent < 0 {
		return ai.inst.End
	}
	return trigger
}

// campaignPassed reports whether the instance's email for trigger can no
// longer go out: its ideal day and its latest day have both passed.
func (p *planner) campaignPassed(ai *activeInstance, trigger datecalc.Date) bool {
	latest := campaignLatest(ai, trigger)
	return trigger.AddDays(-ai.typ.DaysBeforeEvent).Before(p.today) && !latest.IsZero() && latest.Before(p.today)
}

// campaignCommitted reports whether the sending system already has this
// campaign email: same instance and trigger (any trigger for instances that
// target all contacts).
func campaignCommitted(c *emailsched.Contact, ai *activeInstance, trigger datecalc.Date, all bool) bool {
	for i := range c.History {
		h := &c.History[i]
		if h.CampaignInstanceID == ai.inst.ID && h.Type == ai.mailType && h.Status.Committed() && (all || h.Event.IsZero() || h.Event == trigger) {
			return true
		}
	}
	return false
}

// plannedCampaign reports whether the plan already holds the instance's
// email for trigger (a contact enrolled twice).
func plannedCampaign(o *outcome, id int64, trigger datecalc.Date) bool {
	for i := range o.emails {
		if o.emails[i].CampaignInstanceID == id && o.emails[i].Event == trigger && o.info[i].kind == kindCampaign {
			return true
		}
	}
	return false
}

// storedCampaign returns the stored row of the instance's email, or nil.
func storedCampaign(c *emailsched.Contact, id int64, trigger datecalc.Date, all bool) *emailsched.Email {
	for i := range c.Stored {
		s := &c.Stored[i]
		if s.CampaignInstanceID == id && !s.Type.IsFollowUp() && (all || s.Event == trigger) {
			if _, ok := s.Type.Campaign(); ok {
				return s
			}
		}
	}
	return nil
}

// resolveConflicts keeps one campaign email per day: among the
// pre-scheduled campaign emails of a day, the lowest priority number wins
// (ties: the lower instance ID, then the earlier trigger); the others are
// skipped.
func (p *planner) resolveConflicts(o *outcome) {
	n := 0
	for i := range o.info {
		if o.info[i].kind == kindCampaign {
			n++
		}
	}
	if n < 2 {
		return // the usual case: no campaign email can conflict
	}
	for i := range o.emails {
		a := &o.emails[i]
		if o.info[i].kind != kindCampaign || a.Status != emailsched.StatusPreScheduled {
			continue
		}
		for j := range o.emails {
			b := &o.emails[j]
			if j == i || o.info[j].kind != kindCampaign || b.Status != emailsched.StatusPreScheduled || b.Date != a.Date {
				continue
			}
			if cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(b.CampaignInstanceID, a.CampaignInstanceID), cmp.Compare(j, i)) < 0 {
				a.Status, a.SkipReason = emailsched.StatusSkipped, emailsched.ReasonCampaignConflict
				if p.tr != nil {
					o.info[i].notef("skipped: campaign conflict on %s with instance %d, priority %d against %d (the lower priority number wins, then the lower instance id)",
						a.Date, b.CampaignInstanceID, b.Priority, a.Priority)
				}
				break
			}
		}
	}
}
