package loadbalance

import (
	"errors"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/google/go-cmp/cmp"
)

const pre = emailsched.StatusPreScheduled

// item is a pre-scheduled non-ED test item with a distinct hash per contact.
func item(id int64, date, latest datecalc.Date, prio int) Item {
	return Item{ContactID: id, Status: pre, Candidate: NewCandidate(id, emailsched.TypeBirthday, 2025, date, latest, prio)}
}

// fill returns n pre-scheduled items on date for contacts from, from+1, ….
func fill(from int64, n int, date datecalc.Date, prio int) []Item {
	var out []Item
	for k := range n {
		out = append(out, item(from+int64(k), date, datecalc.Date{}, prio))
	}
	return out
}

// assertStable runs Balance again over its own output and fails if anything
// moves (package documentation, Stability).
func assertStable(t *testing.T, today datecalc.Date, cfg Config, items []Item, got []datecalc.Date, legal LegalFunc) {
	t.Helper()
	again := append([]Item(nil), items...)
	for i := range again {
		again[i].Date = got[i]
	}
	got2, r2, err := Balance(today, cfg, again, legal)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Moved != 0 {
		t.Errorf("second run moved %d emails, want 0", r2.Moved)
	}
	if diff := cmp.Diff(got, got2); diff != "" {
		t.Errorf("second run changed dates (-first +second):\n%s", diff)
	}
}

func TestEDClusterSpreadsOverWindow(t *testing.T) {
	today, first := d(2025, 5, 20), d(2025, 6, 1)
	cfg := Config{ValidContacts: 10_000} // cap 700, ED soft limit 15, w 2
	var items []Item
	for id := int64(1); id <= 50; id++ {
		items = append(items, Item{ContactID: id, Status: pre,
			Candidate: NewCandidate(id, emailsched.TypeEffectiveDate, 2025, first, d(2025, 7, 1), 10)})
	}
	got, r, err := Balance(today, cfg, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	perDay := map[datecalc.Date]int{}
	nonZero := 0
	for i, it := range items {
		j := datecalc.Jitter(it.Hash, 2)
		if j != 0 {
			nonZero++
		}
		if shift := first.DaysUntil(got[i]); shift != 0 && shift != j {
			t.Errorf("contact %d moved by %d days, its jitter is %d", it.ContactID, shift, j)
		}
		perDay[got[i]]++
	}
	if nonZero < 35 {
		t.Fatalf("test data: only %d of 50 emails have a non-zero jitter", nonZero)
	}
	want := map[datecalc.Date]bool{}
	for k := -2; k <= 2; k++ {
		want[first.AddDays(k)] = true
	}
	for day, n := range perDay {
		if !want[day] {
			t.Errorf("%d emails on %s, outside the window", n, day)
		}
		if n > 15 {
			t.Errorf("%d effective_date emails on %s, over the soft limit 15", n, day)
		}
	}
	if len(perDay) != 5 {
		t.Errorf("emails on %d days, want the 5 days of the window: %v", len(perDay), perDay)
	}
	if perDay[first] != 15 || r.EDSmoothed != 35 || r.Moved != 35 {
		t.Errorf("the 1st keeps %d (want 15), smoothed %d, moved %d (want 35)", perDay[first], r.EDSmoothed, r.Moved)
	}
	if r.DaysOverEDSoftLimitBefore != 1 || r.DaysOverEDSoftLimitAfter != 0 {
		t.Errorf("days over the ED soft limit: before %d after %d, want 1 and 0", r.DaysOverEDSoftLimitBefore, r.DaysOverEDSoftLimitAfter)
	}
	assertStable(t, today, cfg, items, got, nil)
}

func TestOverflow(t *testing.T) {
	today := d(2025, 1, 1)
	cfg := Config{ValidContacts: 100} // cap 7, threshold 8, horizon 30
	jan := func(day int) datecalc.Date { return d(2025, 1, day) }
	noExcl := map[int64]rules{}
	tests := []struct {
		name      string
		items     []Item
		rules     map[int64]rules
		want      map[int64]datecalc.Date // contacts expected to move, and where
		unmovable int
	}{
		{
			name: "a day over cap spills to the next days with room, least important first",
			items: append(append(append(fill(1, 6, jan(10), 10), fill(7, 4, jan(10), 30)...),
				fill(11, 5, jan(11), 10)...), item(20, jan(12), datecalc.Date{}, 10)),
			rules: noExcl,
			// 10 on Jan 10: shed 3 of priority 30, the first three met;
			// Jan 11 has room for 2, Jan 12 for the third.
			want: map[int64]datecalc.Date{7: jan(11), 8: jan(11), 9: jan(12)},
		},
		{
			name:  "a day at the threshold does not shed",
			items: append(fill(1, 6, jan(10), 10), fill(7, 2, jan(10), 30)...),
			rules: noExcl,
			want:  map[int64]datecalc.Date{},
		},
		{
			name:  "an email one day before an exclusion period is not moved into it",
			items: append(fill(1, 2, jan(10), 30), fill(3, 7, jan(10), 10)...),
			rules: map[int64]rules{1: {excl: []datecalc.Interval{{Start: jan(11), End: jan(20)}}}},
			want:  map[int64]datecalc.Date{1: jan(21), 2: jan(11)},
		},
		{
			name:  "no legal day within the horizon: the email stays",
			items: append(fill(1, 2, jan(10), 30), fill(3, 7, jan(10), 10)...),
			rules: map[int64]rules{1: {excl: []datecalc.Interval{{Start: jan(11), End: d(2025, 3, 1)}}}},
			want:  map[int64]datecalc.Date{2: jan(11)},
		},
		{
			name: "an email whose anniversary is tomorrow is not moved past it",
			items: append(append(append([]Item{item(1, today, jan(2), 30)}, fill(2, 2, today, 30)...),
				fill(4, 7, today, 10)...), fill(11, 7, jan(2), 10)...),
			rules: noExcl,
			want:  map[int64]datecalc.Date{2: jan(3), 3: jan(3)},
		},
		{
			name:  "an email whose anniversary is tomorrow moves to it when it has room",
			items: append(append([]Item{item(1, today, jan(2), 30)}, fill(2, 2, today, 30)...), fill(4, 7, today, 10)...),
			rules: noExcl,
			want:  map[int64]datecalc.Date{1: jan(2), 2: jan(2), 3: jan(2)},
		},
		{
			name:      "still over the threshold when nothing may move",
			items:     append(fill(1, 4, jan(10), 30), fill(5, 7, jan(10), 10)...),
			rules:     map[int64]rules{1: {excl: []datecalc.Interval{{Start: jan(11), End: d(2025, 3, 1)}}}, 2: {excl: []datecalc.Interval{{Start: jan(11), End: d(2025, 3, 1)}}}, 3: {excl: []datecalc.Interval{{Start: jan(11), End: d(2025, 3, 1)}}}},
			want:      map[int64]datecalc.Date{4: jan(11)},
			unmovable: 3,
		},
		{
			name:  "the frequency limit holds after a move",
			items: append(append(fill(1, 2, jan(10), 30), fill(3, 7, jan(10), 10)...), item(1, jan(15), datecalc.Date{}, 10)),
			// Contact 1: at most 1 email in 5 days; it has Jan 10 and
			// Jan 15, so the email of Jan 10 may not go to Jan 11-19.
			rules: map[int64]rules{1: {maxPer: 1, period: 5}},
			want:  map[int64]datecalc.Date{1: jan(20), 2: jan(11)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			legal := legalFor(tt.items, tt.rules)
			got, r, err := Balance(today, cfg, tt.items, legal)
			if err != nil {
				t.Fatal(err)
			}
			moved := map[int64]datecalc.Date{}
			for i, it := range tt.items {
				if got[i] != it.Date {
					if _, dup := moved[it.ContactID]; dup {
						t.Fatalf("contact %d moved twice", it.ContactID)
					}
					moved[it.ContactID] = got[i]
				}
			}
			if diff := cmp.Diff(tt.want, moved); diff != "" {
				t.Errorf("moves (-want +got):\n%s", diff)
			}
			if r.Moved != len(tt.want) || r.Overflowed != len(tt.want) || r.Unmovable != tt.unmovable {
				t.Errorf("report: moved %d overflowed %d unmovable %d, want %d, %d, %d", r.Moved, r.Overflowed, r.Unmovable, len(tt.want), len(tt.want), tt.unmovable)
			}
			if !freqOK(tt.items, got, tt.rules) {
				t.Error("frequency limit broken")
			}
			assertStable(t, today, cfg, tt.items, got, legal)
		})
	}
}

func TestOverflowReport(t *testing.T) {
	today := d(2025, 1, 1)
	jan := func(day int) datecalc.Date { return d(2025, 1, day) }
	items := append(append(fill(1, 6, jan(10), 10), fill(7, 4, jan(10), 30)...), fill(11, 5, jan(11), 10)...)
	items = append(items, Item{ContactID: 30, Status: emailsched.StatusSkipped, Candidate: Candidate{Date: jan(10), Priority: 99}})
	items = append(items, Item{ContactID: 31, Status: pre, Candidate: Candidate{Date: d(2024, 12, 31), Priority: 99}})
	got, r, err := Balance(today, Config{ValidContacts: 100}, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Report{
		Limits: Limits{Cap: 7, Threshold: 8, EDSoftLimit: 3},
		Before: []DayVolume{
			{Date: jan(10), Total: 10},
			{Date: jan(11), Total: 5},
			{Date: jan(12)},
		},
		After: []DayVolume{
			{Date: jan(10), Total: 7, Left: 3},
			{Date: jan(11), Total: 7, Arrived: 2},
			{Date: jan(12), Total: 1, Arrived: 1},
		},
		DaysOverCapBefore:       1,
		DaysOverThresholdBefore: 1,
		Moved:                   3,
		Overflowed:              3,
		MovedByDays:             map[int]int{1: 2, 2: 1},
		Ignored:                 1,
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if got[len(got)-2] != jan(10) || got[len(got)-1] != d(2024, 12, 31) {
		t.Errorf("a skipped or past email moved: %v", got[len(got)-2:])
	}
}

func TestEDSmoothingRules(t *testing.T) {
	today := d(2025, 1, 1)
	day := d(2025, 1, 10)
	// edItems returns n ED items on day for contacts from, from+1, … whose
	// jitter (w 2) is jit, and their contact ids.
	edItems := func(from int64, n, jit int, latest datecalc.Date) []Item {
		var out []Item
		for id := from; len(out) < n; id++ {
			c := NewCandidate(id, emailsched.TypeEffectiveDate, 2025, day, latest, 10)
			if datecalc.Jitter(c.Hash, 2) == jit {
				out = append(out, Item{ContactID: id, Status: pre, Candidate: c})
			}
		}
		return out
	}
	cfg := Config{ValidContacts: 100} // cap 7, ED soft limit 3
	tests := []struct {
		name                string
		today               datecalc.Date
		items               []Item
		moved, stuck, after int // moved emails, EDStuck and ED count left on day
	}{
		{"excess moves by its jitter", today, edItems(1, 5, 1, datecalc.Date{}), 2, 0, 3},
		{"jitter 0 stays", today, edItems(1, 5, 0, datecalc.Date{}), 0, 0, 5},
		{"not after the anniversary", today, edItems(1, 5, 2, day.AddDays(1)), 0, 5, 5},
		{"not before today", day.AddDays(-1), edItems(1, 5, -2, datecalc.Date{}), 0, 5, 5},
		{"a day holding exactly the cap keeps its emails", today, append(edItems(1, 5, 1, datecalc.Date{}), fill(1000, 2, day, 10)...), 0, 5, 5},
		{"a day above the cap sheds down to it", today, append(edItems(1, 5, 1, datecalc.Date{}), fill(1000, 3, day, 10)...), 1, 4, 4},
		{"a target at the soft limit takes none", today, append(edItems(1, 5, 1, datecalc.Date{}), moveTo(edItems(5000, 3, 0, datecalc.Date{}), day.AddDays(1))...), 0, 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			today, items := tt.today, tt.items
			got, r, err := Balance(today, cfg, items, nil)
			if err != nil {
				t.Fatal(err)
			}
			left := 0
			for i, it := range items {
				if got[i] == day && it.IsED {
					left++
				}
				if got[i] != it.Date && got[i] != it.Date.AddDays(datecalc.Jitter(it.Hash, 2)) {
					t.Errorf("contact %d moved from %s to %s, not by its jitter", it.ContactID, it.Date, got[i])
				}
			}
			if r.EDSmoothed != tt.moved || r.EDUnsmoothed != tt.stuck || left != tt.after {
				t.Errorf("smoothed %d, stuck %d, left %d; want %d, %d, %d", r.EDSmoothed, r.EDUnsmoothed, left, tt.moved, tt.stuck, tt.after)
			}
			assertStable(t, today, cfg, items, got, nil)
		})
	}
}

func TestPlaceRepeatsUntilNothingMoves(t *testing.T) {
	today, day := d(2025, 1, 1), d(2025, 1, 10)
	c := NewCounter(today)
	cs := []Candidate{{Date: day, Priority: 30, Hash: 1}, {Date: day, Priority: 30, Hash: 2}}
	for _, e := range cs {
		c.Add(e)
	}
	for range 7 {
		c.Add(Candidate{Date: day, Priority: 10, Pinned: true})
	}
	p, err := NewPlan(c, Config{ValidContacts: 100})
	if err != nil {
		t.Fatal(err)
	}
	// The first email (hash 1, tried first) may move only once the second
	// one has left day.
	calls := 0
	legal := func(i int, _ datecalc.Date) bool {
		calls++
		return i == 1 || cs[1].Date != day
	}
	n, err := p.Place(1, cs, legal)
	if err != nil {
		t.Fatal(err)
	}
	want := []Candidate{{Date: day.AddDays(1), Priority: 30, Hash: 1}, {Date: day.AddDays(1), Priority: 30, Hash: 2}}
	if diff := cmp.Diff(want, cs); n != 2 || diff != "" {
		t.Errorf("Place moved %d (want 2) (-want +got):\n%s", n, diff)
	}
	// Round 1: the first email is refused on the 30 days of the horizon,
	// the second moves; round 2: the first moves.
	if calls != 32 {
		t.Errorf("legal called %d times, want 32", calls)
	}
	if _, err := p.Place(1, nil, nil); !errors.Is(err, ErrContactOrder) {
		t.Errorf("Place with the same contact again: err = %v, want ErrContactOrder", err)
	}
	if got := p.Limits(); got != (Limits{Cap: 7, Threshold: 8, EDSoftLimit: 3}) {
		t.Errorf("Limits() = %+v", got)
	}
}

func TestNothingMoves(t *testing.T) {
	today, day := d(2025, 1, 1), d(2025, 1, 10)
	pinned := fill(1, 20, day, 10)
	for i := range pinned {
		pinned[i].Pinned = true
	}
	tests := []struct {
		name  string
		cfg   Config
		items []Item
	}{
		{"no valid contacts: balancing is off", Config{}, fill(1, 20, day, 10)},
		{"pinned emails never move", Config{ValidContacts: 100}, pinned},
		{"nothing to balance", Config{ValidContacts: 100}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, r, err := Balance(today, tt.cfg, tt.items, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.items {
				if got[i] != tt.items[i].Date {
					t.Errorf("item %d moved to %s", i, got[i])
				}
			}
			if r.Moved != 0 {
				t.Errorf("Moved = %d", r.Moved)
			}
		})
	}
}

func TestFromEmail(t *testing.T) {
	tests := []struct {
		name string
		e    emailsched.Email
		want Candidate
	}{
		{"anniversary: bounded by its event",
			emailsched.Email{ContactID: 42, Type: emailsched.TypeEffectiveDate, Date: d(2024, 5, 2), Event: d(2024, 6, 1), Priority: 10},
			Candidate{Date: d(2024, 5, 2), Latest: d(2024, 6, 1), Priority: 10, Hash: 0x23883543eee7a15f, IsED: true}},
		{"post-window: after its event, no bound",
			emailsched.Email{ContactID: 1, Type: emailsched.TypePostWindow, Date: d(2025, 3, 2), Event: d(2025, 1, 1), Priority: 30},
			Candidate{Date: d(2025, 3, 2), Priority: 30, Hash: datecalc.StableHash(1, "post_window", 2025)}},
		{"follow-up: no event",
			emailsched.Email{ContactID: 1, Type: emailsched.TypeFollowUpCold, Date: d(2025, 3, 2), Priority: 20},
			Candidate{Date: d(2025, 3, 2), Priority: 20, Hash: datecalc.StableHash(1, "followup_1_cold", 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FromEmail(&tt.e)); diff != "" {
				t.Errorf("FromEmail (-want +got):\n%s", diff)
			}
		})
	}
}

// moveTo sets the date of every item to day.
func moveTo(items []Item, day datecalc.Date) []Item {
	for i := range items {
		items[i].Date = day
	}
	return items
}

func TestCanonicalOrder(t *testing.T) {
	day := d(2025, 1, 10)
	// Sorted by date, priority, hash, latest, IsED, Pinned.
	cs := []Candidate{
		{Date: day},
		{Date: day, Pinned: true},
		{Date: day, IsED: true},
		{Date: day, Latest: day},
		{Date: day, Hash: 1},
		{Date: day, Priority: 1},
		{Date: day.AddDays(1)},
	}
	for a := range cs {
		for b := range cs {
			if got, want := less(cs, a, b), a < b; got != want {
				t.Errorf("less(%+v, %+v) = %v, want %v", cs[a], cs[b], got, want)
			}
		}
	}
}
