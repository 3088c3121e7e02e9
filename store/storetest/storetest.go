// Package storetest checks that a store adapter meets the storage contract
// of package store, in the manner of testing/slogtest: an adapter's tests
// call Run with a function that opens a fresh store holding a fixture.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, f storetest.Fixture) (store.ContactSource, store.ScheduleSink) {
//			s, err := memory.New(f.Contacts, f.Campaigns)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s, s
//		})
//	}
//
// Package store/demodata generates the data of the suite's fixture, and of
// the tests, benchmarks and examples.
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/demodata"
)

// Fixture is the data a store must hold when the suite opens it.
type Fixture struct {
	// Contacts, in no particular order. Each may carry History and Stored
	// rows; a row with ID 0 gets an ID from the store, a row with an ID
	// keeps it (row IDs are unique across the fixture). A store files rows
	// by status: planned ones (pre-scheduled, skipped) are the stored plan,
	// the others history. A contact's Issues stand for raw field values
	// that do not parse: a store that keeps raw text stores Value in the
	// field (the Contact's date is then zero) and reports it again on
	// reading, with a reason of its own.
	Contacts []emailsched.Contact
	// Campaigns is the campaign catalogue; a source that implements
	// store.CampaignSource must return it.
	Campaigns emailsched.Campaigns
	// Deleted are contacts an application deleted, leaving their email
	// rows behind: the store must hold their History and Stored rows but
	// not the contacts themselves. A source yields each one that still has
	// planned rows, in ID order, with Deleted set and only its ID and
	// Stored rows; one with history only is not yielded.
	Deleted []emailsched.Contact
}

// AllContacts returns the fixture's contacts followed by its deleted ones,
// marked Deleted: what an adapter's open function writes, before it removes
// the contacts marked Deleted and keeps their rows.
func (f Fixture) AllContacts() []emailsched.Contact {
	out := cloneContacts(f.Contacts)
	for _, d := range cloneContacts(f.Deleted) {
		d.Deleted = true
		out = append(out, d)
	}
	return out
}

// Run runs the conformance suite, one subtest each, against stores made by
// open. open is called once per subtest (and per case of table subtests)
// and must return a fresh store that holds f and nothing else; it reports
// its own failures with t.Fatal. The source and the sink may be one value.
//
// Run checks that:
//   - Contacts yields every contact once, in ascending ID order, with every
//     field intact: history rows (statuses, types, dates, SentAt to the
//     second) and stored rows filed by status, row IDs kept or assigned
//     unique, engagement, campaign targets, issues (Field and Value);
//   - iterating twice gives the same result, breaking out of the loop
//     early works and leaves the store usable (for reading and writing);
//   - a cancelled context ends the stream with an error that satisfies
//     errors.Is(err, context.Canceled), never with a silent short stream;
//   - Begin, Write and Commit of Deltas that insert, update and delete rows
//     become the Stored rows of the next iteration, written rows carry the
//     run's ID, unchanged rows keep theirs; a Delta is copied by Write;
//   - Abort leaves the previous plan intact; a closed Writer refuses Write
//     and Commit with store.ErrClosed;
//   - a Delta that writes a status of the sending system, or changes a
//     row without its ID, is refused with store.ErrNotPlanned (at Write or
//     at Commit) and every row stays as it was;
//   - a Delta that updates or deletes a row that is not a planned row of
//     the contact (the sending system took it over, or it does not exist)
//     is not an error: the contact keeps its rows, the run goes on, and a
//     Writer that implements store.WriteReporter counts the rows in
//     RowCounts.Taken;
//   - deleted contacts (Fixture.Deleted) with planned rows are yielded with
//     Deleted set and only their planned rows; deleting those rows makes
//     them disappear from the stream;
//   - Campaigns returns the fixture's catalogue, when the source is a
//     store.CampaignSource.
//
// Instants are compared to the second, in any time zone: a store may keep
// text timestamps.
func Run(t *testing.T, open func(t *testing.T, f Fixture) (store.ContactSource, store.ScheduleSink)) {
	t.Helper()
	RunWithLimits(t, Limits{}, open)
}

// Limits name what a store's schema cannot hold. The suite's fixture then
// holds none of it, so that what the store reads back is what it was
// given; everything else is checked as by Run.
type Limits struct {
	// NoOptOut: contacts have no opt-out flag (a production organisation
	// database has no do_not_communicate column): no fixture contact is
	// opted out.
	NoOptOut bool
	// PlainEmails: every contact must have an address of its own (a
	// production database's email is NOT NULL UNIQUE): each fixture contact
	// gets a plausible one, "c<ID>@example.com".
	PlainEmails bool
}

// RunWithLimits is Run for a store whose schema has the limits lim.
func RunWithLimits(t *testing.T, lim Limits, open func(t *testing.T, f Fixture) (store.ContactSource, store.ScheduleSink)) {
	t.Helper()
	fx := suiteFixture()
	for _, cs := range [][]emailsched.Contact{fx.Contacts, fx.Deleted} {
		for i := range cs {
			if lim.NoOptOut {
				cs[i].DoNotCommunicate = false
			}
			if lim.PlainEmails {
				cs[i].Email = fmt.Sprintf("c%d@example.com", cs[i].ID)
			}
		}
	}
	want := expectedContacts(fx.Contacts, fx.Deleted)
	for _, tc := range []struct {
		name string
		f    func(t *testing.T, h *harness)
	}{
		{"Contacts", testContacts},
		{"ContactsTwice", testContactsTwice},
		{"BreakEarly", testBreakEarly},
		{"CancelledContext", testCancelled},
		{"CancelMidStream", testCancelMidStream},
		{"DirtyFields", testDirtyFields},
		{"Campaigns", testCampaigns},
		{"StoredLoad", testStoredLoad},
		{"StoredIdentities", testStoredIdentities},
		{"WriteDelta", testWriteDelta},
		{"UnchangedOnly", testUnchangedOnly},
		{"TwoRuns", testTwoRuns},
		{"DeltaReused", testDeltaReused},
		{"Abort", testAbort},
		{"Closed", testClosed},
		{"RefuseNotPlanned", func(t *testing.T, h *harness) { testRefuse(t, h, open) }},
		{"TakenRows", func(t *testing.T, h *harness) { testTaken(t, h, open) }},
		{"DeletedContacts", testDeleted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := cloneFixture(fx)
			src, sink := open(t, f)
			if src == nil || sink == nil {
				t.Fatal("open returned a nil source or sink")
			}
			tc.f(t, &harness{src: src, sink: sink, fx: fx, want: cloneContacts(want)})
		})
	}
}

type harness struct {
	src  store.ContactSource
	sink store.ScheduleSink
	fx   Fixture
	want []emailsched.Contact // the expected contents, sorted by ID
}

// Fixed IDs of the hand-made contacts of the fixture.
const (
	idFull   = 10001 // three stored rows with IDs, history, engagement, targets
	idEmpty  = 10002 // no rows at all
	idDirty  = 10003 // unreadable dates; rows without IDs
	idLegacy = 10004 // Feb 29, odd statuses, four stored rows
	idMany   = 10005 // many rows
	idBig    = 5_000_000_000
	// Deleted contacts (Fixture.Deleted).
	idGone        = 10006         // planned rows and history
	idGoneHistory = 10007         // history only: never yielded
	idGoneLast    = 6_000_000_000 // after every contact
	fixtureRn     = "storetest-fixture-run"
)

var suiteToday = demodata.DefaultToday

func suiteFixture() Fixture {
	today := suiteToday
	camps := demodata.DemoCampaigns(today)
	d := today.AddDays
	cdt := time.FixedZone("CDT", -5*3600)
	pre, skip := emailsched.StatusPreScheduled, emailsched.StatusSkipped
	full := emailsched.Contact{
		ID: idFull, Email: "Ana.Lopez@example.com", ZIP: "90210-1234", State: "CA",
		Birthday: datecalc.MustNew(1950, time.May, 20), EffectiveDate: datecalc.MustNew(2016, time.July, 1),
		Carrier: "Humana",
		History: []emailsched.Email{
			{ID: 900010, Type: emailsched.TypeBirthday, Date: datecalc.MustNew(2024, time.May, 6), Status: emailsched.StatusSent,
				Priority: 10, Event: datecalc.MustNew(2024, time.May, 20), SentAt: time.Date(2024, time.May, 6, 8, 30, 5, 0, cdt), RunID: "old-run"},
			{ID: 900011, Type: emailsched.TypeAEP, Date: datecalc.MustNew(2024, time.September, 15), Status: emailsched.StatusDelivered,
				Priority: 20, Event: datecalc.MustNew(2024, time.September, 15), SentAt: time.Date(2024, time.September, 15, 13, 30, 0, 0, time.UTC)},
			{ID: 900012, Type: "campaign_rate_increase", Date: d(-20), Status: "failed", Priority: 5, Event: d(-6),
				CampaignInstanceID: 1, EmailTemplate: "rate_increase_v1", SMSTemplate: "rate_increase_sms", Metadata: `{"attempt":2}`},
		},
		Stored: []emailsched.Email{
			{ID: 900001, Type: emailsched.TypeBirthday, Date: d(60), Status: skip, SkipReason: "exclusion_window:CA:birthday",
				Priority: 10, Event: d(74), RunID: fixtureRn},
			{ID: 900002, Type: emailsched.TypeEffectiveDate, Date: d(90), Status: pre, Priority: 10,
				Event: datecalc.MustNew(2025, time.July, 1), RunID: fixtureRn},
			{ID: 900003, Type: emailsched.TypeAEP, Date: d(2), Status: pre, Priority: 20, Event: d(2),
				CatchUpNote: "catch-up: ideal date passed", Metadata: `{"aep_choice":0}`, RunID: fixtureRn},
		},
		Engagement: []emailsched.Engagement{
			{Kind: emailsched.EngagementClick, At: time.Date(2024, time.May, 7, 10, 0, 0, 0, time.UTC)},
			{Kind: emailsched.EngagementHealthAnswer, At: time.Date(2024, time.May, 8, 11, 12, 13, 0, cdt), MedicalConditions: true},
		},
		Campaigns: []emailsched.CampaignTarget{
			{InstanceID: 1, Trigger: d(20), Status: "active"},
			{InstanceID: 4, Trigger: d(10), Status: "pending"},
		},
	}
	empty := emailsched.Contact{ID: idEmpty, ZIP: "10001-0001", DoNotCommunicate: true}
	dirty := emailsched.Contact{
		ID: idDirty, Email: "dirty@example.com", ZIP: "ABCDE", State: "zz",
		Issues: []emailsched.FieldIssue{
			{Field: emailsched.FieldBirthday, Value: "1955-13-45", Reason: "not a YYYY-MM-DD date"},
			{Field: emailsched.FieldEffectiveDate, Value: "2019-02-30", Reason: "day 30 does not exist in 2019-02"},
		},
		History: []emailsched.Email{
			{Type: emailsched.TypeAEP, Date: datecalc.MustNew(2024, time.September, 15), Status: emailsched.StatusScheduled, Priority: 20,
				Event: datecalc.MustNew(2024, time.September, 15)},
		},
		Stored: []emailsched.Email{
			{Type: emailsched.TypeAEP, Date: datecalc.MustNew(2025, time.September, 15), Status: pre, Priority: 20,
				Event: datecalc.MustNew(2025, time.September, 15), RunID: fixtureRn},
			{Type: "campaign_regulatory_notice", Date: d(3), Status: pre, Priority: 1, Event: d(3), CampaignInstanceID: 3,
				EmailTemplate: "privacy_notice", RunID: fixtureRn},
		},
	}
	legacy := emailsched.Contact{
		ID: idLegacy, Email: "josé.núñez@example.com", ZIP: "64101", State: "mo",
		Birthday: datecalc.MustNew(1952, time.February, 29), EffectiveDate: datecalc.MustNew(2010, time.March, 1), Carrier: "Mutual of Omaha",
		History: []emailsched.Email{
			{ID: 900020, Type: emailsched.TypePostWindow, Date: datecalc.MustNew(2024, time.April, 3), Status: "bounced", Priority: 30,
				Event: datecalc.MustNew(2024, time.March, 1)},
			{ID: 900021, Type: "campaign_rate_increase", Date: datecalc.MustNew(2024, time.June, 1), Status: "cancelled", Priority: 5,
				Event: datecalc.MustNew(2024, time.June, 15)},
			{ID: 900022, Type: emailsched.TypeFollowUpHQWithYes, Date: datecalc.MustNew(2024, time.June, 3), Status: emailsched.StatusAccepted,
				Priority: 5, Metadata: `{"initial_id":900021}`},
		},
		Stored: []emailsched.Email{
			{ID: 900030, Type: emailsched.TypeBirthday, Date: datecalc.MustNew(2025, time.February, 14), Status: pre, Priority: 10,
				Event: datecalc.MustNew(2025, time.February, 28), RunID: fixtureRn},
			{ID: 900031, Type: emailsched.TypeEffectiveDate, Date: d(-3), Status: skip, SkipReason: "exclusion_window:MO:effective_date",
				Priority: 10, Event: datecalc.MustNew(2025, time.March, 1), RunID: fixtureRn},
			{ID: 900032, Type: "campaign_promotion", Date: d(5), Status: pre, Priority: 40, Event: d(12), CampaignInstanceID: 4,
				EmailTemplate: "spring_review", SMSTemplate: "spring_review_sms", RunID: fixtureRn},
			{ID: 900033, Type: emailsched.TypeFollowUpCold, Date: d(1), Status: skip, SkipReason: emailsched.ReasonFrequencyLimit,
				Priority: 5, Metadata: `{"initial_id":900021}`, RunID: fixtureRn},
		},
	}
	many := emailsched.Contact{ID: idMany, Email: "many@example.com", ZIP: "30301", State: "GA",
		Birthday: datecalc.MustNew(1944, time.December, 31)}
	for i := range 80 {
		st := emailsched.Status("delivered")
		if i%3 == 0 {
			st = emailsched.StatusSent
		}
		many.History = append(many.History, emailsched.Email{Type: emailsched.TypePostWindow, Date: d(-1 - i*4), Status: st, Priority: 30,
			Event: d(-30 - i*4), SentAt: d(-1-i*4).Time(14, i%60, nil)})
	}
	for i := range 12 {
		many.Stored = append(many.Stored, emailsched.Email{Type: "campaign_promotion", Date: d(1 + i), Status: pre, Priority: 40,
			Event: d(8 + i), CampaignInstanceID: 4, RunID: fixtureRn})
	}
	big := emailsched.Contact{ID: idBig, Email: "big@example.com", ZIP: "99501", State: "AK",
		Birthday: datecalc.MustNew(1960, time.January, 1), EffectiveDate: datecalc.MustNew(2026, time.January, 1)}

	gen := demodata.Generate(demodata.GenOptions{Seed: 20250303, Contacts: 150, Today: today, HistoryFraction: 0.6, DirtyFraction: 0.1,
		StoredFraction: 0.5, Campaigns: camps, CampaignFraction: 0.2})
	contacts := []emailsched.Contact{big, legacy, full, dirty, empty, many}
	contacts = append(contacts, gen...)
	// Deleted contacts: one with a plan and history between the others'
	// IDs, one with history only, one after every contact.
	gone := emailsched.Contact{ID: idGone, Email: "gone@example.com", ZIP: "90001", State: "CA",
		History: []emailsched.Email{{ID: 800040, Type: emailsched.TypeBirthday, Date: datecalc.MustNew(2024, time.March, 1),
			Status: emailsched.StatusSent, Priority: 10, Event: datecalc.MustNew(2024, time.March, 15)}},
		Stored: []emailsched.Email{
			{ID: 800041, Type: emailsched.TypeAEP, Date: d(-2), Status: pre, Priority: 20, Event: d(-2), RunID: fixtureRn},
			{ID: 800042, Type: emailsched.TypeBirthday, Date: d(30), Status: skip, SkipReason: "exclusion_window:CA:birthday",
				Priority: 10, Event: d(44), RunID: fixtureRn},
		}}
	historyOnly := emailsched.Contact{ID: idGoneHistory, Email: "history@example.com", ZIP: "10001",
		History: []emailsched.Email{{ID: 800043, Type: emailsched.TypeAEP, Date: datecalc.MustNew(2024, time.September, 15),
			Status: emailsched.StatusDelivered, Priority: 20, Event: datecalc.MustNew(2024, time.September, 15)}}}
	last := emailsched.Contact{ID: idGoneLast, Email: "last@example.com", ZIP: "30301",
		Stored: []emailsched.Email{{ID: 800044, Type: emailsched.TypePostWindow, Date: d(9), Status: pre, Priority: 30, Event: d(-20), RunID: fixtureRn}}}
	return Fixture{Contacts: contacts, Campaigns: camps, Deleted: []emailsched.Contact{gone, historyOnly, last}}
}

// expectedContacts returns what a store holding contacts and the rows of
// deleted contacts yields: sorted by ID, rows filed by status, with their
// contact's ID; a deleted contact with planned rows as ID, Stored and
// Deleted.
func expectedContacts(contacts, deleted []emailsched.Contact) []emailsched.Contact {
	out := cloneContacts(contacts)
	for _, d := range deleted {
		g := emailsched.Contact{ID: d.ID, Deleted: true}
		for _, e := range append(slices.Clone(d.History), d.Stored...) {
			if e.Status.IsPlanned() {
				g.Stored = append(g.Stored, e)
			}
		}
		if len(g.Stored) > 0 {
			out = append(out, g)
		}
	}
	for i := range out {
		c := &out[i]
		rows := append(c.History, c.Stored...)
		c.History, c.Stored = nil, nil
		for _, e := range rows {
			e.ContactID = c.ID
			if e.Status.IsPlanned() {
				c.Stored = append(c.Stored, e)
			} else {
				c.History = append(c.History, e)
			}
		}
	}
	slices.SortFunc(out, func(a, b emailsched.Contact) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func cloneContacts(cs []emailsched.Contact) []emailsched.Contact {
	out := make([]emailsched.Contact, len(cs))
	for i := range cs {
		out[i] = cs[i].Clone()
	}
	return out
}

func cloneCampaigns(c emailsched.Campaigns) emailsched.Campaigns {
	o := emailsched.Campaigns{Types: slices.Clone(c.Types), Instances: slices.Clone(c.Instances)}
	for i := range o.Instances {
		o.Instances[i].TargetStates = slices.Clone(o.Instances[i].TargetStates)
		o.Instances[i].TargetCarriers = slices.Clone(o.Instances[i].TargetCarriers)
	}
	return o
}

func cloneFixture(f Fixture) Fixture {
	return Fixture{Contacts: cloneContacts(f.Contacts), Campaigns: cloneCampaigns(f.Campaigns), Deleted: cloneContacts(f.Deleted)}
}

// Comparison options. Rows, engagement, targets and issues are sets;
// instants count to the second; an issue's Reason is the store's own.
var (
	dateEqual = gocmp.Comparer(func(a, b datecalc.Date) bool { return a == b })
	timeEqual = gocmp.Comparer(func(a, b time.Time) bool {
		return a.Truncate(time.Second).Equal(b.Truncate(time.Second))
	})
	sortOpts = gocmp.Options{
		cmpopts.SortSlices(emailLess),
		cmpopts.SortSlices(func(a, b emailsched.Engagement) bool {
			return cmp.Or(cmp.Compare(a.At.Unix(), b.At.Unix()), cmp.Compare(a.Kind, b.Kind),
				boolCompare(a.MedicalConditions, b.MedicalConditions)) < 0
		}),
		cmpopts.SortSlices(func(a, b emailsched.CampaignTarget) bool {
			return cmp.Or(cmp.Compare(a.InstanceID, b.InstanceID), a.Trigger.Compare(b.Trigger), cmp.Compare(a.Status, b.Status)) < 0
		}),
		cmpopts.SortSlices(func(a, b emailsched.FieldIssue) bool {
			return cmp.Or(cmp.Compare(a.Field, b.Field), cmp.Compare(a.Value, b.Value)) < 0
		}),
	}
	setOpts = gocmp.Options{sortOpts, dateEqual, timeEqual, cmpopts.EquateEmpty(),
		cmpopts.IgnoreFields(emailsched.FieldIssue{}, "Reason")}
	// contentOpts ignore row IDs, which a store assigns.
	contentOpts = gocmp.Options{setOpts, cmpopts.IgnoreFields(emailsched.Email{}, "ID")}
	// exactOpts compare everything, instants exactly, in any order of
	// rows: what a store returns twice must be identical.
	exactOpts = gocmp.Options{sortOpts, dateEqual, cmpopts.EquateEmpty()}
)

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// emailLess orders rows by content (not by ID).
func emailLess(a, b emailsched.Email) bool {
	return cmp.Or(
		cmp.Compare(a.Type, b.Type), a.Date.Compare(b.Date), cmp.Compare(a.Status, b.Status),
		a.Event.Compare(b.Event), cmp.Compare(a.CampaignInstanceID, b.CampaignInstanceID),
		cmp.Compare(a.Metadata, b.Metadata), cmp.Compare(a.SkipReason, b.SkipReason),
		cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.CatchUpNote, b.CatchUpNote),
		cmp.Compare(a.EmailTemplate, b.EmailTemplate), cmp.Compare(a.SMSTemplate, b.SMSTemplate),
		cmp.Compare(a.RunID, b.RunID), cmp.Compare(a.SentAt.Unix(), b.SentAt.Unix()),
		cmp.Compare(a.ID, b.ID),
	) < 0
}

// readAll reads every contact with ctx, copying each, and fails on an
// error or on IDs out of order.
func readAll(t *testing.T, src store.ContactSource) []emailsched.Contact {
	t.Helper()
	var out []emailsched.Contact
	for c, err := range src.Contacts(t.Context()) {
		if err != nil {
			t.Fatalf("Contacts: error after %d contacts: %v", len(out), err)
		}
		if c == nil {
			t.Fatalf("Contacts: nil contact without an error after %d contacts", len(out))
		}
		if n := len(out); n > 0 && c.ID <= out[n-1].ID {
			t.Fatalf("Contacts: ID %d follows %d: not ascending", c.ID, out[n-1].ID)
		}
		out = append(out, c.Clone())
	}
	return out
}

// checkContacts compares a store's contents with the model: content with
// contentOpts, then row IDs: every row has a nonzero ID unique in the
// store, and every model row with an ID is the store's row of that ID.
func checkContacts(t *testing.T, want, got []emailsched.Contact) {
	t.Helper()
	if diff := gocmp.Diff(want, got, contentOpts); diff != "" {
		t.Errorf("contacts differ (-want +got):\n%s", diff)
	}
	byID := make(map[int64]emailsched.Email)
	for i := range got {
		c := &got[i]
		for _, rows := range [][]emailsched.Email{c.History, c.Stored} {
			for _, e := range rows {
				if e.ID == 0 {
					t.Errorf("contact %d: row %s %s has no ID", c.ID, e.Type, e.Date)
					continue
				}
				if o, dup := byID[e.ID]; dup {
					t.Errorf("row ID %d used twice: contacts %d and %d", e.ID, o.ContactID, e.ContactID)
				}
				byID[e.ID] = e
				if e.ContactID != c.ID {
					t.Errorf("contact %d: row %d has ContactID %d", c.ID, e.ID, e.ContactID)
				}
			}
		}
		for _, e := range c.Stored {
			if !e.Status.IsPlanned() {
				t.Errorf("contact %d: stored row %d has status %q, not a planned one", c.ID, e.ID, e.Status)
			}
		}
		for _, e := range c.History {
			if e.Status.IsPlanned() {
				t.Errorf("contact %d: history row %d has planned status %q", c.ID, e.ID, e.Status)
			}
		}
	}
	for i := range want {
		for _, rows := range [][]emailsched.Email{want[i].History, want[i].Stored} {
			for _, w := range rows {
				if w.ID == 0 {
					continue
				}
				g, ok := byID[w.ID]
				if !ok {
					t.Errorf("contact %d: row ID %d is missing", want[i].ID, w.ID)
					continue
				}
				if diff := gocmp.Diff(w, g, setOpts); diff != "" {
					t.Errorf("contact %d: row ID %d differs (-want +got):\n%s", want[i].ID, w.ID, diff)
				}
			}
		}
	}
}

func find(cs []emailsched.Contact, id int64) *emailsched.Contact {
	i, ok := slices.BinarySearchFunc(cs, id, func(c emailsched.Contact, id int64) int { return cmp.Compare(c.ID, id) })
	if !ok {
		return nil
	}
	return &cs[i]
}

func mustFind(t *testing.T, cs []emailsched.Contact, id int64) *emailsched.Contact {
	t.Helper()
	c := find(cs, id)
	if c == nil {
		t.Fatalf("contact %d not found", id)
	}
	return c
}

func sortedByID(rows []emailsched.Email) []emailsched.Email {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b emailsched.Email) int { return cmp.Compare(a.ID, b.ID) })
	return rows
}

// apply applies a committed delta to a model, as a store must: deleted rows
// go, updated rows are replaced (keeping their ID), inserted rows are added
// (their ID unknown); written rows get runID.
func apply(model []emailsched.Contact, d *store.Delta, runID string) {
	c := find(model, d.ContactID)
	for _, e := range d.Delete {
		c.Stored = slices.DeleteFunc(c.Stored, func(x emailsched.Email) bool { return x.ID == e.ID })
	}
	for _, e := range d.Update {
		e.ContactID, e.RunID = d.ContactID, runID
		j := slices.IndexFunc(c.Stored, func(x emailsched.Email) bool { return x.ID == e.ID })
		c.Stored[j] = e
	}
	for _, e := range d.Insert {
		e.ID, e.ContactID, e.RunID = 0, d.ContactID, runID
		c.Stored = append(c.Stored, e)
	}
}

func begin(t *testing.T, sink store.ScheduleSink, runID string) store.Writer {
	t.Helper()
	w, err := sink.Begin(t.Context(), emailsched.RunInfo{ID: runID, Today: suiteToday,
		StartedAt: suiteToday.Time(3, 0, time.UTC), SendTime: "08:30", RulesChecksum: "storetest"})
	if err != nil {
		t.Fatalf("Begin(%s): %v", runID, err)
	}
	if w == nil {
		t.Fatalf("Begin(%s) returned a nil Writer", runID)
	}
	return w
}

func write(t *testing.T, w store.Writer, deltas ...*store.Delta) {
	t.Helper()
	for _, d := range deltas {
		if err := w.Write(t.Context(), d); err != nil {
			t.Fatalf("Write(contact %d): %v", d.ContactID, err)
		}
	}
}

func summary(deltas ...*store.Delta) store.Summary {
	var s store.Summary
	for _, d := range deltas {
		s.Contacts++
		s.Rows.Inserted += len(d.Insert)
		s.Rows.Updated += len(d.Update)
		s.Rows.Deleted += len(d.Delete)
		s.Rows.Unchanged += d.Unchanged
	}
	return s
}

func commit(t *testing.T, w store.Writer, deltas ...*store.Delta) {
	t.Helper()
	if err := w.Commit(t.Context(), summary(deltas...)); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func testContacts(t *testing.T, h *harness) {
	got := readAll(t, h.src)
	if len(got) != len(h.want) {
		t.Errorf("got %d contacts, want %d", len(got), len(h.want))
	}
	checkContacts(t, h.want, got)
}

func testContactsTwice(t *testing.T, h *harness) {
	a := readAll(t, h.src)
	b := readAll(t, h.src)
	if diff := gocmp.Diff(a, b, exactOpts); diff != "" {
		t.Errorf("second iteration differs from the first (-first +second):\n%s", diff)
	}
}

func testBreakEarly(t *testing.T, h *harness) {
	var first []emailsched.Contact
	for c, err := range h.src.Contacts(t.Context()) {
		if err != nil {
			t.Fatalf("Contacts: %v", err)
		}
		first = append(first, c.Clone())
		if len(first) == 3 {
			break
		}
	}
	if diff := gocmp.Diff(h.want[:3], first, contentOpts); diff != "" {
		t.Errorf("first three contacts differ (-want +got):\n%s", diff)
	}
	// A broken-off iteration must not hold what a write needs.
	d := &store.Delta{ContactID: idEmpty, Insert: []emailsched.Email{newRow(idEmpty, emailsched.TypeBirthday, 4)}}
	w := begin(t, h.sink, "storetest-after-break")
	write(t, w, d)
	commit(t, w, d)
	apply(h.want, d, "storetest-after-break")
	checkContacts(t, h.want, readAll(t, h.src))
}

func testCancelled(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var gotErr error
	n := 0
	for c, err := range h.src.Contacts(ctx) {
		if gotErr != nil {
			t.Fatalf("Contacts yielded (%v, %v) after the error %v", c != nil, err, gotErr)
		}
		if err != nil {
			gotErr = err
			if c != nil {
				t.Errorf("Contacts yielded a contact with the error %v", err)
			}
			continue
		}
		n++
	}
	if !errors.Is(gotErr, context.Canceled) {
		t.Errorf("Contacts(cancelled context): stream ended after %d contacts with error %v, want one satisfying errors.Is(err, context.Canceled)", n, gotErr)
	}
}

func testCancelMidStream(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []emailsched.Contact
	var gotErr error
	for c, err := range h.src.Contacts(ctx) {
		if gotErr != nil {
			t.Fatalf("Contacts yielded (%v, %v) after the error %v", c != nil, err, gotErr)
		}
		if err != nil {
			gotErr = err
			continue
		}
		got = append(got, c.Clone())
		if len(got) == 1 {
			cancel()
		}
	}
	switch {
	case gotErr != nil && !errors.Is(gotErr, context.Canceled):
		t.Errorf("stream ended with %v, want one satisfying errors.Is(err, context.Canceled)", gotErr)
	case gotErr == nil && len(got) != len(h.want):
		t.Errorf("stream ended silently after %d of %d contacts: a cancelled stream must end with an error", len(got), len(h.want))
	}
	if len(got) <= len(h.want) {
		if diff := gocmp.Diff(h.want[:len(got)], got, contentOpts); diff != "" {
			t.Errorf("contacts before the cancellation differ (-want +got):\n%s", diff)
		}
	}
}

func testDirtyFields(t *testing.T, h *harness) {
	got := readAll(t, h.src)
	n := 0
	for i := range h.want {
		w := &h.want[i]
		if len(w.Issues) == 0 {
			continue
		}
		n++
		g := mustFind(t, got, w.ID)
		if diff := gocmp.Diff(w.Issues, g.Issues, setOpts); diff != "" {
			t.Errorf("contact %d: issues differ (-want +got):\n%s", w.ID, diff)
		}
		for _, is := range g.Issues {
			if is.Reason == "" {
				t.Errorf("contact %d: issue %s %q without a reason", w.ID, is.Field, is.Value)
			}
			if is.Field == emailsched.FieldBirthday && !g.Birthday.IsZero() ||
				is.Field == emailsched.FieldEffectiveDate && !g.EffectiveDate.IsZero() {
				t.Errorf("contact %d: field %s has an issue and a date", w.ID, is.Field)
			}
		}
	}
	if n < 2 {
		t.Fatalf("fixture has %d contacts with issues", n)
	}
}

func testCampaigns(t *testing.T, h *harness) {
	cs, ok := h.src.(store.CampaignSource)
	if !ok {
		t.Skip("source does not implement store.CampaignSource")
	}
	got, err := cs.Campaigns(t.Context())
	if err != nil {
		t.Fatalf("Campaigns: %v", err)
	}
	opts := gocmp.Options{dateEqual, cmpopts.EquateEmpty(),
		cmpopts.SortSlices(func(a, b emailsched.CampaignType) bool { return a.Name < b.Name }),
		cmpopts.SortSlices(func(a, b emailsched.CampaignInstance) bool { return a.ID < b.ID }),
	}
	if diff := gocmp.Diff(h.fx.Campaigns, got, opts); diff != "" {
		t.Errorf("Campaigns differ (-want +got):\n%s", diff)
	}
}

// testStoredLoad: a source that implements store.LoadSource gives back
// the load the last committed run passed in Summary.Load, and none before.
func testStoredLoad(t *testing.T, h *harness) {
	ls, ok := h.src.(store.LoadSource)
	if !ok {
		t.Skip("source does not implement store.LoadSource")
	}
	ctx := t.Context()
	if _, ok, err := ls.StoredLoad(ctx); ok || err != nil {
		t.Fatalf("StoredLoad before any run: %v, %v", ok, err)
	}
	load := &store.PlanLoad{Key: "storetest", Today: suiteToday, ValidContacts: 3, Entries: []store.LoadEntry{
		{Date: suiteToday, Priority: 10, Emails: 2},
		{Date: suiteToday, Priority: 20, EffectiveDate: true, Emails: 1},
		{Date: suiteToday.AddDays(400), Priority: 30, Emails: 7},
	}}
	w, err := h.sink.Begin(ctx, emailsched.RunInfo{ID: "storetest-load", Today: suiteToday, SendTime: "08:30"})
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	if err := w.Commit(ctx, store.Summary{Load: load}); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	got, ok, err := ls.StoredLoad(ctx)
	if err != nil || !ok {
		t.Fatalf("StoredLoad after a run: %v, %v", ok, err)
	}
	if diff := gocmp.Diff(*load, got, dateEqual); diff != "" {
		t.Errorf("StoredLoad differs from the committed load (-want +got):\n%s", diff)
	}
}

// testStoredIdentities checks store.IdentitySource: the identity of the
// last completed run, and after an interrupted run with other settings
// that run's as well when its rows may remain.
func testStoredIdentities(t *testing.T, h *harness) {
	is, ok := h.src.(store.IdentitySource)
	if !ok {
		t.Skip("source does not implement store.IdentitySource")
	}
	ctx := t.Context()
	if ids, err := is.StoredIdentities(ctx); len(ids) != 0 || err != nil {
		t.Fatalf("StoredIdentities before any run: %v, %v", ids, err)
	}
	run := func(id string, pi store.PlanIdentity, finish bool) {
		t.Helper()
		w, err := h.sink.Begin(ctx, emailsched.RunInfo{ID: id, Today: suiteToday, SendTime: "08:30",
			RulesChecksum: pi.Rules, ConfigChecksum: pi.Config})
		if err != nil {
			t.Fatalf("Begin(%s): %v", id, err)
		}
		d := &store.Delta{ContactID: idEmpty, Insert: []emailsched.Email{newRow(idEmpty, emailsched.TypeBirthday, 4)}}
		if finish {
			d.Insert = nil // keep the contact's plan as it was
			commit(t, w)
			return
		}
		write(t, w, d)
		if err := w.Abort(ctx, errors.New("storetest: interrupted")); err != nil {
			t.Fatalf("Abort(%s): %v", id, err)
		}
	}
	a := store.PlanIdentity{Rules: "sha256:rules-a", Config: "sha256:config-a"}
	b := store.PlanIdentity{Rules: "sha256:rules-a", Config: "sha256:config-b"}
	c := store.PlanIdentity{Rules: "sha256:rules-c", Config: "sha256:config-b"}
	run("storetest-id-a", a, true)
	run("storetest-id-b", b, true)
	ids, err := is.StoredIdentities(ctx)
	if err != nil || !slices.Equal(ids, []store.PlanIdentity{b}) {
		t.Fatalf("StoredIdentities after two completed runs = %v, %v; want the last run's only, %v", ids, err, b)
	}
	run("storetest-id-c", c, false)
	ids, err = is.StoredIdentities(ctx)
	if err != nil || len(ids) == 0 || ids[0] != b || slices.ContainsFunc(ids, func(x store.PlanIdentity) bool { return x != b && x != c }) {
		t.Fatalf("StoredIdentities after an interrupted run = %v, %v; want %v first, then at most %v", ids, err, b, c)
	}
}

// newRow is a planned row the suite writes.
func newRow(contactID int64, typ emailsched.EmailType, days int) emailsched.Email {
	return emailsched.Email{ContactID: contactID, Type: typ, Date: suiteToday.AddDays(days), Status: emailsched.StatusPreScheduled,
		Priority: 10, Event: suiteToday.AddDays(days + 14), Metadata: fmt.Sprintf(`{"storetest":%d}`, days)}
}

// changes returns deltas that insert, update, delete and keep rows.
func changes(t *testing.T, got []emailsched.Contact) []*store.Delta {
	t.Helper()
	full := sortedByID(mustFind(t, got, idFull).Stored)
	if len(full) != 3 {
		t.Fatalf("contact %d has %d stored rows, want 3", idFull, len(full))
	}
	upd := full[1]
	upd.Date, upd.CatchUpNote, upd.RunID = upd.Date.AddDays(3), "moved by storetest", ""
	ins := emailsched.Email{ContactID: idFull, Type: "campaign_rate_increase", Date: suiteToday.AddDays(10),
		Status: emailsched.StatusPreScheduled, Priority: 5, Event: suiteToday.AddDays(24), CampaignInstanceID: 1,
		EmailTemplate: "rate_increase_v1", SMSTemplate: "rate_increase_sms", Metadata: `{"k":"v"}`}
	dFull := &store.Delta{ContactID: idFull, Insert: []emailsched.Email{ins}, Update: []emailsched.Email{upd},
		Delete: []emailsched.Email{full[2]}, Unchanged: 1}

	skipped := newRow(idEmpty, emailsched.TypeEffectiveDate, 20)
	skipped.Status, skipped.SkipReason = emailsched.StatusSkipped, "exclusion_window:MO:effective_date"
	dEmpty := &store.Delta{ContactID: idEmpty, Insert: []emailsched.Email{newRow(idEmpty, emailsched.TypeBirthday, 7), skipped}}

	dDirty := &store.Delta{ContactID: idDirty, Delete: slices.Clone(mustFind(t, got, idDirty).Stored)}
	return []*store.Delta{dFull, dEmpty, dDirty}
}

func testWriteDelta(t *testing.T, h *harness) {
	got := readAll(t, h.src)
	deltas := changes(t, got)
	const run = "storetest-run-1"
	w := begin(t, h.sink, run)
	write(t, w, deltas...)
	commit(t, w, deltas...)
	model := cloneContacts(got)
	for _, d := range deltas {
		apply(model, d, run)
	}
	after := readAll(t, h.src)
	checkContacts(t, model, after)

	full := mustFind(t, after, idFull)
	old := sortedByID(mustFind(t, got, idFull).Stored)
	for _, e := range full.Stored {
		switch e.ID {
		case old[0].ID:
			if e.RunID != old[0].RunID {
				t.Errorf("unchanged row %d: RunID %q, want the old %q", e.ID, e.RunID, old[0].RunID)
			}
		case old[2].ID:
			t.Errorf("deleted row %d is still stored", e.ID)
		default:
			if e.RunID != run {
				t.Errorf("written row %d (%s): RunID %q, want %q", e.ID, e.Type, e.RunID, run)
			}
		}
	}
	if !slices.ContainsFunc(full.Stored, func(e emailsched.Email) bool { return e.ID == old[1].ID }) {
		t.Errorf("updated row %d lost its ID", old[1].ID)
	}
	if n := len(mustFind(t, after, idDirty).Stored); n != 0 {
		t.Errorf("contact %d: %d stored rows after deleting all", idDirty, n)
	}
}

func testUnchangedOnly(t *testing.T, h *harness) {
	got := readAll(t, h.src)
	w := begin(t, h.sink, "storetest-unchanged")
	var deltas []*store.Delta
	for i := range got {
		d := new(store.Delta)
		d.Reset(got[i].ID)
		store.Diff(got[i].Stored, got[i].Stored, d)
		if !d.Empty() || d.Unchanged != len(got[i].Stored) {
			t.Fatalf("Diff of a plan with itself: %+v", d)
		}
		deltas = append(deltas, d)
	}
	write(t, w, deltas...)
	commit(t, w, deltas...)
	after := readAll(t, h.src)
	if diff := gocmp.Diff(got, after, exactOpts); diff != "" {
		t.Errorf("a run without changes changed the store (-before +after):\n%s", diff)
	}
}

func testTwoRuns(t *testing.T, h *harness) {
	got := readAll(t, h.src)
	d1 := &store.Delta{ContactID: idEmpty, Insert: []emailsched.Email{
		newRow(idEmpty, emailsched.TypeBirthday, 5), newRow(idEmpty, emailsched.TypeAEP, 6), newRow(idEmpty, emailsched.TypeEffectiveDate, 8)}}
	w := begin(t, h.sink, "storetest-run-a")
	write(t, w, d1)
	commit(t, w, d1)
	model := cloneContacts(got)
	apply(model, d1, "storetest-run-a")
	mid := readAll(t, h.src)
	checkContacts(t, model, mid)

	// Run b: the planner keeps the birthday row, moves the AEP row, drops
	// the effective-date row and adds a post-window email.
	stored := sortedByID(mustFind(t, mid, idEmpty).Stored)
	var planned []emailsched.Email
	for _, e := range stored {
		switch e.Type {
		case emailsched.TypeBirthday:
			planned = append(planned, e)
		case emailsched.TypeAEP:
			e.Date = e.Date.AddDays(1)
			planned = append(planned, e)
		}
	}
	planned = append(planned, newRow(idEmpty, emailsched.TypePostWindow, 40))
	d2 := new(store.Delta)
	d2.Reset(idEmpty)
	store.Diff(stored, planned, d2)
	if len(d2.Insert) != 1 || len(d2.Update) != 1 || len(d2.Delete) != 1 || d2.Unchanged != 1 {
		t.Fatalf("Diff: want 1 insert, update, delete, unchanged; got %+v", d2)
	}
	w = begin(t, h.sink, "storetest-run-b")
	write(t, w, d2)
	commit(t, w, d2)
	apply(mid, d2, "storetest-run-b")
	after := readAll(t, h.src)
	checkContacts(t, mid, after)
	for _, e := range mustFind(t, after, idEmpty).Stored {
		want := "storetest-run-b"
		if e.Type == emailsched.TypeBirthday {
			want = "storetest-run-a"
		}
		if e.RunID != want {
			t.Errorf("row %d (%s): RunID %q, want %q", e.ID, e.Type, e.RunID, want)
		}
	}
}

func testDeltaReused(t *testing.T, h *harness) {
	got := readAll(t, h.src)
	const run = "storetest-reuse"
	w := begin(t, h.sink, run)
	model := cloneContacts(got)
	var d store.Delta
	var deltas []*store.Delta
	for i, id := range []int64{idEmpty, idFull, idLegacy, idBig} {
		d.Reset(id)
		d.Insert = append(d.Insert, newRow(id, emailsched.TypePostWindow, 30+i), newRow(id, "campaign_promotion", 31+i))
		d.Insert[1].CampaignInstanceID = 4
		if err := w.Write(t.Context(), &d); err != nil {
			t.Fatalf("Write(contact %d): %v", id, err)
		}
		cp := store.Delta{ContactID: id, Insert: slices.Clone(d.Insert)}
		apply(model, &cp, run)
		deltas = append(deltas, &cp)
		// The caller owns the Delta again: scribble over it.
		for j := range d.Insert {
			d.Insert[j] = emailsched.Email{ContactID: -1, Type: "garbage", Status: "sent"}
		}
	}
	commit(t, w, deltas...)
	checkContacts(t, model, readAll(t, h.src))
}

func testAbort(t *testing.T, h *harness) {
	got := readAll(t, h.src)
	deltas := changes(t, got)
	w := begin(t, h.sink, "storetest-aborted")
	write(t, w, deltas...)
	if err := w.Abort(t.Context(), errors.New("storetest: deliberate abort")); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if err := w.Abort(t.Context(), nil); err != nil {
		t.Errorf("second Abort: %v, want nil (no-op)", err)
	}
	if err := w.Write(t.Context(), deltas[0]); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Write after Abort: %v, want store.ErrClosed", err)
	}
	if err := w.Commit(t.Context(), store.Summary{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Commit after Abort: %v, want store.ErrClosed", err)
	}
	after := readAll(t, h.src)
	if diff := gocmp.Diff(got, after, exactOpts); diff != "" {
		t.Errorf("an aborted run changed the store (-before +after):\n%s", diff)
	}
}

func testClosed(t *testing.T, h *harness) {
	w := begin(t, h.sink, "storetest-closed")
	d := &store.Delta{ContactID: idEmpty, Insert: []emailsched.Email{newRow(idEmpty, emailsched.TypeBirthday, 3)}}
	write(t, w, d)
	commit(t, w, d)
	if err := w.Write(t.Context(), d); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Write after Commit: %v, want store.ErrClosed", err)
	}
	if err := w.Commit(t.Context(), store.Summary{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Commit after Commit: %v, want store.ErrClosed", err)
	}
	if err := w.Abort(t.Context(), nil); err != nil {
		t.Errorf("Abort after Commit: %v, want nil (no-op)", err)
	}
	apply(h.want, d, "storetest-closed")
	checkContacts(t, h.want, readAll(t, h.src))
}

// testRefuse runs deltas that no run may write: a status of the sending
// system, a row to change without its ID; each on a fresh store.
func testRefuse(t *testing.T, h *harness, open func(t *testing.T, f Fixture) (store.ContactSource, store.ScheduleSink)) {
	got := readAll(t, h.src)
	full := mustFind(t, got, idFull)
	planned := sortedByID(full.Stored)[0]
	sentRow := newRow(idFull, emailsched.TypeAEP, 9)
	sentRow.Status = emailsched.StatusSent
	toDelivered := planned
	toDelivered.Status = emailsched.StatusDelivered
	noID := planned
	noID.ID = 0

	for _, tc := range []struct {
		name string
		d    store.Delta
	}{
		{"InsertSentRow", store.Delta{Insert: []emailsched.Email{sentRow}}},
		{"UpdatePlannedToDelivered", store.Delta{Update: []emailsched.Email{toDelivered}}},
		{"UpdateWithoutID", store.Delta{Update: []emailsched.Email{noID}}},
		{"DeleteWithoutID", store.Delta{Delete: []emailsched.Email{noID}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, sink := open(t, cloneFixture(h.fx))
			before := readAll(t, src)
			d := tc.d
			d.ContactID = idFull
			w := begin(t, sink, "storetest-refused")
			err := w.Write(t.Context(), &d)
			if err == nil {
				err = w.Commit(t.Context(), summary(&d))
			}
			if aerr := w.Abort(t.Context(), err); aerr != nil {
				t.Errorf("Abort after the refusal: %v", aerr)
			}
			if !errors.Is(err, store.ErrNotPlanned) {
				t.Errorf("Write+Commit: %v, want an error satisfying errors.Is(err, store.ErrNotPlanned)", err)
			}
			after := readAll(t, src)
			if diff := gocmp.Diff(before, after, exactOpts); diff != "" {
				t.Errorf("a refused delta changed the store (-before +after):\n%s", diff)
			}
		})
	}
}

// testTaken runs deltas that name rows which are not (any longer) the
// contact's planned rows, as when the sending system takes a row over
// between a run's read and its write; each on a fresh store.
func testTaken(t *testing.T, h *harness, open func(t *testing.T, f Fixture) (store.ContactSource, store.ScheduleSink)) {
	got := readAll(t, h.src)
	full := mustFind(t, got, idFull)
	hist := sortedByID(full.History)[0] // status sent
	if hist.Status != emailsched.StatusSent {
		t.Fatalf("fixture: row %d has status %q, want sent", hist.ID, hist.Status)
	}
	plan := sortedByID(full.Stored)
	other := sortedByID(mustFind(t, got, idLegacy).Stored)[0]

	// A run's update carries the new content, a planned status: here the
	// row's ID is one the sending system holds.
	moved := hist
	moved.Date, moved.Status = moved.Date.AddDays(1), emailsched.StatusPreScheduled
	ghost := plan[0]
	ghost.ID = 987654321
	keep := plan[1]
	keep.Date = keep.Date.AddDays(2)

	for _, tc := range []struct {
		name  string
		d     store.Delta
		taken int
	}{
		{"UpdateHistoryRow", store.Delta{Update: []emailsched.Email{moved}}, 1},
		{"DeleteHistoryRow", store.Delta{Delete: []emailsched.Email{hist}}, 1},
		{"UpdateOtherContactsRow", store.Delta{Update: []emailsched.Email{other}}, 1},
		{"DeleteOtherContactsRow", store.Delta{Delete: []emailsched.Email{other}}, 1},
		{"UpdateUnknownRow", store.Delta{Update: []emailsched.Email{ghost}}, 1},
		// The contact's good changes are left out with the taken row: it
		// keeps its whole previous plan.
		{"WithGoodChanges", store.Delta{Insert: []emailsched.Email{newRow(idFull, emailsched.TypePostWindow, 12)},
			Update: []emailsched.Email{keep}, Delete: []emailsched.Email{hist, plan[2]}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, sink := open(t, cloneFixture(h.fx))
			before := readAll(t, src)
			d := tc.d
			d.ContactID = idFull
			// Another contact's changes in the same run still land.
			other := &store.Delta{ContactID: idEmpty, Insert: []emailsched.Email{newRow(idEmpty, emailsched.TypeBirthday, 4)}}
			w := begin(t, sink, "storetest-taken")
			write(t, w, &d, other)
			commit(t, w, &d, other)
			if wr, ok := w.(store.WriteReporter); ok {
				if got := wr.WriteReport().Rows; got.Taken != tc.taken || got.Inserted != 1 {
					t.Errorf("WriteReport().Rows = %+v, want Taken %d and the other contact's 1 insert", got, tc.taken)
				}
			}
			apply(before, other, "storetest-taken")
			checkContacts(t, before, readAll(t, src))
		})
	}
}

// testDeleted: the planned rows of deleted contacts are yielded, and gone
// once a run deletes them.
func testDeleted(t *testing.T, h *harness) {
	got := readAll(t, h.src)
	for _, id := range []int64{idGone, idGoneLast} {
		if c := find(got, id); c == nil || !c.Deleted {
			t.Errorf("deleted contact %d with planned rows: not yielded with Deleted set", id)
		}
	}
	if c := find(got, idGoneHistory); c != nil {
		t.Errorf("deleted contact %d with history only was yielded: %+v", idGoneHistory, c)
	}
	var deltas []*store.Delta
	for _, id := range []int64{idGone, idGoneLast} {
		c := mustFind(t, got, id)
		d := new(store.Delta)
		d.Reset(id)
		store.Diff(c.Stored, nil, d)
		deltas = append(deltas, d)
	}
	w := begin(t, h.sink, "storetest-deleted")
	write(t, w, deltas...)
	commit(t, w, deltas...)
	after := readAll(t, h.src)
	for _, id := range []int64{idGone, idGoneHistory, idGoneLast} {
		if c := find(after, id); c != nil {
			t.Errorf("deleted contact %d still yielded after its rows were deleted: %+v", id, c)
		}
	}
	want := slices.DeleteFunc(cloneContacts(got), func(c emailsched.Contact) bool { return c.Deleted })
	checkContacts(t, want, after)
}
