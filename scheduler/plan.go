package scheduler

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/store"
)

// InvalidReason says why a contact got no plan at all.
type InvalidReason string

// The reasons a contact is invalid.
const (
	InvalidNoEmail InvalidReason = "no_email"      // the email field is empty
	InvalidEmail   InvalidReason = "invalid_email" // not a plausible address
	InvalidNoState InvalidReason = "no_state"      // neither ZIP nor state field give a state
	// The source could not yield the contact (store.LeftOutReporter):
	InvalidID          InvalidReason = store.LeftOutInvalidID   // its id is not an integer
	InvalidDuplicateID InvalidReason = store.LeftOutDuplicateID // an earlier contact has its id
)

// Describe says in plain words what a contact with reason r lacks, for
// reports and command-line output ("a contact with " + Describe()); a
// reason this package does not know is described by itself.
func (r InvalidReason) Describe() string {
	switch r {
	case InvalidNoEmail:
		return "no email address"
	case InvalidEmail:
		return "an email address that is not valid"
	case InvalidNoState:
		return "no state: neither the ZIP code nor the state field gives one"
	case InvalidID:
		return "an id that is not a whole number"
	case InvalidDuplicateID:
		return "the id of an earlier contact"
	}
	return string(r)
}

// CatchUpNote is written on emails whose ideal date had passed: they go out
// on a catch-up day (today … today + CatchUpSpreadDays − 1, never after the
// event).
const CatchUpNote = "catch-up: the ideal send date had passed"

// futureIssue is the suffix of the report key of an anchor date after the
// run date, for anchors declared NotAfterToday ("birth_date: in the
// future").
const futureIssue = ": in the future"

// emailKind tells the pipeline stage that produced an email.
type emailKind uint8

const (
	kindAnniversary emailKind = iota // birthday, effective_date, aep
	kindCampaign
	kindFollowUp
	kindPostWindow
)

// emailInfo is what the pipeline knows about a planned email beyond its
// row.
type emailInfo struct {
	kind emailKind
	// respects is set for emails that exclusion windows apply to.
	respects bool
	// smoothed: load balancing smooths the daily peaks of its type
	// (eventType.smoothed).
	smoothed bool
	// latest is the last legal day (the anniversary, the end of the AEP
	// send window or the campaign trigger);
	// zero when unbounded.
	latest datecalc.Date
	// trail explains the decisions about the email (Explain only).
	trail []string
}

// outcome is the plan of one contact.
type outcome struct {
	// deleted: the contact no longer exists (emailsched.Contact.Deleted);
	// its new plan is empty.
	deleted  bool
	invalid  InvalidReason
	optedOut bool
	state    rules.StateResolution
	// future lists the fields of the contact's anchor dates that lie after
	// today although their anchor forbids it (a birthday: invalid data).
	future []string
	// emails and info are parallel.
	emails []emailsched.Email
	info   []emailInfo
	// ap is the contact's applied rule, which load balancing consults
	// later, on another goroutine than the planner's.
	ap rules.Applied
	// tr is the decision trail of a traced contact (see planner.traceID),
	// which load balancing continues; nil for the others.
	tr *trace
}

func (o *outcome) reset() {
	*o = outcome{emails: o.emails[:0], info: o.info[:0], future: o.future[:0]}
}

// add appends an email built on the side (the planner uses next).
func (o *outcome) add(e emailsched.Email, info emailInfo) {
	o.emails = append(o.emails, e)
	o.info = append(o.info, info)
}

// next appends a zero email and its info to the plan and returns them, to
// be filled in place: an Email is over 200 bytes, and building it on the
// side would copy it.
func (o *outcome) next() (*emailsched.Email, *emailInfo) {
	o.emails = append(o.emails, emailsched.Email{})
	o.info = append(o.info, emailInfo{})
	n := len(o.emails) - 1
	return &o.emails[n], &o.info[n]
}

// block is an exclusion period that blocked at least one email.
type block struct {
	index int
	ann   datecalc.Date
	end   datecalc.Date
}

// planner turns one contact into its plan. It is pure: the same contact and
// day give the same outcome. A planner reuses its buffers and is not safe
// for concurrent use; use one per goroutine.
//
// A run plans millions of contacts, each twice with load balancing, against
// one run date: whatever depends only on the date and the settings is
// computed once, when the planner is made.
type planner struct {
	s     *settings
	today datecalc.Date
	year  int // today's
	camp  *campaignSet
	// counting is set during the counting pass of load balancing, which
	// needs the days, priorities and statuses of the emails and nothing
	// else: no metadata, no order, no follow-up kind.
	counting bool
	// replan is set when the stored plan was made with other settings
	// (Replan): stored dates give way to what these settings give, and
	// stored emails these settings would not plan are not carried forward.
	replan bool
	// tr collects the decision trail of the contact traceID while it is
	// planned; nil otherwise.
	tr      *trace
	traceID int64
	// ap is the rule applied to the contact being planned: the outcome's,
	// which is large enough not to copy.
	ap *rules.Applied
	// skipRespecting is set in the counting pass when the contact's rule
	// blocks every date (year-round, failed rule, missing anchor): every
	// email that respects windows would be skipped, so none is planned.
	// Such emails change nothing else: conflicts and the frequency limit
	// consider pre-scheduled emails only, and blocking rules have no
	// post-window email.
	skipRespecting bool

	blocks []block
	days   []datecalc.Date
	order  []int
	all    []datecalc.Date // scratch of applyFrequency
	// hist is the contact's committed history, read once per contact.
	hist []histRow
	// buf builds follow-up metadata.
	buf []byte

	// anns[i][m][d] is the anniversary of month m, day d in today's year
	// (i = 0) and the next (i = 1); zero for days that do not exist.
	anns [2][13][32]datecalc.Date
	// aepDays are the configured AEP days in today's year and the next,
	// aepEnds the last days of their send windows.
	aepDays, aepEnds [2][]datecalc.Date
	// freqFrom is the first day whose history counts towards the
	// frequency limit; followUpFrom the first day whose sent emails get a
	// follow-up.
	freqFrom, followUpFrom datecalc.Date
	// lastYear is January 1 of the year before today's.
	lastYear datecalc.Date
}

// histRow is a committed history email with what the planner asks about it
// again and again.
type histRow struct {
	e         *emailsched.Email
	eventYear int           // 0 when the row has no event
	day       datecalc.Date // the day it went out (sentDay)
}

func newPlanner(s *settings, today datecalc.Date, camp *campaignSet) *planner {
	if camp == nil {
		camp = newCampaignSet(emailsched.Campaigns{}, today)
	}
	p := &planner{s: s, today: today, year: today.Year(), camp: camp,
		freqFrom: today.AddDays(-s.freqPeriod + 1), followUpFrom: today.AddDays(-s.followUpLookback),
		lastYear: datecalc.Anniversary(today.Year()-1, time.January, 1)}
	for i := range p.anns {
		for m := time.January; m <= time.December; m++ {
			for d := 1; d <= 31; d++ {
				p.anns[i][m][d] = datecalc.Anniversary(p.year+i, m, d)
			}
		}
		p.aepDays[i] = make([]datecalc.Date, len(s.aep))
		p.aepEnds[i] = make([]datecalc.Date, len(s.aep))
		for k, md := range s.aep {
			p.aepDays[i][k] = md.In(p.year + i)
			p.aepEnds[i][k] = s.aepLast[k].In(p.year + i)
		}
	}
	return p
}

// plan computes the outcome of contact c. The stages run in this order:
// anniversaries, campaigns, follow-ups, exclusions,
// post-window, campaign conflicts, frequency limit.
func (p *planner) plan(c *emailsched.Contact, o *outcome) {
	o.reset()
	p.tr = nil
	if p.traceID != 0 && c.ID == p.traceID {
		p.tr = &trace{}
		o.tr = p.tr
	}
	if c.Deleted {
		o.deleted = true
		return
	}
	if r := checkEmail(c.Email); r != "" {
		o.invalid = r
		return
	}
	res, err := rules.ResolveState(c.ZIP, c.State)
	if err != nil {
		o.invalid = InvalidNoState
		return
	}
	o.state = res
	if c.DoNotCommunicate {
		o.optedOut = true
		return
	}
	today := p.today
	for i := range p.s.notAfterToday {
		// The rule reads such a date as missing (rules.Anchor.Read); the
		// report counts it as invalid data.
		if a := &p.s.notAfterToday[i]; a.Date(c).After(today) && !c.HasIssue(a.Field) {
			o.future = append(o.future, a.Field)
		}
	}
	o.ap = p.s.rules.Apply(c, res.State, today)
	p.ap = &o.ap
	p.skipRespecting = false
	if p.counting && p.ap.CanExclude() {
		_, p.skipRespecting = p.ap.Blocking()
	}
	p.hist = p.hist[:0]
	for i := range c.History {
		if h := &c.History[i]; h.Status.Committed() {
			p.hist = append(p.hist, histRow{e: h, eventYear: h.Event.Year(), day: sentDay(h)})
		}
	}

	for i := range p.s.events {
		ev := &p.s.events[i]
		if ann, year := p.nextEvent(ev.eventType, c); !ann.IsZero() {
			p.anniversary(c, o, ev, ann, year)
		}
	}
	p.campaigns(c, o, res.State)
	p.followUps(c, o)
	p.exclude(o)
	p.postWindows(c, o)
	p.resolveConflicts(o)
	p.applyFrequency(o)
	if !p.counting { // counting needs the emails, not their order
		sortOutcome(o)
	}
}

// sortOutcome orders the plan by date, type, event and campaign. Plans are
// short and usually nearly sorted: an insertion sort that moves each email
// once is cheaper than sort.Sort's swaps of large structs.
func sortOutcome(o *outcome) {
	for i := 1; i < len(o.emails); i++ {
		if compareEmails(&o.emails[i-1], &o.emails[i]) <= 0 {
			continue
		}
		e, info := o.emails[i], o.info[i]
		j := i
		for j > 0 && compareEmails(&o.emails[j-1], &e) > 0 {
			j--
		}
		copy(o.emails[j+1:i+1], o.emails[j:i])
		copy(o.info[j+1:i+1], o.info[j:i])
		o.emails[j], o.info[j] = e, info
	}
}

// nextAnniversary is the first anniversary of month/day (a day of the
// year) on or after today (Date.NextAnniversary from today, looked up), and
// the anniversary's year.
func (p *planner) nextAnniversary(m time.Month, d int) (datecalc.Date, int) {
	if ann := p.anns[0][m][d]; !ann.Before(p.today) {
		return ann, p.year
	}
	return p.anns[1][m][d], p.year + 1
}

// aepDate chooses the contact's AEP day: the configured day (by stable hash
// when several) of this year's cycle while its send window is still open
// (today on or before its last day), else of next year's cycle, whose days
// all lie after today; and the cycle's year.
func (p *planner) aepDate(c *emailsched.Contact) (datecalc.Date, int) {
	if k := p.aepIndex(c.ID, 0); !p.aepEnds[0][k].Before(p.today) {
		return p.aepDays[0][k], p.year
	}
	return p.aepDays[1][p.aepIndex(c.ID, 1)], p.year + 1
}

// aepLast is the last day of the send window of the contact's AEP email of
// the cycle of year.
func (p *planner) aepLast(c *emailsched.Contact, year int) datecalc.Date {
	i := year - p.year
	return p.aepEnds[i][p.aepIndex(c.ID, i)]
}

// aepIndex is the index of the contact's AEP day in today's year (i = 0)
// or the next (1).
func (p *planner) aepIndex(id int64, i int) int {
	n := len(p.aepDays[i])
	if n == 1 {
		return 0
	}
	h := datecalc.StableHash(id, string(emailsched.TypeAEP), p.year+i)
	return datecalc.Spread(h, n)
}

// anniversary plans the email of event type ev for the event ann of year
// annYear, its lead time before ann, unless history shows the sending
// system already has it.
func (p *planner) anniversary(c *emailsched.Contact, o *outcome, ev *eventSettings, ann datecalc.Date, annYear int) {
	if p.skipRespecting {
		return
	}
	typ, ideal := ev.typ, ann.AddDays(-ev.before)
	if p.committed(typ, ann, annYear) {
		if p.tr != nil {
			p.tr.notef("%s for %s: not planned, the sending system already has it (history)", typ, ann)
		}
		return
	}
	today := p.today
	e, info := o.next()
	e.ContactID, e.Type, e.Date, e.Status, e.Priority, e.Event = c.ID, typ, ideal, emailsched.StatusPreScheduled, ev.priority, ann
	latest := ann
	if ev.latest != nil {
		latest = ev.latest(p, c, annYear)
	}
	info.kind, info.respects, info.latest, info.smoothed = kindAnniversary, true, latest, ev.smoothed
	if p.tr != nil {
		info.notef("event %s; ideal send date %s (%d days before)", ann, ideal, ideal.DaysUntil(ann))
		if latest != ann {
			info.notef("send window %s to %s", ann, latest)
		}
	}
	if ideal.Before(today) {
		h := datecalc.StableHash(c.ID, string(typ), annYear)
		e.Date = datecalc.Min(today.AddDays(datecalc.Spread(h, p.s.catchUp)), latest)
		e.CatchUpNote = CatchUpNote
		if p.tr != nil {
			info.notef("catch-up: the ideal date has passed; today + (hash mod %d) = %s, never after %s", p.s.catchUp, e.Date, latest)
		}
	}
	if st := storedRow(c, typ, ann); st != nil && !st.Date.Before(today) && !st.Date.After(latest) {
		p.keepStored(e, st, true, info)
	}
}

// keepStored gives e the date of its stored row while that date is legal,
// so that plans are stable from day to day. For an email that windows apply
// to, a stored date that is excluded is kept only when the new date would
// be excluded too (the row stays skipped rather than moving).
func (p *planner) keepStored(e *emailsched.Email, st *emailsched.Email, respects bool, info *emailInfo) {
	if p.replan {
		if p.tr != nil && (st.Date != e.Date || st.Status != e.Status) {
			info.notef("stored date %s (row %d) not kept: the settings changed since the stored plan", st.Date, st.ID)
		}
		return
	}
	if respects && st.Date != e.Date && p.ap.CanExclude() {
		if p.ap.Excludes(st.Date) {
			if !p.ap.Excludes(e.Date) {
				if p.tr != nil {
					info.notef("stored date %s (row %d) is now excluded: moved to %s", st.Date, st.ID, e.Date)
				}
				return
			}
		}
	}
	if p.tr != nil && st.Date != e.Date {
		info.notef("keeps its stored date %s (row %d): still legal", st.Date, st.ID)
	}
	e.ID = st.ID
	e.Date = st.Date
	e.CatchUpNote = st.CatchUpNote
}

// exclude marks every email that windows apply to and that falls in an
// exclusion period as skipped, and records the windows that blocked them.
func (p *planner) exclude(o *outcome) {
	p.blocks = p.blocks[:0]
	if !p.ap.CanExclude() {
		return // most states: nothing to check
	}
	// A rule that blocks every date excludes every email alike.
	x, blocking := p.ap.Blocking()
	for i := range o.emails {
		e := &o.emails[i]
		if !o.info[i].respects {
			continue
		}
		if !blocking {
			var ok bool
			if x, ok = p.ap.Excluded(e.Date); !ok {
				continue
			}
		}
		e.Status, e.SkipReason = emailsched.StatusSkipped, x.Reason
		if p.tr != nil {
			o.info[i].notef("skipped on %s: %s", e.Date, p.tr.describe(x))
		}
		if x.YearRound || x.Unknown {
			continue
		}
		b := block{index: x.Index, ann: x.Anniversary, end: x.Period.End}
		if !slices.Contains(p.blocks, b) {
			p.blocks = append(p.blocks, b)
		}
	}
}

// postWindows plans one post_window email per blocking window, on the first
// day after it that no window excludes, and carries forward stored
// post_window emails whose blocking email has since left the plan (its
// event passed) while their day is still ahead and legal.
func (p *planner) postWindows(c *emailsched.Contact, o *outcome) {
	n := len(o.emails)
	for _, b := range p.blocks {
		if p.committed(emailsched.TypePostWindow, b.ann, b.ann.Year()) || planned(o.emails[n:], b.ann) {
			continue
		}
		e, info := o.next()
		e.ContactID, e.Type, e.Status, e.Priority, e.Event = c.ID, emailsched.TypePostWindow, emailsched.StatusPreScheduled, p.s.prioPostWindow, b.ann
		info.kind, info.respects = kindPostWindow, true
		after := b.end.AddDays(1)
		d, ok := p.ap.NextAllowed(after)
		if !ok {
			x, _ := p.ap.Excluded(after)
			e.Date, e.Status, e.SkipReason = after, emailsched.StatusSkipped, x.Reason
			if p.tr != nil {
				info.notef("the window of %s ends %s, but no day within two years after it is free", b.ann, b.end)
			}
			continue
		}
		e.Date = d
		if p.tr != nil {
			info.notef("the window of the anniversary %s blocked an email and ends %s; first day no window excludes: %s", b.ann, b.end, d)
		}
		if st := storedRow(c, emailsched.TypePostWindow, b.ann); st != nil && !st.Date.Before(p.today) {
			p.keepStored(e, st, true, info)
		}
	}
	if p.replan {
		return // a plan of these settings made from scratch has no such email
	}
	for i := range c.Stored {
		st := &c.Stored[i]
		// A row the frequency limit skipped is carried too, and meets the
		// limit again: dropping it would make the next run's plan differ.
		if st.Type != emailsched.TypePostWindow || st.Status != emailsched.StatusPreScheduled && st.SkipReason != emailsched.ReasonFrequencyLimit ||
			st.Date.Before(p.today) || planned(o.emails[n:], st.Event) || p.committed(emailsched.TypePostWindow, st.Event, st.Event.Year()) {
			continue
		}
		if p.ap.Excludes(st.Date) {
			continue
		}
		e, info := o.next()
		e.ID, e.ContactID, e.Type, e.Status, e.Priority, e.Event, e.Date = st.ID, c.ID, emailsched.TypePostWindow,
			emailsched.StatusPreScheduled, p.s.prioPostWindow, st.Event, st.Date
		info.kind, info.respects = kindPostWindow, true
		if p.tr != nil {
			info.notef("carried forward from the stored plan (row %d): its window has passed, its day is ahead and legal", st.ID)
		}
	}
}

// planned reports whether a post_window email for event is among es.
func planned(es []emailsched.Email, event datecalc.Date) bool {
	for i := range es {
		if es[i].Event == event {
			return true
		}
	}
	return false
}

// committed reports whether the sending system already has an email of type
// typ for the event: a history row of that type with a committed status
// whose event year is the event's (year), or, for rows without an event,
// whose date lies in the year up to the event.
func (p *planner) committed(typ emailsched.EmailType, event datecalc.Date, year int) bool {
	for i := range p.hist {
		h := &p.hist[i]
		if h.e.Type != typ {
			continue
		}
		if h.eventYear == 0 {
			if !h.e.Date.After(event) && h.e.Date.After(event.AddDays(-365)) {
				return true
			}
			continue
		}
		if h.eventYear == year {
			return true
		}
	}
	return false
}

// storedRow returns the stored planned row of type typ for event, or nil.
func storedRow(c *emailsched.Contact, typ emailsched.EmailType, event datecalc.Date) *emailsched.Email {
	for i := range c.Stored {
		if st := &c.Stored[i]; st.Type == typ && st.Event == event && st.Status.IsPlanned() {
			return st
		}
	}
	return nil
}

// compareEmails orders a contact's plan: by date, type, event, campaign.
// Each key is compared only when the ones before tie.
func compareEmails(a, b *emailsched.Email) int {
	if c := a.Date.Compare(b.Date); c != 0 {
		return c
	}
	if a.Type != b.Type {
		return strings.Compare(string(a.Type), string(b.Type))
	}
	return cmp.Or(a.Event.Compare(b.Event), cmp.Compare(a.CampaignInstanceID, b.CampaignInstanceID))
}

// checkEmail returns why addr is not a plausible email address, or "".
// Plausible: 3-254 bytes after trimming spaces, exactly one '@' with a
// non-empty local part, a domain with a dot that neither starts nor ends
// it, and no spaces or control characters.
func checkEmail(addr string) InvalidReason {
	// Every contact of both passes comes through here: trim only when an
	// end may be a space (strings.TrimSpace keeps printable ASCII).
	if n := len(addr); n == 0 || !printable(addr[0]) || !printable(addr[n-1]) {
		addr = strings.TrimSpace(addr)
		if addr == "" {
			return InvalidNoEmail
		}
	}
	at := strings.IndexByte(addr, '@')
	if len(addr) > 254 || at < 1 || strings.IndexByte(addr[at+1:], '@') >= 0 {
		return InvalidEmail
	}
	domain := addr[at+1:]
	dot := strings.LastIndexByte(domain, '.')
	if dot < 1 || dot == len(domain)-1 || domain[0] == '.' {
		return InvalidEmail
	}
	for i := 0; i < len(addr); i++ {
		if addr[i] <= ' ' || addr[i] == 0x7f {
			return InvalidEmail
		}
	}
	return ""
}

// printable reports whether c is printable ASCII other than the space.
func printable(c byte) bool { return c > ' ' && c < 0x7f }
