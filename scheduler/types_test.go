package scheduler

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
)

// event returns the resolved parameters of event type typ.
func (s *settings) event(typ emailsched.EmailType) eventSettings {
	for i, t := range eventTypes {
		if t.typ == typ {
			return s.events[i]
		}
	}
	panic("no event type " + typ)
}

// TestEventTypesDeclared checks each entry of eventTypes against the
// other declarations it relies on, so that an entry cannot drift from them.
func TestEventTypesDeclared(t *testing.T) {
	byField := map[string]Param{}
	for _, p := range params {
		byField[p.Field] = p
	}
	seen := map[emailsched.EmailType]bool{}
	for _, et := range eventTypes {
		if seen[et.typ] {
			t.Errorf("%s declared twice", et.typ)
		}
		seen[et.typ] = true
		if et.anchor.IsZero() == (et.event == nil) {
			t.Errorf("%s: declares both or neither of an anchor and an event function", et.typ)
		}
		if got, err := emailsched.ParseEmailType(string(et.typ)); err != nil || got != et.typ || !et.typ.IsAnniversary() {
			t.Errorf("%s: not a fixed anniversary type of package emailsched (%v)", et.typ, err)
		}
		fields := []string{et.priority}
		if et.daysBefore != "" {
			fields = append(fields, et.daysBefore)
		}
		for _, field := range fields {
			if p, ok := byField[field]; !ok || p.Kind != KindInt || !p.Plan {
				t.Errorf("%s: %q is not an int parameter deciding the plan: %+v", et.typ, field, p)
			}
		}
		// The soft limit of package loadbalance is the one that smooths.
		if c := loadbalance.NewCandidate(1, et.typ, 2025, d(2025, 1, 1), datecalc.Date{}, 1); c.IsED != et.smoothed {
			t.Errorf("%s: smoothed %t, loadbalance.NewCandidate says %t", et.typ, et.smoothed, c.IsED)
		}
	}
}

// TestEventTypeIsOneEntry adds an event type, as a new kind of email would
// be added, and checks that the planner plans it with its parameters,
// that exclusion windows and history apply to it, and that the stored
// load's key changes with it.
func TestEventTypeIsOneEntry(t *testing.T) {
	const medicare emailsched.EmailType = "medicare_start"
	before := mustSettings(t, Config{}).key
	saved := eventTypes
	t.Cleanup(func() { eventTypes = saved })
	eventTypes = append(slices.Clip(saved), eventType{typ: medicare, daysBefore: "BirthdayDaysBefore", priority: "AEPPriority",
		event: func(p *planner, c *emailsched.Contact) (datecalc.Date, int) {
			// The 65th birthday, as long as it is ahead.
			if c.Birthday.IsZero() {
				return datecalc.Date{}, 0
			}
			y := c.Birthday.Year() + 65
			at := datecalc.Anniversary(y, c.Birthday.Month(), c.Birthday.Day())
			if at.Before(p.today) {
				return datecalc.Date{}, 0
			}
			return at, y
		}})

	s := mustSettings(t, Config{BirthdayDaysBefore: Int(10), AEPPriority: Int(7)})
	if s.key == before {
		t.Error("the stored load's key did not change with the new type")
	}
	today := d(2025, 3, 1)
	c := emailsched.Contact{ID: 4, Email: "a@b.co", State: "TX", Birthday: d(1960, 5, 20)}
	o := planOne(t, Config{BirthdayDaysBefore: Int(10), AEPPriority: Int(7)}, today, c)
	var got []row
	for i, e := range o.emails {
		if e.Type == medicare {
			got = append(got, rowsOf(o.emails[i:i+1])...)
			if e.Priority != 7 || !o.info[i].respects {
				t.Errorf("priority %d, respects windows %t", e.Priority, o.info[i].respects)
			}
		}
	}
	if diff := cmp.Diff([]row{pre(medicare, d(2025, 5, 10), d(2025, 5, 20))}, got); diff != "" {
		t.Errorf("planned (-want +got):\n%s", diff)
	}

	// A window around the birthday applies to it, and history stops it.
	win := Config{Rules: windowsSet(t), BirthdayDaysBefore: Int(0)}
	o = planOne(t, win, today, c)
	if i := slices.IndexFunc(o.emails, func(e emailsched.Email) bool { return e.Type == medicare }); i < 0 ||
		o.emails[i].Status != emailsched.StatusSkipped {
		t.Errorf("inside the TX birthday window: %+v", rowsOf(o.emails))
	}
	c.History = []emailsched.Email{{Type: medicare, Date: d(2025, 5, 10), Event: d(2025, 5, 20), Status: emailsched.StatusSent}}
	if o := planOne(t, Config{}, today, c); countType(o.emails, medicare) != 0 {
		t.Errorf("planned again after the sending system sent it: %+v", rowsOf(o.emails))
	}
}
