package postgres

import (
	"time"

	"github.com/emailsched/emailsched/datecalc"
)

// The conversions of what the stream reads. Columns of this adapter's
// tables are typed; the application's contacts table keeps its dates as
// text (see the package documentation), read with the rules of the SQLite
// adapter so that both stores give the scheduler the same contacts.

// dbDate reads a date column selected as text: the zero Date for NULL and
// for what is not a date (infinity).
func dbDate(s string) (datecalc.Date, bool) {
	if s == "" {
		return datecalc.Date{}, true
	}
	d, err := datecalc.Parse(s)
	return d, err == nil
}

// eventDate is the event of an email row: an event_year without a valid
// month and day reads as January 1 of that year, so that "already sent for
// this event year" still holds.
func eventDate(y, m, d int) datecalc.Date {
	if y < 1 || y > 9999 {
		return datecalc.Date{}
	}
	if m >= 1 && m <= 12 && d >= 1 && d <= 31 {
		if e, err := datecalc.New(y, time.Month(m), d); err == nil {
			return e
		}
	}
	e, _ := datecalc.New(y, 1, 1)
	return e
}
