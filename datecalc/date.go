package datecalc

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Date is a civil date (year, month, day) in the proleptic Gregorian
// calendar, without a time of day or a time zone.
//
// A Date is a small value (four bytes): compare it with ==, order it with
// Before, After or Compare, and use it as a map key. The supported years are
// 1 through 9999, the range of the YYYY-MM-DD text form.
//
// The zero value is not a date: it means "no date" (a contact without a
// birthday, for instance). IsZero reports it, String formats it as the empty
// string, and every arithmetic method returns the zero value unchanged when
// called on it, so a missing date never turns into a real one by accident.
type Date struct {
	// days counts days since 0001-01-01 plus one, so that the zero value is
	// free to mean "no date".
	days int32
}

// Bounds of the supported range, as day numbers (see Date.days).
const (
	minDays = 1          // 0001-01-01
	maxDays = 3652059    // 9999-12-31
	unixDay = 719162 + 1 // 1970-01-01
)

// ErrOutOfRange is returned when a date falls outside years 1 through 9999.
var ErrOutOfRange = errors.New("datecalc: date out of range (years 1-9999)")

// New returns the date year-month-day. Unlike time.Date it does not
// normalise: month must be 1-12, day must exist in that month (Feb 29 only in
// leap years) and year must be 1-9999, otherwise New returns an error.
func New(year int, month time.Month, day int) (Date, error) {
	if year < 1 || year > 9999 {
		return Date{}, fmt.Errorf("datecalc: year %d: %w", year, ErrOutOfRange)
	}
	if month < time.January || month > time.December {
		return Date{}, fmt.Errorf("datecalc: month %d is not 1-12", int(month))
	}
	if day < 1 || day > DaysIn(year, month) {
		return Date{}, fmt.Errorf("datecalc: day %d does not exist in %04d-%02d", day, year, int(month))
	}
	return fromCivil(year, month, day), nil
}

// MustNew is New for dates known to be valid, such as literals in tests and
// tables; it panics on an invalid date and must not be used on input.
func MustNew(year int, month time.Month, day int) Date {
	d, err := New(year, month, day)
	if err != nil {
		panic(err)
	}
	return d
}

// FromTime returns the civil date of t in t's own location.
func FromTime(t time.Time) Date {
	// The seconds since the Unix epoch in t's location, floored to whole
	// days: what t.Date computes first, without its year, month and day.
	_, offset := t.Zone()
	sec := t.Unix() + int64(offset)
	n := sec / secondsPerDay
	if sec%secondsPerDay < 0 {
		n--
	}
	if n < minDays-unixDay || n > maxDays-unixDay {
		return Date{}
	}
	return Date{days: int32(n) + unixDay}
}

const secondsPerDay = 24 * 60 * 60

// Today returns the current date in loc (UTC when loc is nil), as read from
// now. Pass time.Now in production and a fixed clock in tests.
func Today(now func() time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = time.UTC
	}
	return FromTime(now().In(loc))
}

// DaysIn returns the number of days of month in year (28-31).
func DaysIn(year int, month time.Month) int {
	switch month {
	case time.February:
		if IsLeap(year) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// IsLeap reports whether year is a Gregorian leap year.
func IsLeap(year int) bool {
	return year%4 == 0 && (year%100 != 0 || year%400 == 0)
}

// The calendar tables. Converting between day numbers and year, month and
// day happens on every anniversary and every exclusion check of a plan, so
// it is a few lookups rather than the division-heavy days-from-civil
// arithmetic; TestCivilExhaustive checks every day of years 1-9999.
var (
	// yearStart[y] is the day number (see Date.days) of January 1 of year
	// y, for y = 1 … 10000; year 10000 bounds the last supported year.
	yearStart = func() (t [10001]int32) {
		n := int32(minDays)
		for y := 1; y <= 10000; y++ {
			t[y] = n
			n += 365
			if IsLeap(y) {
				n++
			}
		}
		return t
	}()
	// monthStart[leap][m] is the day of the year (0-based) of the first of
	// month m (1-12) in a common (0) or leap (1) year; [13] is the year's
	// length.
	monthStart = func() (t [2][14]int32) {
		for leap := range 2 {
			year := 2023 + leap // any common year, any leap year
			for m := time.January; m <= time.December; m++ {
				t[leap][m+1] = t[leap][m] + int32(DaysIn(year, m))
			}
		}
		return t
	}()
	// monthOf[leap][doy] is the month of day doy (0-based) of a common (0)
	// or leap (1) year.
	monthOf = func() (t [2][366]uint8) {
		for leap := range 2 {
			m := 1
			for doy := range monthStart[leap][13] {
				if doy == monthStart[leap][m+1] {
					m++
				}
				t[leap][doy] = uint8(m)
			}
		}
		return t
	}()
)

// leapIndex is 1 when year y (1-9999) is a leap year, else 0: the first
// index of monthStart and monthOf.
func leapIndex(y int) int { return int(yearStart[y+1]-yearStart[y]) - 365 }

// fromCivil converts a valid civil date to a Date.
func fromCivil(year int, month time.Month, day int) Date {
	return Date{days: yearStart[year] + monthStart[leapIndex(year)][month] + int32(day) - 1}
}

// year is the year of a non-zero Date.
func (d Date) year() int {
	// Dividing by the mean Gregorian year (146097 days in 400 years) gives
	// the year or the one before, never a later one (TestCivilExhaustive
	// checks every day); the table settles it. Unsigned 32-bit arithmetic
	// suffices (at most 3652058 × 400) and divides fastest.
	y := int(uint32(d.days-minDays)*400/146097) + 1
	if d.days >= yearStart[y+1] {
		y++
	}
	return y
}

// civil is the inverse of fromCivil.
func (d Date) civil() (year int, month time.Month, day int) {
	y := d.year()
	doy := d.days - yearStart[y]
	leap := leapIndex(y)
	m := monthOf[leap][doy]
	return y, time.Month(m), int(doy-monthStart[leap][m]) + 1
}

// IsZero reports whether d is the zero value ("no date").
func (d Date) IsZero() bool { return d.days == 0 }

// Date returns the year, month and day of d; all zero for the zero Date.
func (d Date) Date() (year int, month time.Month, day int) {
	if d.days == 0 {
		return 0, 0, 0
	}
	return d.civil()
}

// Year returns d's year (0 for the zero Date).
func (d Date) Year() int {
	if d.days == 0 {
		return 0
	}
	return d.year()
}

// Month returns d's month (0 for the zero Date).
func (d Date) Month() time.Month { _, m, _ := d.Date(); return m }

// Day returns d's day of the month (0 for the zero Date).
func (d Date) Day() int { _, _, dd := d.Date(); return dd }

// Weekday returns the day of the week of d (Sunday for the zero Date).
func (d Date) Weekday() time.Weekday {
	if d.days == 0 {
		return time.Sunday
	}
	// 0001-01-01 was a Monday.
	return time.Weekday((int(d.days) - 1 + 1) % 7)
}

// AddDays returns d moved by n days (n may be negative). The result is
// clamped to the supported range; the zero Date stays zero.
func (d Date) AddDays(n int) Date {
	if d.days == 0 {
		return d
	}
	// Compare n with the room left instead of adding first: d.days + n
	// overflows for n near math.MaxInt or math.MinInt.
	switch {
	case n > maxDays-int(d.days):
		return Date{days: maxDays}
	case n < minDays-int(d.days):
		return Date{days: minDays}
	}
	return Date{days: d.days + int32(n)}
}

// DaysUntil returns the number of days from d to e: positive when e is
// later, 0 when they are equal. It is meaningless if either date is zero.
func (d Date) DaysUntil(e Date) int { return int(e.days) - int(d.days) }

// DaysBetween returns the number of days from a to b (b - a).
func DaysBetween(a, b Date) int { return a.DaysUntil(b) }

// Before reports whether d is earlier than e. The zero Date sorts first.
func (d Date) Before(e Date) bool { return d.days < e.days }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.days > e.days }

// Equal reports whether d and e are the same day (the same as d == e); it
// lets go-cmp and similar tools compare Dates.
func (d Date) Equal(e Date) bool { return d == e }

// Compare returns -1, 0 or +1 as d is before, equal to or after e, for use
// with slices.SortFunc.
func (d Date) Compare(e Date) int {
	switch {
	case d.days < e.days:
		return -1
	case d.days > e.days:
		return 1
	}
	return 0
}

// Min returns the earlier of d and e.
func Min(d, e Date) Date {
	if e.days < d.days {
		return e
	}
	return d
}

// Max returns the later of d and e.
func Max(d, e Date) Date {
	if e.days > d.days {
		return e
	}
	return d
}

// FirstOfMonth returns the first day of d's month; the zero Date stays zero.
func (d Date) FirstOfMonth() Date {
	if d.days == 0 {
		return d
	}
	return d.AddDays(1 - d.Day())
}

// AnniversaryIn returns the anniversary of d in year: the same month and day,
// except that Feb 29 becomes Feb 28 when year is not a leap year. It returns
// the zero Date when d is zero or year is outside 1-9999.
func (d Date) AnniversaryIn(year int) Date {
	if d.days == 0 || year < 1 || year > 9999 {
		return Date{}
	}
	_, m, day := d.civil()
	if m == time.February && day == 29 && !IsLeap(year) {
		day = 28
	}
	return fromCivil(year, m, day)
}

// MonthDay returns d's month and day (0, 0 for the zero Date): what an
// anniversary keeps of a date. Computing it once and then calling
// Anniversary for each year is cheaper than AnniversaryIn per year.
func (d Date) MonthDay() (time.Month, int) {
	_, m, day := d.Date()
	return m, day
}

// Anniversary returns month/day in year with the rule of AnniversaryIn:
// Feb 29 becomes Feb 28 when year is not a leap year. It returns the zero
// Date when year is outside 1-9999 or month/day is not a day of the year.
func Anniversary(year int, month time.Month, day int) Date {
	if year < 1 || year > 9999 || month < time.January || month > time.December || day < 1 || day > DaysIn(2024, month) {
		return Date{}
	}
	if month == time.February && day == 29 && !IsLeap(year) {
		day = 28
	}
	return fromCivil(year, month, day)
}

// NextAnniversary returns the first anniversary of d (see AnniversaryIn for
// Feb 29) that falls on or after from: an anniversary on from itself counts.
// It looks only at from's year and the next one and does not compare with d
// itself: when from is not later than d the result may be d (or even precede
// d). Callers that need an anniversary at least one year after d (policy
// effective dates) pass Max(from, d.AnniversaryIn(d.Year()+1)) as from. It
// returns the zero Date when d or from is zero, and when the anniversary
// would fall after year 9999.
func (d Date) NextAnniversary(from Date) Date {
	if d.days == 0 || from.days == 0 {
		return Date{}
	}
	a := d.AnniversaryIn(from.Year())
	if a.Before(from) {
		a = d.AnniversaryIn(from.Year() + 1)
	}
	return a
}

// Unix returns the number of days since 1970-01-01 (negative before it).
func (d Date) Unix() int { return int(d.days) - unixDay }

// FromUnix is the inverse of Unix. Day numbers outside the supported range
// yield the zero Date.
func FromUnix(n int) Date {
	v := int64(n) + unixDay
	if v < minDays || v > maxDays {
		return Date{}
	}
	return Date{days: int32(v)}
}

// Time returns the instant of d at hour:min in loc (UTC when loc is nil),
// normalised as time.Date does. The zero Date yields the zero time.Time, so
// that a missing date stays missing.
func (d Date) Time(hour, min int, loc *time.Location) time.Time {
	if d.days == 0 {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	y, m, day := d.civil()
	return time.Date(y, m, day, hour, min, 0, 0, loc)
}

// String formats d as YYYY-MM-DD; the zero Date formats as "".
func (d Date) String() string {
	if d.days == 0 {
		return ""
	}
	var buf [10]byte
	return string(d.AppendFormat(buf[:0]))
}

// AppendFormat appends d formatted as YYYY-MM-DD to b (nothing for the zero
// Date), without allocating when b has room.
func (d Date) AppendFormat(b []byte) []byte {
	if d.days == 0 {
		return b
	}
	y, m, day := d.civil()
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(m)/10), byte('0'+int(m)%10), '-', byte('0'+day/10), byte('0'+day%10))
	return b
}

// MarshalText implements encoding.TextMarshaler (YYYY-MM-DD, "" for zero).
func (d Date) MarshalText() ([]byte, error) { return d.AppendFormat(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler with Parse's rules; the
// empty text yields the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseBytes(b)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseError describes text that is not a YYYY-MM-DD date.
type ParseError struct {
	Input  string // the text given (cut to 64 bytes)
	Reason string // what was expected
}

func (e *ParseError) Error() string {
	return "datecalc: cannot parse " + strconv.Quote(e.Input) + " as YYYY-MM-DD: " + e.Reason
}

// Parse reads a date in the form YYYY-MM-DD. Anything after the date that
// starts with a space or a 'T' is a time part and is ignored, so
// "1955-05-01 00:00:00" and "1955-05-01T08:30:00Z" both parse as 1955-05-01,
// except a trailing " BC", PostgreSQL's mark of a year before the year 1.
// Leading and trailing spaces are ignored. Every other deviation (missing
// zero padding, other separators, a day that does not exist) is an error of
// type *ParseError.
func Parse(s string) (Date, error) {
	return parse(s)
}

// ParseBytes is Parse for a byte slice; it does not allocate on success.
func ParseBytes(b []byte) (Date, error) {
	return parse(b)
}

func parse[S string | []byte](s S) (Date, error) {
	i, j := 0, len(s)
	for i < j && s[i] == ' ' {
		i++
	}
	for j > i && s[j-1] == ' ' {
		j--
	}
	t := s[i:j]
	if len(t) < 10 {
		return Date{}, parseErr(s, "too short")
	}
	if len(t) > 10 && t[10] != ' ' && t[10] != 'T' {
		return Date{}, parseErr(s, "unexpected text after the date")
	}
	// PostgreSQL writes a date or timestamp before the year 1 as the
	// year counted back, then " BC" ("0001-12-31 BC" is the day before
	// 0001-01-01): not a time part to ignore, but a year out of range.
	if n := len(t); n >= 13 && t[n-3] == ' ' && t[n-2] == 'B' && t[n-1] == 'C' {
		return Date{}, parseErr(s, "a year BC is out of range")
	}
	if t[4] != '-' || t[7] != '-' {
		return Date{}, parseErr(s, "expected '-' between year, month and day")
	}
	y, ok1 := digits(t[0:4])
	m, ok2 := digits(t[5:7])
	d, ok3 := digits(t[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, parseErr(s, "expected digits")
	}
	if y < 1 {
		return Date{}, parseErr(s, "year 0000 does not exist")
	}
	if m < 1 || m > 12 {
		return Date{}, parseErr(s, "month must be 01-12")
	}
	if d < 1 || d > DaysIn(y, time.Month(m)) {
		return Date{}, parseErr(s, "day does not exist in that month")
	}
	return fromCivil(y, time.Month(m), d), nil
}

func digits[S string | []byte](s S) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func parseErr[S string | []byte](s S, reason string) error {
	if len(s) > 64 {
		s = s[:64] // cut before converting, so huge input is not copied
	}
	return &ParseError{Input: string(s), Reason: reason}
}
