package datecalc_test

import (
	"fmt"
	"time"

	"github.com/emailsched/emailsched/datecalc"
)

func ExampleParse() {
	for _, s := range []string{"1955-05-01", "1955-05-01 00:00:00", " 2024-02-29T10:00:00Z ", "2023-02-29", "1955-5-1"} {
		d, err := datecalc.Parse(s)
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(d)
	}
	// Output:
	// 1955-05-01
	// 1955-05-01
	// 2024-02-29
	// error: datecalc: cannot parse "2023-02-29" as YYYY-MM-DD: day does not exist in that month
	// error: datecalc: cannot parse "1955-5-1" as YYYY-MM-DD: too short
}

func ExampleNew() {
	d, err := datecalc.New(2024, time.February, 29)
	fmt.Println(d, d.Weekday(), err)

	_, err = datecalc.New(2023, time.February, 29) // no rolling over to March 1
	fmt.Println(err)
	// Output:
	// 2024-02-29 Thursday <nil>
	// datecalc: day 29 does not exist in 2023-02
}

func ExampleDate_NextAnniversary() {
	birthday := datecalc.MustNew(1952, time.February, 29)
	for _, from := range []datecalc.Date{
		datecalc.MustNew(2024, time.February, 29), // on the day: counts
		datecalc.MustNew(2024, time.March, 1),     // next one is in 2025, not a leap year
		datecalc.MustNew(2025, time.March, 1),
	} {
		fmt.Println(from, "→", birthday.NextAnniversary(from))
	}
	// Output:
	// 2024-02-29 → 2024-02-29
	// 2024-03-01 → 2025-02-28
	// 2025-03-01 → 2026-02-28
}

func ExampleDate_AnniversaryIn() {
	birthday := datecalc.MustNew(1952, time.February, 29)
	for _, year := range []int{2023, 2024, 2025, 2100} {
		fmt.Println(birthday.AnniversaryIn(year))
	}
	// Output:
	// 2023-02-28
	// 2024-02-29
	// 2025-02-28
	// 2100-02-28
}

func ExampleInterval_Contains() {
	// California, birthday Dec 1: 30 days before, 60 after, 60-day buffer.
	anniversary := datecalc.MustNew(2024, time.December, 1)
	window := datecalc.Interval{Start: anniversary.AddDays(-30 - 60), End: anniversary.AddDays(60)}
	fmt.Println(window, window.Days())
	for _, d := range []datecalc.Date{
		datecalc.MustNew(2024, time.September, 1),
		datecalc.MustNew(2024, time.September, 2),
		datecalc.MustNew(2025, time.January, 30),
		datecalc.MustNew(2025, time.January, 31),
	} {
		fmt.Println(d, window.Contains(d))
	}
	// Output:
	// 2024-09-02…2025-01-30 151
	// 2024-09-01 false
	// 2024-09-02 true
	// 2025-01-30 true
	// 2025-01-31 false
}

func ExampleStableHash() {
	fmt.Printf("%#x\n", datecalc.StableHash(1, "birthday", 2025))
	fmt.Printf("%#x\n", datecalc.StableHash(42, "effective_date", 2024))
	fmt.Printf("%#x\n", datecalc.StableHash(123456, "aep", 2025))
	// Output:
	// 0x48e68a027da25efe
	// 0x23883543eee7a15f
	// 0x4e9646d9bd058907
}

func ExampleSpread() {
	// Catch-up: today + (h mod catch_up_spread_days).
	today := datecalc.MustNew(2025, time.March, 3)
	h := datecalc.StableHash(1, "birthday", 2025)
	fmt.Println(datecalc.Spread(h, 7), today.AddDays(datecalc.Spread(h, 7)))
	// Output:
	// 5 2025-03-08
}

func ExampleJitter() {
	// Effective-date smoothing: a shift in -2 … +2 days.
	for _, id := range []int64{1, 42, 123456} {
		h := datecalc.StableHash(id, "effective_date", 2025)
		fmt.Println(id, datecalc.Jitter(h, 2))
	}
	// Output:
	// 1 -1
	// 42 -2
	// 123456 1
}
