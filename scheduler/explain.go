package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/store"
)

// ErrContactNotFound is returned by Explain for a contact the source does
// not hold.
var ErrContactNotFound = errors.New("scheduler: no such contact")

// Explanation is the decision trail of one contact on one day: how its state
// was resolved, which rule applies and its exclusion periods, and for each
// email of its new plan every decision that shaped it. Its JSON field names
// are stable.
type Explanation struct {
	ContactID int64         `json:"contact_id"`
	Today     datecalc.Date `json:"today"`
	// Invalid is set for a contact that gets no plan; OptedOut for one
	// with do_not_communicate.
	Invalid  InvalidReason `json:"invalid,omitempty"`
	OptedOut bool          `json:"opted_out,omitempty"`

	State         string `json:"state,omitempty"`
	StateSource   string `json:"state_source,omitempty"`
	StateField    string `json:"state_field,omitempty"`
	StateMismatch bool   `json:"state_mismatch,omitempty"`

	// Rule is the applied rule in the rule-file syntax, written at
	// RuleOrigin; RuleError is set when it failed for this contact.
	Rule       string `json:"rule,omitempty"`
	RuleOrigin string `json:"rule_origin,omitempty"`
	RuleError  string `json:"rule_error,omitempty"`
	// Blocking is set when the rule excludes every day (year-round state,
	// unknown window, failed rule), with the reason.
	Blocking emailsched.SkipReason `json:"blocking,omitempty"`
	// Periods are the exclusion periods from today to a year ahead.
	Periods []ExplainedPeriod `json:"periods,omitempty"`
	// Notes are decisions about the contact rather than one email (an
	// email not planned because the history has it).
	Notes []string `json:"notes,omitempty"`
	// Emails is the new plan, each email with its trail.
	Emails []ExplainedEmail `json:"emails"`
	// LoadFrom says where load balancing took the per-day volume from:
	// a counting pass (LoadCounted: the dates are the run's), the stored
	// plan's of LoadPlanDate (LoadStored: for a contact read alone, an
	// estimate), or nowhere (LoadUnknown: balancing moved nothing). Empty
	// when balancing is off.
	LoadFrom     LoadOrigin    `json:"load_from,omitempty"`
	LoadPlanDate datecalc.Date `json:"load_plan_date,omitzero"`
	// Estimate is set when the contact was read alone with a stored
	// volume: the dates balancing gives are an estimate.
	Estimate bool `json:"estimate,omitempty"`
	// Replan is set when the stored plan was made with other settings:
	// stored dates were not kept (see Report.Replan).
	Replan Replan `json:"replan,omitzero"`
	// Deleted lists the stored rows a run would delete, in words.
	Deleted []string `json:"deleted_rows,omitempty"`
}

// ExplainedPeriod is one exclusion period of the contact's rule.
type ExplainedPeriod struct {
	Window      string                `json:"window"`
	Anniversary datecalc.Date         `json:"anniversary"`
	Start       datecalc.Date         `json:"start"`
	End         datecalc.Date         `json:"end"`
	Reason      emailsched.SkipReason `json:"reason"`
}

// ExplainedEmail is one email of the plan and why it is what it is.
type ExplainedEmail struct {
	Type       emailsched.EmailType  `json:"type"`
	Date       datecalc.Date         `json:"date"`
	Status     emailsched.Status     `json:"status"`
	SkipReason emailsched.SkipReason `json:"skip_reason,omitempty"`
	Event      datecalc.Date         `json:"event,omitempty"`
	Priority   int                   `json:"priority"`
	Campaign   int64                 `json:"campaign_instance_id,omitempty"`
	Trail      []string              `json:"trail"`
	// Row says what a run writes for it: "new row", "keeps row N" (its
	// stored row is unchanged) or "updates row N (was ...)".
	Row string `json:"row"`
}

// Explain returns the decision trail of contact id for today (see Today).
// See ExplainAt.
func (s *Scheduler) Explain(ctx context.Context, src store.ContactSource, id int64) (*Explanation, error) {
	return s.ExplainAt(ctx, s.Today(), src, id)
}

// ExplainAt plans contact id of src as RunAt would, writing nothing, and
// returns its decision trail. It is the same run as RunAt's, watched: the
// run stops once the contact is planned.
//
// A source that can look a contact up (store.ContactLookup, as store/sqlite
// can) is read for that contact alone, so that an explanation is instant
// whatever the size of the organisation. Load balancing then starts from
// the per-day volume the source stored with its plan (store.LoadSource),
// when it fits, and does not know how the contacts before this one moved:
// the dates it gives are an estimate, which the explanation says
// (LoadFrom); without a stored volume balancing moves nothing. Another
// source is read, after a counting pass when there is no stored volume, up
// to the contact: the explanation is then exactly what RunAt does.
//
// It returns ErrContactNotFound when the source has no such contact.
func (s *Scheduler) ExplainAt(ctx context.Context, today datecalc.Date, src store.ContactSource, id int64) (*Explanation, error) {
	if lk, ok := src.(store.ContactLookup); ok {
		c, err := lk.Contact(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: %d", ErrContactNotFound, id)
		}
		if err != nil {
			return nil, fmt.Errorf("scheduler: reading contact %d: %w", id, err)
		}
		src = oneContact{ContactSource: src, c: c}
	}
	_, one := src.(oneContact)
	x := &explainer{id: id, today: today, one: one}
	rep, err := s.execute(ctx, today, src, nil, x)
	if err != nil {
		return nil, err
	}
	if x.ex == nil {
		return nil, fmt.Errorf("%w: %d", ErrContactNotFound, id)
	}
	x.ex.LoadFrom, x.ex.LoadPlanDate = rep.LoadFrom, rep.LoadPlanDate
	x.ex.Estimate = one && rep.LoadFrom == LoadStored
	x.ex.Replan = rep.Replan
	return x.ex, nil
}

// explainer watches a run for the contact it explains.
type explainer struct {
	id    int64
	today datecalc.Date
	one   bool // the run reads that contact alone
	ex    *Explanation
}

func (x *explainer) trace() int64   { return x.id }
func (x *explainer) estimate() bool { return x.one }

func (x *explainer) see(c *emailsched.Contact, o *outcome, d *store.Delta) error {
	switch {
	case c.ID < x.id:
		return nil
	case c.ID == x.id && !c.Deleted:
		x.ex = explanation(x.today, c, o)
		explainRows(x.ex, c, o, d)
	}
	return errStop
}

// explainRows says what a run writes for each email of the plan, and which
// stored rows it deletes.
func explainRows(ex *Explanation, c *emailsched.Contact, o *outcome, d *store.Delta) {
	for i := range o.emails {
		e, row := &o.emails[i], &ex.Emails[i].Row
		*row = "keeps its stored row"
		for j := range d.Insert {
			if d.Insert[j].SameContent(e) {
				*row = "new row"
			}
		}
		for j := range d.Update {
			if u := &d.Update[j]; u.SameContent(e) {
				for k := range c.Stored {
					if st := &c.Stored[k]; st.ID == u.ID {
						*row = fmt.Sprintf("updates row %d (%s)", u.ID, rowChanges(st, u))
					}
				}
			}
		}
		if *row == "keeps its stored row" {
			for j := range c.Stored {
				if st := &c.Stored[j]; st.SameContent(e) {
					*row = fmt.Sprintf("keeps row %d unchanged", st.ID)
				}
			}
		}
	}
	for _, e := range d.Delete {
		ex.Deleted = append(ex.Deleted, fmt.Sprintf("row %d (%s %s %s)", e.ID, e.Type, e.Date, describeStatus(&e)))
	}
}

// rowChanges says what differs between a stored row and what replaces it.
func rowChanges(was, now *emailsched.Email) string {
	var ch []string
	add := func(what string, a, b any) { ch = append(ch, fmt.Sprintf("%s %v → %v", what, a, b)) }
	if was.Type != now.Type {
		add("type", was.Type, now.Type)
	}
	if was.Date != now.Date {
		add("date", was.Date, now.Date)
	}
	if was.Status != now.Status || was.SkipReason != now.SkipReason {
		add("status", describeStatus(was), describeStatus(now))
	}
	if was.Event != now.Event {
		add("event", was.Event, now.Event)
	}
	if was.Priority != now.Priority {
		add("priority", was.Priority, now.Priority)
	}
	if was.CampaignInstanceID != now.CampaignInstanceID {
		add("campaign instance", was.CampaignInstanceID, now.CampaignInstanceID)
	}
	if was.CatchUpNote != now.CatchUpNote {
		ch = append(ch, "catch-up note")
	}
	if was.EmailTemplate != now.EmailTemplate || was.SMSTemplate != now.SMSTemplate {
		ch = append(ch, "templates")
	}
	if was.Metadata != now.Metadata {
		ch = append(ch, "metadata")
	}
	return strings.Join(ch, ", ")
}

// describeStatus is a row's status with its skip reason.
func describeStatus(e *emailsched.Email) string {
	if e.SkipReason != "" {
		return fmt.Sprintf("%s: %s", e.Status, e.SkipReason)
	}
	return string(e.Status)
}

// oneContact is a source of one contact, looked up in the source it
// wraps, which keeps giving the campaign catalogue, the stored load and the
// stored plan's settings.
type oneContact struct {
	store.ContactSource
	c *emailsched.Contact
}

func (o oneContact) Contacts(context.Context) iter.Seq2[*emailsched.Contact, error] {
	return func(yield func(*emailsched.Contact, error) bool) { yield(o.c, nil) }
}

func (o oneContact) Campaigns(ctx context.Context) (emailsched.Campaigns, error) {
	if cs, ok := o.ContactSource.(store.CampaignSource); ok {
		return cs.Campaigns(ctx)
	}
	return emailsched.Campaigns{}, nil
}

func (o oneContact) StoredLoad(ctx context.Context) (store.PlanLoad, bool, error) {
	if ls, ok := o.ContactSource.(store.LoadSource); ok {
		return ls.StoredLoad(ctx)
	}
	return store.PlanLoad{}, false, nil
}

func (o oneContact) StoredIdentities(ctx context.Context) ([]store.PlanIdentity, error) {
	if is, ok := o.ContactSource.(store.IdentitySource); ok {
		return is.StoredIdentities(ctx)
	}
	return nil, nil
}

// trace collects the contact-level notes of an explanation.
type trace struct {
	notes []string
}

func (t *trace) notef(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// describe says in words what an exclusion is.
func (t *trace) describe(x rules.Exclusion) string {
	switch {
	case x.YearRound:
		return string(x.Reason) + " (no marketing email all year)"
	case x.Unknown:
		return string(x.Reason) + " (the window cannot be computed, so nothing may be sent)"
	}
	return fmt.Sprintf("%s, %s around the anniversary %s: excluded %s", x.Reason, x.Window, x.Anniversary, x.Period)
}

func (i *emailInfo) notef(format string, args ...any) {
	i.trail = append(i.trail, fmt.Sprintf(format, args...))
}

// explanation assembles the trail of the contact just planned.
func explanation(today datecalc.Date, c *emailsched.Contact, o *outcome) *Explanation {
	ex := &Explanation{ContactID: c.ID, Today: today, Invalid: o.invalid, OptedOut: o.optedOut, Notes: o.tr.notes, Emails: []ExplainedEmail{}}
	if o.invalid == InvalidNoState {
		return ex
	}
	if o.invalid == "" {
		ex.State, ex.StateSource, ex.StateField, ex.StateMismatch =
			o.state.State.String(), o.state.Source.String(), o.state.Field.String(), o.state.Mismatch
	}
	if o.invalid != "" || o.optedOut {
		return ex
	}
	ap := &o.ap
	ex.Rule, ex.RuleOrigin = ap.Rule().String(), ap.Origin()
	if err := ap.Err(); err != nil {
		ex.RuleError = err.Error()
	}
	if x, ok := ap.Blocking(); ok {
		ex.Blocking = x.Reason
	}
	for _, x := range ap.Periods(nil, datecalc.Interval{Start: today, End: today.AddDays(365)}) {
		ex.Periods = append(ex.Periods, ExplainedPeriod{Window: x.Window.String(), Anniversary: x.Anniversary,
			Start: x.Period.Start, End: x.Period.End, Reason: x.Reason})
	}
	for i := range o.emails {
		e := &o.emails[i]
		trail := o.info[i].trail
		if e.Status == emailsched.StatusPreScheduled {
			trail = append(trail, "pre-scheduled for "+e.Date.String())
		}
		ex.Emails = append(ex.Emails, ExplainedEmail{Type: e.Type, Date: e.Date, Status: e.Status, SkipReason: e.SkipReason,
			Event: e.Event, Priority: e.Priority, Campaign: e.CampaignInstanceID, Trail: trail})
	}
	return ex
}

// WriteText writes the explanation for a reader such as a compliance
// officer: the contact, its state and rule, its exclusion periods, then
// each email with its decisions.
func (ex *Explanation) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Contact %d, planned for %s\n", ex.ContactID, ex.Today)
	switch {
	case ex.Invalid != "":
		fmt.Fprintf(&b, "  Not planned: the contact has %s (%s), so it gets no email.\n", ex.Invalid.Describe(), ex.Invalid)
	case ex.OptedOut:
		fmt.Fprintf(&b, "  State %s. Opted out (do_not_communicate): this contact gets no email.\n", ex.State)
	}
	if ex.Invalid != "" || ex.OptedOut {
		_, err := io.WriteString(w, b.String())
		return err
	}
	source := strings.ReplaceAll(ex.StateSource, "_", " ")
	if ex.StateSource == rules.SourceZIP.String() {
		source = "ZIP code"
	}
	fmt.Fprintf(&b, "  State %s, from the %s", ex.State, source)
	if ex.StateMismatch {
		fmt.Fprintf(&b, " (the state field says %s; the ZIP code wins)", ex.StateField)
	}
	if ex.RuleOrigin == "" {
		b.WriteString("\n  No exclusion rule for this state\n")
	} else {
		fmt.Fprintf(&b, "\n  Rule %s (%s)\n", ex.Rule, ex.RuleOrigin)
	}
	if ex.RuleError != "" {
		fmt.Fprintf(&b, "  The rule failed for this contact: %s\n", ex.RuleError)
	}
	if ex.Blocking != "" {
		fmt.Fprintf(&b, "  Every day is excluded: %s\n", ex.Blocking)
	}
	for _, pd := range ex.Periods {
		fmt.Fprintf(&b, "  Exclusion period %s … %s (%s around %s)\n", pd.Start, pd.End, pd.Window, pd.Anniversary)
	}
	switch {
	case ex.LoadFrom == LoadStored && ex.Estimate:
		fmt.Fprintf(&b, "  Load balancing: each day's email count is the one stored with the plan of %s, so the dates below are an estimate (a run also moves other contacts' emails)\n", ex.LoadPlanDate)
	case ex.LoadFrom == LoadStored:
		fmt.Fprintf(&b, "  Load balancing: each day's email count is the one stored with the plan of %s\n", ex.LoadPlanDate)
	case ex.LoadFrom == LoadUnknown:
		b.WriteString("  Load balancing: no email count is stored for this day, so no email was moved here (a run may move some)\n")
	}
	if ex.Replan.Changed() {
		fmt.Fprintf(&b, "  Re-planned: %s, so stored dates are not kept; every email takes what the current settings give it\n", ex.Replan)
	}
	for _, n := range ex.Notes {
		fmt.Fprintf(&b, "  Note: %s\n", n)
	}
	if len(ex.Emails) == 0 {
		b.WriteString("  No email planned.\n")
	} else {
		b.WriteString("  Priority: when emails compete (the frequency limit, campaigns on one day, a day over the cap), the lower number goes first\n")
	}
	for _, e := range ex.Emails {
		fmt.Fprintf(&b, "\n  %s %s: %s", e.Date, e.Type, e.Status)
		if e.SkipReason != "" {
			fmt.Fprintf(&b, " (%s: %s)", e.SkipReason, e.SkipReason.Describe())
		}
		fmt.Fprintf(&b, ", priority %d", e.Priority)
		if e.Campaign != 0 {
			fmt.Fprintf(&b, ", campaign instance %d", e.Campaign)
		}
		if e.Row != "" {
			fmt.Fprintf(&b, "; %s", e.Row)
		}
		b.WriteString("\n")
		for _, t := range e.Trail {
			fmt.Fprintf(&b, "    - %s\n", t)
		}
	}
	if len(ex.Deleted) > 0 {
		b.WriteString("\n")
	}
	for _, r := range ex.Deleted {
		fmt.Fprintf(&b, "  Deletes stored %s: no longer in the plan\n", r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
