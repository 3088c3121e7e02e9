package scheduler

import (
	"reflect"
	"slices"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
)

// eventType declares an email type that every valid contact gets once per
// yearly event: an anniversary of one of its anchor dates (the birthday,
// the policy's effective date) or a day of the year (AEP). The table
// eventTypes is the one place such a type is declared: the planner plans
// them in its order, load balancing reads smoothed, and the stored load's
// key (settings.loadKey) covers every entry. Adding a type is one entry,
// the Config fields and parameters (Params) it names, and, for an event
// that is not the anniversary of an anchor (rules.Anchor), its event
// function.
type eventType struct {
	typ emailsched.EmailType
	// daysBefore and priority name the Config fields of its lead time
	// (the ideal send date is the event less that many days; "" sends on
	// the event's day) and of its priority. Both are parameters of the
	// table Params, deciding the plan.
	daysBefore, priority string
	// smoothed: load balancing spreads the type's daily peaks over the
	// neighbouring days (the soft limit of effective-date emails).
	smoothed bool
	// anchor, for an anniversary of one of the contact's dates: the
	// anchor the contact's rule read it through (rules.Applied: set,
	// readable, and for a birthday not in the future). With oneYearAfter
	// the first anniversary is one year after the date itself, as a
	// policy's is: a date of last year or later has its first
	// anniversary ahead, which may lie beyond the next calendar
	// anniversary.
	anchor       rules.Anchor
	oneYearAfter bool
	// event, for any other event, returns the contact's next event on or
	// after today and its year, or a zero date when the contact has none.
	event func(p *planner, c *emailsched.Contact) (datecalc.Date, int)
	// latest, when set, returns the last day the email of the event of
	// year may go out (its send window's end); by default the event's day.
	latest func(p *planner, c *emailsched.Contact, year int) datecalc.Date
}

// eventTypes are planned in this order, before campaigns and follow-ups.
var eventTypes = []eventType{
	{typ: emailsched.TypeBirthday, daysBefore: "BirthdayDaysBefore", priority: "BirthdayPriority",
		anchor: rules.AnchorBirthday},
	{typ: emailsched.TypeEffectiveDate, daysBefore: "EffectiveDateDaysBefore", priority: "EffectiveDatePriority",
		smoothed: true, anchor: rules.AnchorEffectiveDate, oneYearAfter: true},
	{typ: emailsched.TypeAEP, priority: "AEPPriority", event: (*planner).aepDate, latest: (*planner).aepLast},
}

// eventSettings is an event type with its resolved parameters.
type eventSettings struct {
	*eventType
	before, priority int
}

// resolveEventTypes reads the parameters of every event type from c, whose
// parameters are all set (resolveParams), in the order of eventTypes.
func resolveEventTypes(c *Config) []eventSettings {
	v := reflect.ValueOf(c).Elem()
	out := make([]eventSettings, len(eventTypes))
	for i := range eventTypes {
		t := &eventTypes[i]
		out[i].eventType = t
		if t.daysBefore != "" {
			out[i].before = int(v.FieldByName(t.daysBefore).Elem().Int())
		}
		out[i].priority = int(v.FieldByName(t.priority).Elem().Int())
	}
	return out
}

// nextEvent returns the contact's next event of type t on or after today
// and its year, or a zero date when it has none.
func (p *planner) nextEvent(t *eventType, c *emailsched.Contact) (datecalc.Date, int) {
	if t.event != nil {
		return t.event(p, c)
	}
	date, m, d := p.ap.Anchor(t.anchor)
	if date.IsZero() {
		return datecalc.Date{}, 0
	}
	ann, year := p.nextAnniversary(m, d)
	if t.oneYearAfter && !date.Before(p.lastYear) {
		y := date.Year()
		if first := datecalc.Anniversary(y+1, m, d); first.After(p.today) {
			ann, year = first, y+1
		}
	}
	return ann, year
}

// plannedThrough is the last day whose emails are all planned on today:
// each yearly event is planned for its next occurrence, at most a year
// ahead, so an email dated after today + 364 days less the longest lead
// time may belong to an occurrence after that, planned later.
func (s *settings) plannedThrough(today datecalc.Date) datecalc.Date {
	lead := 0
	for _, ev := range s.events {
		lead = max(lead, ev.before)
	}
	return today.AddDays(364 - lead)
}

// aepWindows are the AEP send windows of today's year and the next that
// end on or after today, in order, each once.
func (s *settings) aepWindows(today datecalc.Date) []datecalc.Interval {
	var out []datecalc.Interval
	for year := today.Year(); year <= today.Year()+1; year++ {
		for k, md := range s.aep {
			w := datecalc.Interval{Start: md.In(year), End: s.aepLast[k].In(year)}
			if !w.End.Before(today) && !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	slices.SortFunc(out, func(a, b datecalc.Interval) int { return a.Start.Compare(b.Start) })
	return out
}
