package configfile_test

import (
	"fmt"

	"github.com/emailsched/emailsched/scheduler"
	"github.com/emailsched/emailsched/scheduler/configfile"
)

// Parse reads a configuration; keys it does not set keep their defaults.
func ExampleParse() {
	f, err := configfile.Parse("scheduler.yaml", []byte(`
time_zone: America/New_York
aep_dates: ["09-15", "10-01"]
timing:
  birthday_days_before: 21
load_balancing:
  daily_cap_percent: 5
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	c := f.Scheduler
	fmt.Println(c.Location, c.SendTime, c.AEPDates, *c.BirthdayDaysBefore, *c.EffectiveDateDaysBefore, *c.DailyCapPercent)

	// The Config is ready for scheduler.New (give it Rules: see File.LoadRules).
	_, err = scheduler.New(c)
	fmt.Println(err)
	// Output:
	// America/New_York 08:30 [09-15 10-01] 21 30 5
	// <nil>
}

// Every problem of a file is reported at once, with its line and column.
func ExampleParse_errors() {
	_, err := configfile.Parse("scheduler.yaml", []byte(`
send_time: "8:30"
frequency_limit:
  max_emails: 0
  period: 14
`))
	fmt.Println(err)
	// Output:
	// scheduler.yaml:2:12: send_time must be a time of day "HH:MM" from "00:00" to "23:59", found "8:30"
	//     2 | send_time: "8:30"
	//       |            ^
	//
	// scheduler.yaml:4:15: frequency_limit.max_emails must be an integer from 1 to 100, found 0
	//     4 |   max_emails: 0
	//       |               ^
	//
	// scheduler.yaml:5:3: unknown key "period" in frequency_limit; allowed: enabled, max_emails, period_days
	//     5 |   period: 14
	//       |   ^
}
