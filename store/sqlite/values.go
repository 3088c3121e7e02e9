package sqlite

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/storecol"
)

// SQLite is dynamically typed: a TEXT column may hold an integer, a real, a
// blob or NULL whatever its declared type. The source scans every column
// into an any (which costs no allocation beyond the driver's own) and
// converts it with these helpers, which never fail.

// text returns v as text: "" for NULL, the decimal form of numbers.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05")
	}
	return ""
}

// integer returns v as an integer and whether it is one (an integral real
// or a decimal text count too).
func integer(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return int64(x), true
		}
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil
	case []byte:
		n, err := strconv.ParseInt(string(bytes.TrimSpace(x)), 10, 64)
		return n, err == nil
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// flag reads a boolean column. NULL and "" are def; 0, "0", "false", "no",
// "n", "f", "off" are false; every other value is true.
func flag(v any, def bool) bool {
	switch x := v.(type) {
	case nil:
		return def
	case int64:
		return x != 0
	case float64:
		return x != 0
	case bool:
		return x
	}
	s := strings.ToLower(strings.TrimSpace(text(v)))
	switch s {
	case "":
		return def
	case "0", "false", "no", "n", "f", "off":
		return false
	}
	return true
}

// zip returns a ZIP code as text. A ZIP stored as an integer lost its
// leading zeros (02134 became 2134); they are put back.
func zip(v any) string {
	if n, ok := v.(int64); ok && n >= 0 && n < 100000 {
		var b [5]byte
		for i := 4; i >= 0; i-- {
			b[i] = byte('0' + n%10)
			n /= 10
		}
		return string(b[:])
	}
	return text(v)
}

// date reads a date column (selected as CAST(... AS TEXT), so v is a
// string or nil). Blank is the zero Date without an issue; anything
// unreadable is the zero Date and an issue appended to c.
func date(c *emailsched.Contact, field string, v any) datecalc.Date {
	s, _ := v.(string)
	if s == "" && v != nil {
		s = text(v)
	}
	return storecol.ContactDate(c, field, s)
}

// plainDate reads a date without reporting: the zero Date when unreadable.
func plainDate(v any) (datecalc.Date, bool) {
	s := text(v)
	if strings.TrimSpace(s) == "" {
		return datecalc.Date{}, true
	}
	d, err := datecalc.Parse(s)
	return d, err == nil
}

// A vocab is the recurring values of a TEXT column. The driver makes a Go
// string of every TEXT value it returns (scanning into sql.RawBytes cannot
// avoid that: it copies the driver's string), most of the allocations of a
// stream. A column read through its vocabulary, CASE col WHEN ?1 THEN 1
// WHEN ?2 THEN 2 ... ELSE col END, comes back as a small integer code for
// the values in it, which the driver returns without allocating, and the
// rows share one string per value. Only columns with TEXT affinity have
// one: they hold no integers (SQLite stores numbers given to them as text),
// so an integer is always a code.
type vocab struct{ values []string }

// code returns the index in values of the code v.
func (vc *vocab) code(v any) (int, bool) {
	n, ok := v.(int64)
	if !ok || n < 1 || n > int64(len(vc.values)) {
		return 0, false
	}
	return int(n - 1), true
}

// text is text for a column read through vc.
func (vc *vocab) text(v any) string {
	if n, ok := vc.code(v); ok {
		return vc.values[n]
	}
	return text(v)
}

// textAffinity reports whether a column declared with type t has TEXT
// affinity (https://sqlite.org/datatype3.html#determination_of_column_affinity).
func textAffinity(t string) bool {
	t = strings.ToUpper(t)
	return !strings.Contains(t, "INT") &&
		(strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT"))
}

// The source's conversions take the layout its data has first, without
// the general helpers' type switches and trimming, and fall back to them
// for anything else, so that they give exactly what the helpers give.

// isDate reports whether s has the layout of a stored date, YYYY-MM-DD.
func isDate(s string) bool { return len(s) == 10 && s[4] == '-' && s[7] == '-' }

// contactDate is date.
func contactDate(c *emailsched.Contact, field string, v any) datecalc.Date {
	if s, ok := v.(string); ok && isDate(s) {
		if d, err := datecalc.Parse(s); err == nil {
			return d
		}
	}
	return date(c, field, v)
}

// rowDate is plainDate.
func rowDate(v any) (datecalc.Date, bool) {
	if s, ok := v.(string); ok && isDate(s) {
		if d, err := datecalc.Parse(s); err == nil {
			return d, true
		}
	}
	return plainDate(v)
}

// instant is timestamp.
func instant(v any) (time.Time, bool) {
	if s, ok := v.(string); ok && len(s) == 19 {
		if t, ok := plainTimestamp(s); ok {
			return t, true
		}
	}
	return timestamp(v)
}

// timestamp reads a point in time: "YYYY-MM-DD HH:MM:SS[.fff][Z|±hh:mm]",
// the same with a 'T', a bare date (midnight), or a number of Unix seconds
// (milliseconds when it is larger than 1e12). Times without a zone are UTC.
// It reports false for anything else.
func timestamp(v any) (time.Time, bool) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false
	case time.Time:
		return x, true
	case int64:
		return unixTime(x), true
	case float64:
		return unixTime(int64(x)), true
	}
	s := strings.TrimSpace(text(v))
	if s == "" {
		return time.Time{}, false
	}
	dated := len(s) >= 10 && s[4] == '-' && s[7] == '-'
	if !dated { // a Unix time, in seconds or milliseconds
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return unixTime(n), true
		}
	}
	if t, ok := plainTimestamp(s); ok { // the common "YYYY-MM-DD HH:MM:SS", without parse errors
		return t, true
	}
	if len(s) == 10 {
		d, err := datecalc.Parse(s)
		if err != nil {
			return time.Time{}, false
		}
		return d.Time(0, 0, time.UTC), true
	}
	if len(s) >= 19 && (s[10] == ' ' || s[10] == 'T') {
		b := []byte(s)
		b[10] = 'T'
		if t, err := time.Parse(time.RFC3339Nano, string(b)); err == nil {
			return t, true
		}
		if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", string(b), time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// plainTimestamp reads "YYYY-MM-DD HH:MM:SS" (or with a 'T') as UTC.
func plainTimestamp(s string) (time.Time, bool) {
	if len(s) != 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	d, err := datecalc.Parse(s[:10])
	if err != nil {
		return time.Time{}, false
	}
	h, ok1 := twoDigits(s[11:13])
	m, ok2 := twoDigits(s[14:16])
	sec, ok3 := twoDigits(s[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Unix(int64(d.Unix())*86400+int64(h*3600+m*60+sec), 0).UTC(), true
}

func twoDigits(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

func unixTime(n int64) time.Time {
	if n > 1e12 || n < -1e12 {
		return time.UnixMilli(n).UTC()
	}
	return time.Unix(n, 0).UTC()
}

// medicalConditions reads the metadata of an eligibility_answered event
// (storecol.MedicalConditions) from a column value of any type.
func medicalConditions(v any) bool { return storecol.MedicalConditions(text(v)) }
