package scheduler

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
)

var d = datecalc.MustNew

// row is the part of a planned email the table tests look at.
type row struct {
	Type    emailsched.EmailType
	Date    datecalc.Date
	Status  emailsched.Status
	Reason  emailsched.SkipReason
	Event   datecalc.Date
	CatchUp bool
	ID      int64
}

func pre(t emailsched.EmailType, date, event datecalc.Date) row {
	return row{Type: t, Date: date, Status: emailsched.StatusPreScheduled, Event: event}
}

func skip(t emailsched.EmailType, date, event datecalc.Date, reason emailsched.SkipReason) row {
	return row{Type: t, Date: date, Status: emailsched.StatusSkipped, Reason: reason, Event: event}
}

func rowsOf(es []emailsched.Email) []row {
	out := []row{}
	for _, e := range es {
		out = append(out, row{e.Type, e.Date, e.Status, e.SkipReason, e.Event, e.CatchUpNote != "", e.ID})
	}
	return out
}

func mustSettings(t testing.TB, cfg Config) *settings {
	t.Helper()
	s, err := cfg.resolve()
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

func planOne(t testing.TB, cfg Config, today datecalc.Date, c emailsched.Contact) outcome {
	t.Helper()
	return planWithCampaigns(t, cfg, today, emailsched.Campaigns{}, c)
}

// catchUpDay is the catch-up rule, computed independently.
func catchUpDay(id int64, typ emailsched.EmailType, today, event datecalc.Date, spread int) datecalc.Date {
	h := datecalc.StableHash(id, string(typ), event.Year())
	day := today.AddDays(int(h % uint64(spread)))
	if last := lastSendDay(&emailsched.Email{Type: typ, Event: event}); day.After(last) {
		return last
	}
	return day
}

// lastSendDay is the last day an email may go out under the default
// settings: its event, or for AEP the end of its send window, September 30
// of the event's year (the event itself when later).
func lastSendDay(e *emailsched.Email) datecalc.Date {
	if e.Type == emailsched.TypeAEP {
		return datecalc.Max(e.Event, d(e.Event.Year(), time.September, 30))
	}
	return e.Event
}

const (
	bd  = emailsched.TypeBirthday
	edt = emailsched.TypeEffectiveDate
	aep = emailsched.TypeAEP
	pw  = emailsched.TypePostWindow
)

func TestPlanAnniversaries(t *testing.T) {
	today := d(2024, 12, 10)
	aep25 := pre(aep, d(2025, 9, 15), d(2025, 9, 15))
	tx := func(id int64) emailsched.Contact {
		return emailsched.Contact{ID: id, Email: "ann@example.com", ZIP: "75001"}
	}
	with := func(c emailsched.Contact, f func(*emailsched.Contact)) emailsched.Contact { f(&c); return c }
	catchUp := func(r row) row { r.CatchUp = true; return r }
	for _, tc := range []struct {
		name  string
		today datecalc.Date
		c     emailsched.Contact
		want  []row
	}{
		{"no dates: only AEP", today, tx(1), []row{aep25}},
		{"birthday 14 days before", today, with(tx(1), func(c *emailsched.Contact) { c.Birthday = d(1950, 6, 20) }),
			[]row{pre(bd, d(2025, 6, 6), d(2025, 6, 20)), aep25}},
		{"effective date 30 days before", today, with(tx(1), func(c *emailsched.Contact) { c.EffectiveDate = d(2015, 3, 1) }),
			[]row{pre(edt, d(2025, 1, 30), d(2025, 3, 1)), aep25}},
		{"policy younger than a year: first anniversary", today, with(tx(1), func(c *emailsched.Contact) { c.EffectiveDate = d(2024, 6, 1) }),
			[]row{pre(edt, d(2025, 5, 2), d(2025, 6, 1)), aep25}},
		{"policy starting in the future", today, with(tx(1), func(c *emailsched.Contact) { c.EffectiveDate = d(2025, 2, 1) }),
			[]row{aep25, pre(edt, d(2026, 1, 2), d(2026, 2, 1))}},
		{"policy started exactly a year ago: anniversary today", today, with(tx(1), func(c *emailsched.Contact) { c.EffectiveDate = d(2023, 12, 10) }),
			[]row{catchUp(pre(edt, d(2024, 12, 10), d(2024, 12, 10))), aep25}},
		{"catch-up: ideal passed, anniversary ahead", today, with(tx(7), func(c *emailsched.Contact) { c.Birthday = d(1950, 12, 20) }),
			[]row{catchUp(pre(bd, catchUpDay(7, bd, today, d(2024, 12, 20), 7), d(2024, 12, 20))), aep25}},
		{"catch-up never after the anniversary", today, with(tx(3), func(c *emailsched.Contact) { c.Birthday = d(1950, 12, 11) }),
			[]row{catchUp(pre(bd, catchUpDay(3, bd, today, d(2024, 12, 11), 7), d(2024, 12, 11))), aep25}},
		{"birthday today counts as this year's", today, with(tx(1), func(c *emailsched.Contact) { c.Birthday = d(1950, 12, 10) }),
			[]row{catchUp(pre(bd, today, today)), aep25}},
		{"Feb 29 birthday in a common year", today, with(tx(1), func(c *emailsched.Contact) { c.Birthday = d(1952, 2, 29) }),
			[]row{pre(bd, d(2025, 2, 14), d(2025, 2, 28)), aep25}},
		{"Feb 29 birthday in a leap year", d(2027, 12, 10), with(tx(1), func(c *emailsched.Contact) { c.Birthday = d(1952, 2, 29) }),
			[]row{pre(bd, d(2028, 2, 15), d(2028, 2, 29)), pre(aep, d(2028, 9, 15), d(2028, 9, 15))}},
		{"Feb 29 effective date in a common year", today, with(tx(1), func(c *emailsched.Contact) { c.EffectiveDate = d(2020, 2, 29) }),
			[]row{pre(edt, d(2025, 1, 29), d(2025, 2, 28)), aep25}},
		{"AEP on its day counts", d(2024, 9, 15), tx(1), []row{pre(aep, d(2024, 9, 15), d(2024, 9, 15))}},
		// Contact 1's catch-up spread: StableHash(1, "aep", 2024) mod 7 = 4.
		{"AEP passed is caught up in its send window", d(2024, 9, 16), tx(1), []row{catchUp(pre(aep, d(2024, 9, 20), d(2024, 9, 15)))}},
		{"AEP catch-up ends with the window", d(2024, 9, 27), tx(1), []row{catchUp(pre(aep, d(2024, 9, 30), d(2024, 9, 15)))}},
		{"AEP on the window's last day", d(2024, 9, 30), tx(1), []row{catchUp(pre(aep, d(2024, 9, 30), d(2024, 9, 15)))}},
		{"AEP after its window belongs to next year", d(2024, 10, 1), tx(1), []row{aep25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := planOne(t, Config{}, tc.today, tc.c)
			if diff := cmp.Diff(tc.want, rowsOf(o.emails)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			for _, e := range o.emails {
				if e.Date.Before(tc.today) {
					t.Errorf("%s dated %v before today", e.Type, e.Date)
				}
				if e.ContactID != tc.c.ID {
					t.Errorf("%s has contact id %d", e.Type, e.ContactID)
				}
			}
		})
	}
}

func TestPlanCatchUpCapBinds(t *testing.T) {
	// Find a contact whose spread would land after an anniversary that is
	// tomorrow, so that the cap is exercised, not assumed.
	today, ann := d(2024, 12, 10), d(2024, 12, 11)
	for id := int64(1); id < 100; id++ {
		if datecalc.StableHash(id, "birthday", 2024)%7 < 2 {
			continue
		}
		o := planOne(t, Config{}, today, emailsched.Contact{ID: id, Email: "a@b.co", ZIP: "75001", Birthday: d(1960, 12, 11)})
		if got := o.emails[0]; got.Date != ann || got.CatchUpNote != CatchUpNote {
			t.Fatalf("contact %d: birthday email %v %q, want %v with a catch-up note", id, got.Date, got.CatchUpNote, ann)
		}
		return
	}
	t.Fatal("no contact with a spread of 2 days or more")
}

func TestPlanAEPChoice(t *testing.T) {
	cfg := Config{AEPDates: []MonthDay{{time.September, 15}, {time.October, 1}}}
	today := d(2024, 12, 10)
	seen := map[datecalc.Date]bool{}
	for id := int64(1); id <= 40; id++ {
		o := planOne(t, cfg, today, emailsched.Contact{ID: id, Email: "a@b.co", ZIP: "75001"})
		want := cfg.AEPDates[datecalc.StableHash(id, "aep", 2025)%2].In(2025)
		if len(o.emails) != 1 || o.emails[0].Date != want || o.emails[0].Event != want {
			t.Fatalf("contact %d: %v, want one AEP email on %v", id, rowsOf(o.emails), want)
		}
		seen[want] = true
	}
	if len(seen) != 2 {
		t.Errorf("40 contacts all chose the same AEP day: %v", seen)
	}
	// Between the two days, a contact whose chosen day passed is caught up
	// in its send window (Sept 15 to the default last day, Sept 30), while
	// Oct 1, after the default last day, is a window of its own day.
	mid := d(2025, 9, 20)
	for id := int64(1); id <= 40; id++ {
		o := planOne(t, cfg, mid, emailsched.Contact{ID: id, Email: "a@b.co", ZIP: "75001"})
		event := cfg.AEPDates[datecalc.StableHash(id, "aep", 2025)%2].In(2025)
		date := event
		if event.Before(mid) {
			date = datecalc.Min(mid.AddDays(datecalc.Spread(datecalc.StableHash(id, "aep", 2025), 7)), d(2025, 9, 30))
		}
		if o.emails[0].Date != date || o.emails[0].Event != event {
			t.Fatalf("contact %d on %v: AEP %v for %v, want %v for %v", id, mid, o.emails[0].Date, o.emails[0].Event, date, event)
		}
	}
	// After both windows, next year's choice.
	late := d(2025, 10, 2)
	for id := int64(1); id <= 40; id++ {
		o := planOne(t, cfg, late, emailsched.Contact{ID: id, Email: "a@b.co", ZIP: "75001"})
		if want := cfg.AEPDates[datecalc.StableHash(id, "aep", 2026)%2].In(2026); o.emails[0].Date != want {
			t.Fatalf("contact %d on %v: AEP %v, want %v", id, late, o.emails[0].Date, want)
		}
	}
}

func TestAEPLastDay(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []MonthDay // the window's last day of each AEP day
		err  string
	}{
		{"default", Config{}, []MonthDay{{time.September, 30}}, ""},
		{"set", Config{AEPLastDay: &MonthDay{time.October, 15}}, []MonthDay{{time.October, 15}}, ""},
		{"one day", Config{AEPLastDay: &MonthDay{time.September, 15}}, []MonthDay{{time.September, 15}}, ""},
		{"default before a day", Config{AEPDates: []MonthDay{{time.September, 15}, {time.October, 1}}},
			[]MonthDay{{time.September, 30}, {time.October, 1}}, ""},
		{"set before a day", Config{AEPDates: []MonthDay{{time.September, 15}, {time.October, 1}}, AEPLastDay: &MonthDay{time.September, 20}},
			[]MonthDay{{time.September, 20}, {time.October, 1}}, ""},
		{"invalid", Config{AEPLastDay: &MonthDay{time.February, 30}}, nil, "AEPLastDay is 2-30, must be a day of the year"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.cfg.resolve()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, s.aepLast); diff != "" {
				t.Errorf("last days (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanHistory(t *testing.T) {
	today := d(2024, 12, 10)
	legacy, err := emailsched.ParseEmailType("BIRTHDAY")
	if err != nil {
		t.Fatal(err)
	}
	hist := func(typ emailsched.EmailType, st emailsched.Status, date, event datecalc.Date) emailsched.Email {
		return emailsched.Email{ID: 99, Type: typ, Status: st, Date: date, Event: event}
	}
	base := emailsched.Contact{ID: 5, Email: "h@example.com", ZIP: "75001", Birthday: d(1950, 6, 20)}
	bday := pre(bd, d(2025, 6, 6), d(2025, 6, 20))
	for _, tc := range []struct {
		name    string
		history []emailsched.Email
		want    bool // a birthday email is planned
	}{
		{"none", nil, true},
		{"sent for this event", []emailsched.Email{hist(bd, emailsched.StatusSent, d(2025, 6, 6), d(2025, 6, 20))}, false},
		{"legacy upper-case type", []emailsched.Email{hist(legacy, emailsched.StatusDelivered, d(2025, 6, 6), d(2025, 6, 20))}, false},
		{"scheduled counts", []emailsched.Email{hist(bd, emailsched.StatusScheduled, d(2025, 6, 6), d(2025, 6, 20))}, false},
		{"processing counts", []emailsched.Email{hist(bd, emailsched.StatusProcessing, d(2025, 6, 6), d(2025, 6, 20))}, false},
		{"accepted counts", []emailsched.Email{hist(bd, emailsched.StatusAccepted, d(2025, 6, 6), d(2025, 6, 20))}, false},
		{"failed does not count", []emailsched.Email{hist(bd, "failed", d(2025, 6, 6), d(2025, 6, 20))}, true},
		{"last year's event", []emailsched.Email{hist(bd, emailsched.StatusSent, d(2024, 6, 6), d(2024, 6, 20))}, true},
		{"other type", []emailsched.Email{hist(edt, emailsched.StatusSent, d(2025, 6, 6), d(2025, 6, 20))}, true},
		{"no event, sent in the year before the birthday", []emailsched.Email{hist(bd, emailsched.StatusSent, d(2025, 6, 1), datecalc.Date{})}, false},
		{"no event, sent over a year before", []emailsched.Email{hist(bd, emailsched.StatusSent, d(2024, 6, 1), datecalc.Date{})}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.History = tc.history
			o := planOne(t, Config{}, today, c)
			want := []row{pre(aep, d(2025, 9, 15), d(2025, 9, 15))}
			if tc.want {
				want = append([]row{bday}, want...)
			}
			if diff := cmp.Diff(want, rowsOf(o.emails)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
	// AEP already committed for this cycle.
	c := base
	c.Birthday = datecalc.Date{}
	c.History = []emailsched.Email{hist(aep, emailsched.StatusSent, d(2025, 9, 15), d(2025, 9, 15))}
	if o := planOne(t, Config{}, today, c); len(o.emails) != 0 {
		t.Errorf("AEP planned twice: %v", rowsOf(o.emails))
	}
}

func TestPlanExclusions(t *testing.T) {
	today := d(2024, 12, 10)
	ca := func(id int64) emailsched.Contact {
		return emailsched.Contact{ID: id, Email: "w@example.com", ZIP: "90210"}
	}
	for _, tc := range []struct {
		name string
		c    emailsched.Contact
		want []row
	}{
		{"CA birthday Jan 15: window crosses New Year", func() emailsched.Contact { c := ca(1); c.Birthday = d(1950, 1, 15); return c }(),
			[]row{
				skip(bd, d(2025, 1, 1), d(2025, 1, 15), "exclusion_window:CA:birthday"),
				pre(pw, d(2025, 3, 17), d(2025, 1, 15)),
				pre(aep, d(2025, 9, 15), d(2025, 9, 15)),
			}},
		{"CA birthday Dec 1: one post-window for two blocked emails", func() emailsched.Contact { c := ca(1); c.Birthday = d(1950, 12, 1); return c }(),
			[]row{
				skip(aep, d(2025, 9, 15), d(2025, 9, 15), "exclusion_window:CA:birthday"),
				skip(bd, d(2025, 11, 17), d(2025, 12, 1), "exclusion_window:CA:birthday"),
				pre(pw, d(2026, 1, 31), d(2025, 12, 1)),
			}},
		{"NV anchors on the first of the birth month", emailsched.Contact{ID: 1, Email: "n@example.com", ZIP: "89501", Birthday: d(1950, 3, 15)},
			[]row{
				skip(bd, d(2025, 3, 1), d(2025, 3, 15), "exclusion_window:NV:birthday"),
				pre(pw, d(2025, 5, 1), d(2025, 3, 15)),
				pre(aep, d(2025, 9, 15), d(2025, 9, 15)),
			}},
		{"MO effective-date window", emailsched.Contact{ID: 1, Email: "m@example.com", ZIP: "63101", EffectiveDate: d(2010, 1, 1)},
			[]row{
				catchUpRow(skip(edt, catchUpDay(1, edt, today, d(2025, 1, 1), 7), d(2025, 1, 1), "exclusion_window:MO:effective_date")),
				pre(pw, d(2025, 2, 4), d(2025, 1, 1)),
				pre(aep, d(2025, 9, 15), d(2025, 9, 15)),
			}},
		{"NY year-round: skipped rows, no post-window", emailsched.Contact{ID: 1, Email: "y@example.com", ZIP: "10001", Birthday: d(1950, 6, 20)},
			[]row{
				skip(bd, d(2025, 6, 6), d(2025, 6, 20), "year_round:NY"),
				skip(aep, d(2025, 9, 15), d(2025, 9, 15), "year_round:NY"),
			}},
		{"CA without a birthday: window unknown, nothing sent", func() emailsched.Contact { c := ca(1); c.EffectiveDate = d(2015, 7, 1); return c }(),
			[]row{
				skip(edt, d(2025, 6, 1), d(2025, 7, 1), "missing_anchor:CA:birthday"),
				skip(aep, d(2025, 9, 15), d(2025, 9, 15), "missing_anchor:CA:birthday"),
			}},
		{"CA with a future birthday: same", func() emailsched.Contact { c := ca(1); c.Birthday = d(2030, 1, 1); return c }(),
			[]row{skip(aep, d(2025, 9, 15), d(2025, 9, 15), "missing_anchor:CA:birthday")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := planOne(t, Config{}, today, tc.c)
			if diff := cmp.Diff(tc.want, rowsOf(o.emails)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func catchUpRow(r row) row { r.CatchUp = true; return r }

// windowsSet is a TX rule with a birthday and an effective-date window that
// touch, so that a post-window day can fall in the next window.
func windowsSet(t testing.TB) *rules.Set {
	set, err := rules.Build(rules.Options{Buffer: 0, Name: "test"}, rules.Entry{
		States: []emailsched.State{emailsched.MustState("TX")},
		Rule:   rules.Windows(rules.BirthdayWindow(0, 10), rules.EffectiveDateWindow(0, 10)),
		Origin: "test:1:1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestPlanPostWindowSkipsNextWindow(t *testing.T) {
	c := emailsched.Contact{ID: 1, Email: "t@example.com", ZIP: "75001", Birthday: d(1950, 3, 15), EffectiveDate: d(2010, 3, 26)}
	o := planOne(t, Config{Rules: windowsSet(t), BirthdayDaysBefore: Int(0), EffectiveDateDaysBefore: Int(0)}, d(2025, 1, 1), c)
	want := []row{
		skip(bd, d(2025, 3, 15), d(2025, 3, 15), "exclusion_window:TX:birthday"),
		skip(edt, d(2025, 3, 26), d(2025, 3, 26), "exclusion_window:TX:effective_date"),
		// The birthday window ends Mar 25; Mar 26 … Apr 5 is the
		// effective-date window, so both post-windows go to Apr 6.
		pre(pw, d(2025, 4, 6), d(2025, 3, 15)),
		pre(pw, d(2025, 4, 6), d(2025, 3, 26)),
		pre(aep, d(2025, 9, 15), d(2025, 9, 15)),
	}
	if diff := cmp.Diff(want, rowsOf(o.emails)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

func TestPlanPostWindowWithoutFreeDay(t *testing.T) {
	// Windows that cover every day leave no day for the post-window email:
	// it is written skipped.
	set, err := rules.Build(rules.Options{Buffer: 366}, rules.Entry{
		States: []emailsched.State{emailsched.MustState("TX")}, Rule: rules.Windows(rules.BirthdayWindow(0, 366)), Origin: "t",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := emailsched.Contact{ID: 1, Email: "t@example.com", ZIP: "75001", Birthday: d(1950, 6, 20)}
	o := planOne(t, Config{Rules: set}, d(2025, 1, 1), c)
	for _, e := range o.emails {
		if e.Status != emailsched.StatusSkipped || e.SkipReason != "exclusion_window:TX:birthday" {
			t.Errorf("%s %v: status %s reason %q, want skipped by the window", e.Type, e.Date, e.Status, e.SkipReason)
		}
	}
	// The birthday email (2025-06-06) and the AEP email (2025-09-15) are
	// blocked by the periods of different anniversaries (each period is
	// longer than a year and the one ending last is reported): one
	// post-window email each.
	if n := countType(o.emails, pw); n != 2 {
		t.Errorf("%d post-window emails, want 2: %v", n, rowsOf(o.emails))
	}
}

func countType(es []emailsched.Email, t emailsched.EmailType) int {
	n := 0
	for _, e := range es {
		if e.Type == t {
			n++
		}
	}
	return n
}

func TestPlanPostWindowHistory(t *testing.T) {
	c := emailsched.Contact{ID: 1, Email: "w@example.com", ZIP: "90210", Birthday: d(1950, 1, 15),
		History: []emailsched.Email{{ID: 9, Type: pw, Status: emailsched.StatusSent, Date: d(2025, 3, 17), Event: d(2025, 1, 15)}}}
	o := planOne(t, Config{}, d(2024, 12, 10), c)
	if n := countType(o.emails, pw); n != 0 {
		t.Errorf("post-window planned although sent: %v", rowsOf(o.emails))
	}
}

func TestPlanInvalidContacts(t *testing.T) {
	today := d(2024, 12, 10)
	for _, tc := range []struct {
		name string
		c    emailsched.Contact
		want InvalidReason
	}{
		{"no email", emailsched.Contact{ID: 1, ZIP: "75001"}, InvalidNoEmail},
		{"blank email", emailsched.Contact{ID: 1, Email: "   ", ZIP: "75001"}, InvalidNoEmail},
		{"no at", emailsched.Contact{ID: 1, Email: "example.com", ZIP: "75001"}, InvalidEmail},
		{"two ats", emailsched.Contact{ID: 1, Email: "a@b@c.com", ZIP: "75001"}, InvalidEmail},
		{"no local part", emailsched.Contact{ID: 1, Email: "@c.com", ZIP: "75001"}, InvalidEmail},
		{"no dot in domain", emailsched.Contact{ID: 1, Email: "a@localhost", ZIP: "75001"}, InvalidEmail},
		{"dot at domain end", emailsched.Contact{ID: 1, Email: "a@b.", ZIP: "75001"}, InvalidEmail},
		{"dot at domain start", emailsched.Contact{ID: 1, Email: "a@.com", ZIP: "75001"}, InvalidEmail},
		{"space inside", emailsched.Contact{ID: 1, Email: "a b@c.com", ZIP: "75001"}, InvalidEmail},
		{"SQL in email", emailsched.Contact{ID: 1, Email: "x'; DROP TABLE contacts;--@a.com", ZIP: "75001"}, InvalidEmail},
		{"too long", emailsched.Contact{ID: 1, Email: string(make([]byte, 250)) + "@a.com", ZIP: "75001"}, InvalidEmail},
		{"no state and no ZIP", emailsched.Contact{ID: 1, Email: "a@b.com"}, InvalidNoState},
		{"unknown ZIP and bad state", emailsched.Contact{ID: 1, Email: "a@b.com", ZIP: "00000", State: "XX"}, InvalidNoState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := planOne(t, Config{}, today, tc.c)
			if o.invalid != tc.want || len(o.emails) != 0 {
				t.Errorf("invalid = %q with %d emails, want %q and none", o.invalid, len(o.emails), tc.want)
			}
		})
	}
}

func TestPlanDirtyFields(t *testing.T) {
	today := d(2024, 12, 10)
	c := emailsched.Contact{ID: 1, Email: " Padded@Example.com ", ZIP: "", State: "tx", Birthday: d(1950, 6, 20), EffectiveDate: d(2015, 3, 1),
		Issues: []emailsched.FieldIssue{{Field: emailsched.FieldBirthday, Value: "1950-13-45", Reason: "bad"}}}
	o := planOne(t, Config{}, today, c)
	want := []row{pre(edt, d(2025, 1, 30), d(2025, 3, 1)), pre(aep, d(2025, 9, 15), d(2025, 9, 15))}
	if diff := cmp.Diff(want, rowsOf(o.emails)); diff != "" {
		t.Errorf("unreadable birthday must disable only the birthday email (-want +got):\n%s", diff)
	}
	if o.state.Source != rules.SourceField || o.state.State != emailsched.MustState("TX") {
		t.Errorf("state %+v, want TX from the field", o.state)
	}
	c.Issues = []emailsched.FieldIssue{{Field: emailsched.FieldEffectiveDate, Value: "garbage", Reason: "bad"}}
	o = planOne(t, Config{}, today, c)
	want = []row{pre(bd, d(2025, 6, 6), d(2025, 6, 20)), pre(aep, d(2025, 9, 15), d(2025, 9, 15))}
	if diff := cmp.Diff(want, rowsOf(o.emails)); diff != "" {
		t.Errorf("unreadable effective date must disable only its email (-want +got):\n%s", diff)
	}
	c.Issues = nil
	c.Birthday = d(2031, 1, 1)
	if o = planOne(t, Config{}, today, c); !slices.Contains(o.future, emailsched.FieldBirthday) || countType(o.emails, bd) != 0 {
		t.Errorf("future birthday: flagged %v, emails %v", o.future, rowsOf(o.emails))
	}
	c.DoNotCommunicate = true
	if o = planOne(t, Config{}, today, c); !o.optedOut || len(o.emails) != 0 {
		t.Errorf("do_not_communicate: opted out %v, emails %v", o.optedOut, rowsOf(o.emails))
	}
}

func TestPlanKeepsStoredDates(t *testing.T) {
	today := d(2024, 12, 10)
	stored := func(id int64, typ emailsched.EmailType, date, event datecalc.Date, st emailsched.Status) emailsched.Email {
		return emailsched.Email{ID: id, ContactID: 1, Type: typ, Date: date, Event: event, Status: st}
	}
	tx := emailsched.Contact{ID: 1, Email: "s@example.com", ZIP: "75001", Birthday: d(1950, 6, 20)}
	ca := emailsched.Contact{ID: 1, Email: "s@example.com", ZIP: "90210", Birthday: d(1950, 6, 20)}
	for _, tc := range []struct {
		name   string
		c      emailsched.Contact
		stored []emailsched.Email
		want   row
	}{
		{"legal stored date kept with its id", tx, []emailsched.Email{stored(7, bd, d(2025, 6, 9), d(2025, 6, 20), emailsched.StatusPreScheduled)},
			row{Type: bd, Date: d(2025, 6, 9), Status: emailsched.StatusPreScheduled, Event: d(2025, 6, 20), ID: 7}},
		{"past stored date replaced", tx, []emailsched.Email{stored(7, bd, d(2024, 12, 9), d(2025, 6, 20), emailsched.StatusPreScheduled)},
			row{Type: bd, Date: d(2025, 6, 6), Status: emailsched.StatusPreScheduled, Event: d(2025, 6, 20)}},
		{"stored date after the event replaced", tx, []emailsched.Email{stored(7, bd, d(2025, 6, 21), d(2025, 6, 20), emailsched.StatusPreScheduled)},
			row{Type: bd, Date: d(2025, 6, 6), Status: emailsched.StatusPreScheduled, Event: d(2025, 6, 20)}},
		{"other event not matched", tx, []emailsched.Email{stored(7, bd, d(2025, 6, 9), d(2024, 6, 20), emailsched.StatusPreScheduled)},
			row{Type: bd, Date: d(2025, 6, 6), Status: emailsched.StatusPreScheduled, Event: d(2025, 6, 20)}},
		{"excluded stored date kept when the new one is excluded too", ca,
			[]emailsched.Email{stored(7, bd, d(2025, 6, 9), d(2025, 6, 20), emailsched.StatusSkipped)},
			row{Type: bd, Date: d(2025, 6, 9), Status: emailsched.StatusSkipped, Reason: "exclusion_window:CA:birthday", Event: d(2025, 6, 20), ID: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.Stored = tc.stored
			o := planOne(t, Config{}, today, c)
			if diff := cmp.Diff(tc.want, rowsOf(o.emails)[0]); diff != "" {
				t.Errorf("birthday email (-want +got):\n%s", diff)
			}
		})
	}
	// A stored date that became excluded (the rules changed) yields to a
	// legal new date.
	set, err := rules.Build(rules.Options{Buffer: 0}, rules.Entry{States: []emailsched.State{emailsched.MustState("TX")},
		Rule: rules.Windows(rules.BirthdayWindow(0, 0).WithBuffer(5)), Origin: "t"})
	if err != nil {
		t.Fatal(err)
	}
	c := tx
	c.Stored = []emailsched.Email{stored(7, bd, d(2025, 6, 16), d(2025, 6, 20), emailsched.StatusPreScheduled)}
	o := planOne(t, Config{Rules: set}, today, c)
	if got := o.emails[0]; got.Date != d(2025, 6, 6) || got.Status != emailsched.StatusPreScheduled {
		t.Errorf("excluded stored date kept: %+v", rowsOf(o.emails)[0])
	}
}

func TestPlanCarriesStoredPostWindow(t *testing.T) {
	// The birthday passed, so its email and window moved to next year; the
	// post-window email of this year's window is still ahead and stays.
	today := d(2025, 1, 20)
	c := emailsched.Contact{ID: 1, Email: "w@example.com", ZIP: "90210", Birthday: d(1950, 1, 15),
		Stored: []emailsched.Email{{ID: 4, ContactID: 1, Type: pw, Status: emailsched.StatusPreScheduled, Date: d(2025, 3, 17), Event: d(2025, 1, 15)}}}
	o := planOne(t, Config{}, today, c)
	want := []row{
		{Type: pw, Date: d(2025, 3, 17), Status: emailsched.StatusPreScheduled, Event: d(2025, 1, 15), ID: 4},
		pre(aep, d(2025, 9, 15), d(2025, 9, 15)),
		skip(bd, d(2026, 1, 1), d(2026, 1, 15), "exclusion_window:CA:birthday"),
		pre(pw, d(2026, 3, 17), d(2026, 1, 15)),
	}
	if diff := cmp.Diff(want, rowsOf(o.emails)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	// Not carried: sent meanwhile, excluded now, or past.
	for name, mod := range map[string]func(*emailsched.Contact){
		"sent": func(c *emailsched.Contact) {
			c.History = []emailsched.Email{{Type: pw, Status: emailsched.StatusSent, Event: d(2025, 1, 15)}}
		},
		"excluded": func(c *emailsched.Contact) { c.Stored[0].Date = d(2025, 2, 1) },
		"past":     func(c *emailsched.Contact) { c.Stored[0].Date = d(2025, 1, 19) },
		"skipped":  func(c *emailsched.Contact) { c.Stored[0].Status = emailsched.StatusSkipped },
	} {
		cc := c
		cc.Stored = []emailsched.Email{c.Stored[0]}
		mod(&cc)
		o := planOne(t, Config{}, today, cc)
		for _, e := range o.emails {
			if e.Type == pw && e.Event == d(2025, 1, 15) {
				t.Errorf("%s: stored post-window carried: %+v", name, e)
			}
		}
	}
}

func TestPlanRuleError(t *testing.T) {
	set, err := rules.Build(rules.Options{Buffer: 60, Checksum: "x"}, rules.Entry{
		States: []emailsched.State{emailsched.MustState("FL")}, Origin: "fl.rules:3:5",
		Func: func(rules.Input) (rules.Rule, error) { return rules.Rule{}, errTest },
	})
	if err != nil {
		t.Fatal(err)
	}
	o := planOne(t, Config{Rules: set}, d(2024, 12, 10), emailsched.Contact{ID: 1, Email: "f@example.com", ZIP: "33101"})
	want := []row{skip(aep, d(2025, 9, 15), d(2025, 9, 15), "rule_error:FL")}
	if diff := cmp.Diff(want, rowsOf(o.emails)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("test failure")

func TestAEPWindows(t *testing.T) {
	s := mustSettings(t, Config{AEPDates: []MonthDay{{time.October, 1}, {time.September, 15}, {time.September, 15}}})
	iv := func(a, b datecalc.Date) datecalc.Interval { return datecalc.Interval{Start: a, End: b} }
	for _, tc := range []struct {
		today datecalc.Date
		want  []datecalc.Interval
	}{
		{d(2025, 9, 20), []datecalc.Interval{iv(d(2025, 9, 15), d(2025, 9, 30)), iv(d(2025, 10, 1), d(2025, 10, 1)),
			iv(d(2026, 9, 15), d(2026, 9, 30)), iv(d(2026, 10, 1), d(2026, 10, 1))}},
		{d(2025, 10, 2), []datecalc.Interval{iv(d(2026, 9, 15), d(2026, 9, 30)), iv(d(2026, 10, 1), d(2026, 10, 1))}},
	} {
		if diff := cmp.Diff(tc.want, s.aepWindows(tc.today)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.today, diff)
		}
	}
}
