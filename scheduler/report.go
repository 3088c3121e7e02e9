package scheduler

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/store"
)

// MaxInvalidSamples bounds Report.InvalidContacts: a run over millions of
// dirty rows reports every count but only this many examples.
const MaxInvalidSamples = 100

// Report describes a run. Its JSON field names are stable.
type Report struct {
	RunID         string        `json:"run_id"`
	Today         datecalc.Date `json:"today"`
	RulesName     string        `json:"rules_name"`
	RulesChecksum string        `json:"rules_checksum"`
	// ConfigChecksum identifies every plan-deciding configuration value
	// (Scheduler.Identity).
	ConfigChecksum string `json:"config_checksum"`
	// Replan is set when the stored plan was made with other settings:
	// the run did not keep stored dates, every email took what the run's
	// settings give it, and unaffected emails kept their rows.
	Replan     Replan    `json:"replan,omitzero"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`

	// Contacts is the number of contacts read; Valid of them were planned,
	// OptedOut have do_not_communicate set, Invalid got no plan.
	Contacts int `json:"contacts"`
	Valid    int `json:"valid"`
	OptedOut int `json:"opted_out"`
	Invalid  int `json:"invalid"`
	// InvalidByReason counts invalid contacts by reason.
	InvalidByReason map[InvalidReason]int `json:"invalid_by_reason,omitempty"`
	// InvalidContacts lists the first MaxInvalidSamples invalid contacts.
	InvalidContacts []InvalidContact `json:"invalid_contacts,omitempty"`
	// FieldIssues counts unreadable fields ("birth_date", ...) and
	// birthdays in the future ("birth_date: in the future"); each disabled
	// only the emails that need the field.
	FieldIssues map[string]int `json:"field_issues,omitempty"`
	// StateFromZIP and StateFromField count how valid contacts' states were
	// resolved; StateMismatches counts ZIPs that disagree with a valid state
	// field (the ZIP won).
	StateFromZIP    int `json:"state_from_zip"`
	StateFromField  int `json:"state_from_field"`
	StateMismatches int `json:"state_mismatches"`

	// CampaignIssues lists campaign catalogue entries that were ignored
	// (unknown type, invalid type name, duplicates).
	CampaignIssues []string `json:"campaign_issues,omitempty"`

	// Emails counts the new plan by type and status.
	Emails []TypeCount `json:"emails"`
	// Stages counts what each stage of the per-contact pipeline did.
	Stages StageCounts `json:"stages"`
	// SkipReasons counts skipped emails by reason.
	SkipReasons map[emailsched.SkipReason]int `json:"skip_reasons,omitempty"`
	// Balance describes load balancing: the limits, the per-day volume
	// before and after, the moves; nil when it is disabled.
	Balance *loadbalance.Report `json:"balance,omitempty"`
	// LoadFrom says where load balancing took the per-day volume from
	// (empty when it is disabled); LoadPlanDate is the run date of the
	// stored plan for LoadStored.
	LoadFrom     LoadOrigin    `json:"load_from,omitempty"`
	LoadPlanDate datecalc.Date `json:"load_plan_date,omitzero"`
	// LoadDiffered: balancing started from the stored volume (LoadStored),
	// and the volume this run planned differed from it on days where
	// emails move, so that the plan is not the one the exact volume gives.
	// A run then settles: Settled reports the second run, on the same day
	// and from the exact volume, that made the plan a fixed point (a third
	// run on the day writes nothing). A dry run or a preview only says so.
	LoadDiffered bool `json:"load_differed,omitempty"`
	// PlannedThrough is the last day whose emails are all planned: an
	// email of a later day may belong to an anniversary more than a year
	// ahead, which a later run plans. A chart of the plan falls off after
	// it ("not planned yet", not "nothing to send").
	PlannedThrough datecalc.Date `json:"planned_through,omitzero"`
	// AEPWindows are the AEP send windows that have not ended, this year's
	// and next year's: AEP emails go out within them.
	AEPWindows []datecalc.Interval `json:"aep_windows,omitempty"`
	// Settled is the report of the run that settled this one's plan (see
	// LoadDiffered), nil when none was needed.
	Settled *Report `json:"settled,omitempty"`
	// DeletedContacts counts contacts that no longer exist and whose
	// planned rows the run deleted (their rows are in Rows.Deleted).
	DeletedContacts int `json:"deleted_contacts,omitempty"`
	// Rows counts what was written to the sink: what the sink stored,
	// when it reports it (store.WriteReporter).
	Rows store.RowCounts `json:"rows"`
	// Timings of the run's phases.
	Timings Timings `json:"timings"`
}

// StageCounts counts, over the valid contacts, the emails each stage of
// the pipeline produced (anniversary → campaigns → follow-ups →
// post-window) and the emails each deciding stage skipped (exclusions,
// campaign conflicts, frequency limit).
type StageCounts struct {
	Anniversary      int `json:"anniversary"`
	Campaign         int `json:"campaign"`
	FollowUp         int `json:"followup"`
	PostWindow       int `json:"post_window"`
	Excluded         int `json:"excluded"`
	CampaignConflict int `json:"campaign_conflict"`
	FrequencyLimit   int `json:"frequency_limit"`
}

// InvalidContact names one invalid contact.
type InvalidContact struct {
	ID     int64         `json:"id"`
	Reason InvalidReason `json:"reason"`
}

// TypeCount counts the emails of one type.
type TypeCount struct {
	Type         emailsched.EmailType `json:"type"`
	PreScheduled int                  `json:"pre_scheduled"`
	Skipped      int                  `json:"skipped"`
}

// Timings are the durations of a run's phases. Reading and planning are
// interleaved, so they are measured together; Write is the time spent in
// the sink's Write calls, measured for writers that report what they wrote
// (store.WriteReporter; a sink that writes nothing takes no time worth two
// clock reads per contact). Count is the
// first pass of load balancing (reading and planning every contact once
// more), or reading the stored load (Report.LoadFrom).
//
// LongestLock and Locked come from sinks that report them
// (store.WriteReporter): the longest time the sink held the store's write
// lock in one stretch, during which the sending system could not write,
// and the total.
type Timings struct {
	Count       time.Duration `json:"count_ns"`
	ReadPlan    time.Duration `json:"read_plan_ns"`
	Write       time.Duration `json:"write_ns"`
	Commit      time.Duration `json:"commit_ns"`
	Total       time.Duration `json:"total_ns"`
	LongestLock time.Duration `json:"longest_lock_ns,omitempty"`
	Locked      time.Duration `json:"locked_ns,omitempty"`
}

// Planned returns the number of emails in the new plan.
func (r *Report) Planned() int {
	n := 0
	for _, t := range r.Emails {
		n += t.PreScheduled + t.Skipped
	}
	return n
}

// Count returns the number of emails of type t with status st.
func (r *Report) Count(t emailsched.EmailType, st emailsched.Status) int {
	for _, c := range r.Emails {
		if c.Type == t {
			if st == emailsched.StatusSkipped {
				return c.Skipped
			}
			return c.PreScheduled
		}
	}
	return 0
}

// add counts one contact's outcome; the skip reasons go to skips, which
// the caller flushes into r.SkipReasons.
func (r *Report) add(c *emailsched.Contact, o *outcome, skips *skipTally) {
	r.Contacts++
	for i := range c.Issues {
		r.FieldIssues[c.Issues[i].Field]++
	}
	if o.invalid != "" {
		r.Invalid++
		r.InvalidByReason[o.invalid]++
		if len(r.InvalidContacts) < MaxInvalidSamples {
			r.InvalidContacts = append(r.InvalidContacts, InvalidContact{ID: c.ID, Reason: o.invalid})
		}
		return
	}
	if o.optedOut {
		r.OptedOut++
		return
	}
	r.Valid++
	for _, field := range o.future {
		r.FieldIssues[field+futureIssue]++
	}
	if o.state.Source == rules.SourceZIP {
		r.StateFromZIP++
	} else {
		r.StateFromField++
	}
	if o.state.Mismatch {
		r.StateMismatches++
	}
	for i := range o.emails {
		e := &o.emails[i]
		r.Stages.count(o.info[i].kind, e.SkipReason)
		tc := r.typeCount(e.Type)
		if e.Status == emailsched.StatusSkipped {
			tc.Skipped++
			skips.add(r.SkipReasons, e.SkipReason)
		} else {
			tc.PreScheduled++
		}
	}
}

// skipTally counts skip reasons beside a Report's map: a run skips
// millions of emails for a few dozen reasons, each held in one string by
// the rule set, and comparing a reason with those seen so far costs less
// than hashing it into the map every time.
type skipTally struct {
	reasons []emailsched.SkipReason
	counts  []int
}

// maxTallied bounds the reasons a skipTally compares with; the rarer ones
// beyond go to the map directly.
const maxTallied = 32

func (t *skipTally) add(m map[emailsched.SkipReason]int, reason emailsched.SkipReason) {
	for i := range t.reasons {
		if t.reasons[i] == reason {
			t.counts[i]++
			return
		}
	}
	if len(t.reasons) == maxTallied {
		m[reason]++
		return
	}
	t.reasons = append(t.reasons, reason)
	t.counts = append(t.counts, 1)
}

// flush adds the counts to m and empties t.
func (t *skipTally) flush(m map[emailsched.SkipReason]int) {
	for i, reason := range t.reasons {
		m[reason] += t.counts[i]
	}
	t.reasons, t.counts = t.reasons[:0], t.counts[:0]
}

func (r *Report) typeCount(t emailsched.EmailType) *TypeCount {
	for i := range r.Emails {
		if r.Emails[i].Type == t {
			return &r.Emails[i]
		}
	}
	r.Emails = append(r.Emails, TypeCount{Type: t})
	return &r.Emails[len(r.Emails)-1]
}

func (r *Report) finish() {
	slices.SortFunc(r.Emails, func(a, b TypeCount) int { return cmp.Compare(a.Type, b.Type) })
}

// WriteSummary writes a summary of the report for an operator: what was
// read, what was planned and skipped and why, what was written, and how
// long it took. Its words are plain: the machine-readable names it shows
// (email types, skip reasons) are explained beside them.
func (r *Report) WriteSummary(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s for %s, rules %s (checksum %s)\n", r.RunID, r.Today, r.RulesName, shortSum(r.RulesChecksum))
	if r.Replan.Changed() {
		fmt.Fprintf(&b, "Re-planned: %s, so stored dates were not kept\n", r.Replan)
	}
	fmt.Fprintf(&b, "\nContacts  %9d read\n", r.Contacts)
	fmt.Fprintf(&b, "          %9d planned\n", r.Valid)
	fmt.Fprintf(&b, "          %9d opted out (do_not_communicate): no email\n", r.OptedOut)
	fmt.Fprintf(&b, "          %9d not planned, invalid\n", r.Invalid)
	for _, k := range sortedKeys(r.InvalidByReason) {
		fmt.Fprintf(&b, "          %9d   with %s (%s)\n", r.InvalidByReason[k], k.Describe(), k)
	}
	if len(r.FieldIssues) > 0 {
		b.WriteString("Fields    ")
		for i, k := range sortedKeys(r.FieldIssues) {
			if i > 0 {
				b.WriteString(", ")
			}
			// "birth_date" counts unreadable values, "birth_date: in the
			// future" impossible ones.
			if field, issue, ok := strings.Cut(k, ": "); ok {
				fmt.Fprintf(&b, "%d %s %s", r.FieldIssues[k], field, issue)
			} else {
				fmt.Fprintf(&b, "%d unreadable %s", r.FieldIssues[k], k)
			}
		}
		b.WriteString(" (only the emails that need the field were skipped)\n")
	}
	fmt.Fprintf(&b, "States    %9d from the ZIP code, %d from the state field; the ZIP code and the state field disagree for %d (the ZIP code wins)\n",
		r.StateFromZIP, r.StateFromField, r.StateMismatches)

	// Types and reasons are storage strings that stay as they are; the
	// column beside them says what they mean.
	width := len("Email type")
	for _, t := range r.Emails {
		width = max(width, len(t.Type))
	}
	fmt.Fprintf(&b, "\n%-*s  %13s  %7s  %s\n", width, "Email type", "pre-scheduled", "skipped", "what it is")
	total := TypeCount{}
	for _, t := range r.Emails {
		fmt.Fprintf(&b, "%-*s  %13d  %7d  %s\n", width, t.Type, t.PreScheduled, t.Skipped, t.Type.Describe())
		total.PreScheduled += t.PreScheduled
		total.Skipped += t.Skipped
	}
	fmt.Fprintf(&b, "%-*s  %13d  %7d\n", width, "total", total.PreScheduled, total.Skipped)
	st := r.Stages
	fmt.Fprintf(&b, "\nEmails    %d anniversary (birthday, effective date, AEP), %d campaign, %d follow-up, %d after an exclusion period\n",
		st.Anniversary, st.Campaign, st.FollowUp, st.PostWindow)
	fmt.Fprintf(&b, "Skipped   %d by the exclusion rules, %d for another campaign email on the same day, %d by the frequency limit\n",
		st.Excluded, st.CampaignConflict, st.FrequencyLimit)
	if len(r.SkipReasons) > 0 {
		width = len("Skip reason")
		for k := range r.SkipReasons {
			width = max(width, len(k))
		}
		fmt.Fprintf(&b, "\n%-*s  %7s  %s\n", width, "Skip reason", "emails", "why")
		for _, k := range sortedKeys(r.SkipReasons) {
			fmt.Fprintf(&b, "%-*s  %7d  %s\n", width, k, r.SkipReasons[k], k.Describe())
		}
	}
	fmt.Fprintf(&b, "\nRows      %d new, %d changed, %d deleted, %d left as they were\n",
		r.Rows.Inserted, r.Rows.Updated, r.Rows.Deleted, r.Rows.Unchanged)
	if r.Rows.Conflicting > 0 {
		fmt.Fprintf(&b, "          %d planned emails not written: the history already holds them (same contact, type and year; the database allows one)\n", r.Rows.Conflicting)
	}
	if r.DeletedContacts > 0 {
		fmt.Fprintf(&b, "          %d contacts no longer exist: their planned emails were deleted, their history kept\n", r.DeletedContacts)
	}
	if r.Rows.Taken > 0 {
		fmt.Fprintf(&b, "          %d rows taken over by the sending system during the run: left alone; the next run plans those contacts again\n", r.Rows.Taken)
	}
	switch r.LoadFrom {
	case LoadCounted:
		fmt.Fprintf(&b, "Volume    each day's email count came from a first pass over every contact (the contacts were read twice)\n")
	case LoadStored:
		fmt.Fprintf(&b, "Volume    each day's email count came from the plan stored on %s (the contacts were read once)\n", r.LoadPlanDate)
	}
	switch {
	case r.Settled != nil:
		fmt.Fprintf(&b, "Settled   this run's day counts differed from the stored ones where emails move, so a second run (%s) spread the emails again from the exact counts: %d new, %d changed, %d deleted rows\n",
			r.Settled.RunID, r.Settled.Rows.Inserted, r.Settled.Rows.Updated, r.Settled.Rows.Deleted)
	case r.LoadDiffered:
		fmt.Fprintf(&b, "Settle    this run's day counts differ from the stored ones where emails move: a real run would spread the emails again from the exact counts\n")
	}
	first := "first pass"
	if r.LoadFrom == LoadStored {
		first = "reading the stored counts"
	}
	fmt.Fprintf(&b, "Time      %v in all: %s %v, reading and planning %v, writing %v, committing %v\n",
		r.Timings.Total.Round(time.Millisecond), first, r.Timings.Count.Round(time.Millisecond), r.Timings.ReadPlan.Round(time.Millisecond),
		r.Timings.Write.Round(time.Millisecond), r.Timings.Commit.Round(time.Millisecond))
	if r.Timings.LongestLock > 0 {
		fmt.Fprintf(&b, "Lock      the database's write lock was held %v at most in one stretch (%v in all): the sending system's writes wait that long\n",
			r.Timings.LongestLock.Round(time.Millisecond), r.Timings.Locked.Round(time.Millisecond))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func shortSum(s string) string {
	if len(s) > 19 {
		return s[:19]
	}
	return s
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (s *StageCounts) count(k emailKind, reason emailsched.SkipReason) {
	switch k {
	case kindAnniversary:
		s.Anniversary++
	case kindCampaign:
		s.Campaign++
	case kindFollowUp:
		s.FollowUp++
	case kindPostWindow:
		s.PostWindow++
	}
	switch reason {
	case emailsched.ReasonNone:
	case emailsched.ReasonCampaignConflict:
		s.CampaignConflict++
	case emailsched.ReasonFrequencyLimit:
		s.FrequencyLimit++
	default:
		s.Excluded++
	}
}
