package loadbalance_test

import (
	"fmt"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
)

func ExampleLimitsFor() {
	lim, err := loadbalance.LimitsFor(loadbalance.Config{ValidContacts: 3_000_000})
	if err != nil {
		panic(err)
	}
	fmt.Printf("cap %d, sheds above %d, effective-date soft limit %d\n", lim.Cap, lim.Threshold, lim.EDSoftLimit)

	_, err = loadbalance.LimitsFor(loadbalance.Config{ValidContacts: 100, OverageThreshold: 0.9})
	fmt.Println(err)
	// Output:
	// cap 210000, sheds above 252000, effective-date soft limit 15
	// loadbalance: OverageThreshold 0.9 must be in [1, 10]
}

func ExampleFromEmail() {
	e := emailsched.Email{
		ContactID: 42, Type: emailsched.TypeEffectiveDate, Status: emailsched.StatusPreScheduled,
		Date:  datecalc.MustNew(2024, time.May, 2),
		Event: datecalc.MustNew(2024, time.June, 1), Priority: 10,
	}
	c := loadbalance.FromEmail(&e)
	fmt.Printf("%s, latest %s, ED %v, jitter %+d\n", c.Date, c.Latest, c.IsED, datecalc.Jitter(c.Hash, 2))
	// Output:
	// 2024-05-02, latest 2024-06-01, ED true, jitter -1
}

// Balance works on an in-memory plan: here ten emails on one day of an
// organisation of 100 contacts (cap 7, shedding above 8).
func ExampleBalance() {
	today := datecalc.MustNew(2025, time.January, 1)
	day := datecalc.MustNew(2025, time.January, 10)
	var items []loadbalance.Item
	for id := int64(1); id <= 10; id++ {
		prio := 10
		if id > 7 {
			prio = 30 // the least important move first
		}
		items = append(items, loadbalance.Item{ContactID: id, Status: emailsched.StatusPreScheduled,
			Candidate: loadbalance.NewCandidate(id, emailsched.TypeBirthday, 2025, day, datecalc.Date{}, prio)})
	}
	// Contact 9 is in an exclusion period on Jan 11.
	legal := func(i int, d datecalc.Date, _ []datecalc.Date) bool {
		return items[i].ContactID != 9 || d != day.AddDays(1)
	}
	dates, r, err := loadbalance.Balance(today, loadbalance.Config{ValidContacts: 100}, items, legal)
	if err != nil {
		panic(err)
	}
	for i, d := range dates {
		if d != items[i].Date {
			fmt.Printf("contact %d: %s -> %s\n", items[i].ContactID, items[i].Date, d)
		}
	}
	fmt.Printf("moved %d, days over cap before %d after %d\n", r.Moved, r.DaysOverCapBefore, r.DaysOverCapAfter)
	// Output:
	// contact 8: 2025-01-10 -> 2025-01-11
	// contact 9: 2025-01-10 -> 2025-01-12
	// contact 10: 2025-01-10 -> 2025-01-11
	// moved 3, days over cap before 1 after 0
}

// The scheduler streams contacts twice and never holds the plan: the first
// pass counts, the second decides and writes, one contact at a time.
func ExamplePlan_Place() {
	today := datecalc.MustNew(2025, time.January, 1)
	// planContact stands for the scheduler's per-contact planning: it
	// returns the contact's pre-scheduled emails.
	planContact := func(id int64) []loadbalance.Candidate {
		return []loadbalance.Candidate{
			loadbalance.NewCandidate(id, emailsched.TypeAEP, 2025, today.AddDays(3), datecalc.Date{}, 20),
		}
	}
	ids := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

	// Pass 1: count.
	c := loadbalance.NewCounter(today)
	for _, id := range ids {
		for _, e := range planContact(id) {
			c.Add(e)
		}
	}
	p, err := loadbalance.NewPlan(c, loadbalance.Config{ValidContacts: 100})
	if err != nil {
		panic(err)
	}

	// Pass 2: decide, in ascending contact id order, then write.
	for _, id := range ids {
		cs := planContact(id)
		legal := func(i int, day datecalc.Date) bool {
			return true // check the contact's exclusion periods and frequency limit here
		}
		if _, err := p.Place(id, cs, legal); err != nil {
			panic(err)
		}
		if cs[0].Date != today.AddDays(3) {
			fmt.Printf("contact %d moves to %s\n", id, cs[0].Date)
		}
	}
	r := p.Report()
	for _, v := range r.After {
		fmt.Printf("%s: %d -> %d\n", v.Date, v.Total+v.Left-v.Arrived, v.Total)
	}
	// Output:
	// contact 1 moves to 2025-01-05
	// contact 2 moves to 2025-01-05
	// contact 3 moves to 2025-01-05
	// 2025-01-04: 10 -> 7
	// 2025-01-05: 0 -> 3
}

// Planning may be split over goroutines, each with its own Counter.
func ExampleCounter_Merge() {
	today := datecalc.MustNew(2025, time.January, 1)
	a, b := loadbalance.NewCounter(today), loadbalance.NewCounter(today)
	a.Add(loadbalance.Candidate{Date: today, Priority: 10})
	b.Add(loadbalance.Candidate{Date: today, Priority: 20, IsED: true})
	if err := a.Merge(b); err != nil {
		panic(err)
	}
	fmt.Println(a.Total(today))
	// Output: 2
}
