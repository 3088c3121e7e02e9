// Package storecol holds the column formats the store adapters share, so
// that an organisation moved from one store to another (or read by either)
// means the same thing: the stored per-day load of a plan, campaign target
// lists, the NULLs written for empty values, and the metadata of a health
// answer.
package storecol

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

// planLoad is the JSON form of store.PlanLoad in
// scheduler_checkpoints.plan_load: short names, because a load has a few
// thousand entries.
type planLoad struct {
	Version int           `json:"v"`
	Key     string        `json:"key"`
	Today   datecalc.Date `json:"today"`
	Valid   int           `json:"valid_contacts"`
	Entries []loadEntry   `json:"entries"`
}

type loadEntry struct {
	Date     datecalc.Date `json:"d"`
	Priority int           `json:"p"`
	ED       bool          `json:"e,omitempty"`
	Emails   int           `json:"n"`
}

// loadVersion is the version of the JSON form; a load of another version
// (a newer program's) is not read.
const loadVersion = 1

// EncodeLoad returns the plan_load column value of l: nil (NULL) for nil,
// else its JSON text.
func EncodeLoad(l *store.PlanLoad) (any, error) {
	if l == nil {
		return nil, nil
	}
	pl := planLoad{Version: loadVersion, Key: l.Key, Today: l.Today, Valid: l.ValidContacts, Entries: make([]loadEntry, len(l.Entries))}
	for i, e := range l.Entries {
		pl.Entries[i] = loadEntry{Date: e.Date, Priority: e.Priority, ED: e.EffectiveDate, Emails: e.Emails}
	}
	b, err := json.Marshal(pl)
	if err != nil {
		return nil, errors.Join(errors.New("encoding the plan load"), err)
	}
	return string(b), nil
}

// DecodeLoad reads a plan_load column value. It reports false for a text
// that is not a load of this version (a newer program's, or damaged): such
// a load counts as none.
func DecodeLoad(raw string) (store.PlanLoad, bool) {
	var pl planLoad
	if json.Unmarshal([]byte(raw), &pl) != nil || pl.Version != loadVersion {
		return store.PlanLoad{}, false
	}
	l := store.PlanLoad{Key: pl.Key, Today: pl.Today, ValidContacts: pl.Valid, Entries: make([]store.LoadEntry, len(pl.Entries))}
	for i, e := range pl.Entries {
		l.Entries[i] = store.LoadEntry{Date: e.Date, Priority: e.Priority, EffectiveDate: e.ED, Emails: e.Emails}
	}
	return l, true
}

// List reads a campaign target list: a JSON array of strings or a
// comma-separated text, blank entries left out. It reports false when the
// text is neither.
func List(s string) ([]string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, true
	}
	var out []string
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, false
		}
	} else {
		out = strings.Split(s, ",")
	}
	n := 0
	for _, x := range out {
		if x = strings.TrimSpace(x); x != "" {
			out[n] = x
			n++
		}
	}
	return out[:n], true
}

// Arguments for writing: NULL for empty values, as the existing rows of
// organisation databases have them.

// NullText is s, or NULL for "".
func NullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// NullInt is n, or NULL for 0.
func NullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// NullDate is d as YYYY-MM-DD, or NULL for the zero date.
func NullDate(d datecalc.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

// ContactDate reads a contact's date column, given as text. Blank is the
// zero Date without an issue; anything unreadable is the zero Date and a
// FieldIssue appended to c (its value cut to 64 bytes), so that both stores
// report a dirty date alike.
func ContactDate(c *emailsched.Contact, field, s string) datecalc.Date {
	if strings.TrimSpace(s) == "" {
		return datecalc.Date{}
	}
	d, err := datecalc.Parse(s)
	if err != nil {
		reason := "not a YYYY-MM-DD date"
		if pe, ok := err.(*datecalc.ParseError); ok {
			reason = "not a YYYY-MM-DD date: " + pe.Reason
		}
		c.Issues = append(c.Issues, emailsched.FieldIssue{Field: field, Value: Cut(s, 64), Reason: reason})
		return datecalc.Date{}
	}
	return d
}

// Cut is s cut to at most n bytes (for values echoed in reports and
// error columns).
func Cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// MedicalConditions reads the metadata of an eligibility_answered event:
// true when has_medical_conditions is true (or 1, "true", "yes", "y") or
// main_questions_yes_count is above zero. Unreadable metadata is false.
func MedicalConditions(s string) bool {
	if s == "" || !strings.Contains(s, "_") {
		return false
	}
	var m struct {
		Has json.RawMessage `json:"has_medical_conditions"`
		Yes json.RawMessage `json:"main_questions_yes_count"`
	}
	if json.Unmarshal([]byte(s), &m) != nil {
		return false
	}
	switch strings.ToLower(strings.Trim(string(m.Has), `" `)) {
	case "true", "yes", "y", "1":
		return true
	}
	if y := strings.Trim(string(m.Yes), `" `); y != "" {
		if f, err := strconv.ParseFloat(y, 64); err == nil && f > 0 {
			return true
		}
	}
	return false
}
