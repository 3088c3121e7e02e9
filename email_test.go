package emailsched_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emailsched/emailsched/internal/proptest"

	"github.com/google/go-cmp/cmp"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// fixedTypes lists every fixed email type with its storage string.
var fixedTypes = []struct {
	t    emailsched.EmailType
	text string
}{
	{emailsched.TypeBirthday, "birthday"},
	{emailsched.TypeEffectiveDate, "effective_date"},
	{emailsched.TypeAEP, "aep"},
	{emailsched.TypePostWindow, "post_window"},
	{emailsched.TypeFollowUpCold, "followup_1_cold"},
	{emailsched.TypeFollowUpClicked, "followup_2_clicked_no_hq"},
	{emailsched.TypeFollowUpHQNoYes, "followup_3_hq_no_yes"},
	{emailsched.TypeFollowUpHQWithYes, "followup_4_hq_with_yes"},
}

func TestEmailTypeStorageStrings(t *testing.T) {
	for _, ft := range fixedTypes {
		if string(ft.t) != ft.text {
			t.Errorf("email type constant = %q, want %q (storage contract)", ft.t, ft.text)
		}
	}
}

func TestParseEmailType(t *testing.T) {
	type tc struct {
		in   string
		want emailsched.EmailType
	}
	var valid []tc
	for _, ft := range fixedTypes {
		valid = append(valid, tc{ft.text, ft.t}, tc{"  " + ft.text + " ", ft.t})
	}
	valid = append(valid,
		// Legacy upper-case names written by older systems.
		tc{"BIRTHDAY", emailsched.TypeBirthday},
		tc{"EFFECTIVE_DATE", emailsched.TypeEffectiveDate},
		tc{"AEP", emailsched.TypeAEP},
		tc{"POST_WINDOW", emailsched.TypePostWindow},
		tc{"POST_WINDOW_BIRTHDAY", emailsched.TypePostWindow},
		tc{"POST_WINDOW_EFFECTIVE_DATE", emailsched.TypePostWindow},
		tc{"SCHEDULED_RATE_INCREASE", "campaign_rate_increase"},
		tc{" BIRTHDAY ", emailsched.TypeBirthday},
		tc{"\tAEP\n", emailsched.TypeAEP},
		// Campaign types.
		tc{"campaign_rate_increase", "campaign_rate_increase"},
		tc{"campaign_a", "campaign_a"},
		tc{"campaign_x1", "campaign_x1"},
		tc{"campaign_a_b_9", "campaign_a_b_9"},
		tc{"campaign_z__", "campaign_z__"},
		tc{"campaign_" + strings.Repeat("a", 64), emailsched.EmailType("campaign_" + strings.Repeat("a", 64))},
		tc{" campaign_spring ", "campaign_spring"},
	)
	for _, c := range valid {
		t.Run(fmt.Sprintf("%q", c.in), func(t *testing.T) {
			got, err := emailsched.ParseEmailType(c.in)
			if err != nil {
				t.Fatalf("ParseEmailType(%q) error %v", c.in, err)
			}
			if got != c.want {
				t.Errorf("ParseEmailType(%q) = %q, want %q", c.in, got, c.want)
			}
			// The result is canonical: parsing it again gives it back.
			again, err := emailsched.ParseEmailType(string(got))
			if err != nil || again != got {
				t.Errorf("ParseEmailType(%q) = %q, %v; want it to be canonical", got, again, err)
			}
		})
	}

	invalid := []string{
		"",
		" ",
		"garbage",
		"Birthday",  // neither current nor legacy
		"BIRTH DAY", // inner space
		"birth_day",
		"birthday2",
		"post_window_birthday", // legacy names are upper-case only
		"scheduled_rate_increase",
		"POST_WINDOW_AEP",
		"FOLLOWUP_1_COLD",
		"followup_5_other",
		"campaign",
		"campaign_",
		"campaign_ ",
		"campaign_Rate",
		"campaign_1abc",
		"campaign__x",
		"campaign_a-b",
		"campaign_a b",
		"campaign_a.b",
		"campaign_ä",
		"campaign_" + strings.Repeat("a", 65),
		"CAMPAIGN_RATE_INCREASE",
		"Campaign_x",
		"xcampaign_x",
		"birthday\x00",
	}
	for _, in := range invalid {
		t.Run(fmt.Sprintf("invalid %q", in), func(t *testing.T) {
			got, err := emailsched.ParseEmailType(in)
			if err == nil {
				t.Fatalf("ParseEmailType(%q) = %q, want an error", in, got)
			}
			if !errors.Is(err, emailsched.ErrInvalidEmailType) {
				t.Errorf("ParseEmailType(%q) error %v does not wrap ErrInvalidEmailType", in, err)
			}
			if got != "" {
				t.Errorf("ParseEmailType(%q) = %q with an error, want \"\"", in, got)
			}
		})
	}
}

func TestCampaignEmailType(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"z", true},
		{"rate_increase", true},
		{"abc123", true},
		{"a_", true},
		{"a__b", true},
		{"a0123456789", true},
		{"abcdefghijklmnopqrstuvwxyz0123456789_", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), true},
		{"q" + strings.Repeat("9", 63), true},
		{strings.Repeat("a", 65), false},
		{strings.Repeat("a", 200), false},
		{"", false},
		{"_a", false},
		{"1a", false},
		{"9", false},
		{"A", false},
		{"aB", false},
		{"Rate", false},
		{"a-b", false},
		{"a b", false},
		{" a", false},
		{"a ", false},
		{"a.b", false},
		{"a/b", false},
		{"a:b", false},
		{"é", false},
		{"aé", false},
		{"a\x00", false},
		{"`a", false}, // '`' is just before 'a'
		{"{a", false}, // '{' is just after 'z'
		{"a`", false},
		{"a{", false},
		{"a/", false}, // '/' is just before '0'
		{"a:", false}, // ':' is just after '9'
		{"a^", false}, // '^' is just before '_'
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.name), func(t *testing.T) {
			got, err := emailsched.CampaignEmailType(tc.name)
			if !tc.ok {
				if err == nil {
					t.Fatalf("CampaignEmailType(%q) = %q, want an error", tc.name, got)
				}
				if !errors.Is(err, emailsched.ErrInvalidEmailType) {
					t.Errorf("error %v does not wrap ErrInvalidEmailType", err)
				}
				if !strings.Contains(err.Error(), strconv.Quote(tc.name)) {
					t.Errorf("error %q does not name %q", err, tc.name)
				}
				if got != "" {
					t.Errorf("CampaignEmailType(%q) = %q with an error, want \"\"", tc.name, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("CampaignEmailType(%q) error %v", tc.name, err)
			}
			if want := emailsched.EmailType("campaign_" + tc.name); got != want {
				t.Errorf("CampaignEmailType(%q) = %q, want %q", tc.name, got, want)
			}
			if name, ok := got.Campaign(); !ok || name != tc.name {
				t.Errorf("%q.Campaign() = %q, %v; want %q, true", got, name, ok, tc.name)
			}
			// ParseEmailType accepts exactly what CampaignEmailType builds.
			if p, err := emailsched.ParseEmailType(string(got)); err != nil || p != got {
				t.Errorf("ParseEmailType(%q) = %q, %v", got, p, err)
			}
		})
	}
}

func TestEmailTypeKinds(t *testing.T) {
	tests := []struct {
		t           emailsched.EmailType
		anniversary bool
		followUp    bool
		campaign    string
		isCampaign  bool
	}{
		{emailsched.TypeBirthday, true, false, "", false},
		{emailsched.TypeEffectiveDate, true, false, "", false},
		{emailsched.TypeAEP, true, false, "", false},
		{emailsched.TypePostWindow, true, false, "", false},
		{emailsched.TypeFollowUpCold, false, true, "", false},
		{emailsched.TypeFollowUpClicked, false, true, "", false},
		{emailsched.TypeFollowUpHQNoYes, false, true, "", false},
		{emailsched.TypeFollowUpHQWithYes, false, true, "", false},
		{"campaign_rate_increase", false, false, "rate_increase", true},
		{"campaign_a", false, false, "a", true},
		{"campaign_", false, false, "", false},
		{"campaign", false, false, "", false},
		{"", false, false, "", false},
		{"BIRTHDAY", false, false, "", false}, // legacy names only via ParseEmailType
		{"POST_WINDOW", false, false, "", false},
		{"unknown", false, false, "", false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.t), func(t *testing.T) {
			if got := tc.t.IsAnniversary(); got != tc.anniversary {
				t.Errorf("IsAnniversary() = %v, want %v", got, tc.anniversary)
			}
			if got := tc.t.IsFollowUp(); got != tc.followUp {
				t.Errorf("IsFollowUp() = %v, want %v", got, tc.followUp)
			}
			name, ok := tc.t.Campaign()
			if name != tc.campaign || ok != tc.isCampaign {
				t.Errorf("Campaign() = %q, %v; want %q, %v", name, ok, tc.campaign, tc.isCampaign)
			}
			// The three kinds are exclusive.
			n := 0
			for _, b := range []bool{tc.t.IsAnniversary(), tc.t.IsFollowUp(), ok} {
				if b {
					n++
				}
			}
			if n > 1 {
				t.Errorf("%q belongs to %d kinds, want at most one", tc.t, n)
			}
		})
	}
	// Every fixed type is either an anniversary or a follow-up.
	for _, ft := range fixedTypes {
		if !ft.t.IsAnniversary() && !ft.t.IsFollowUp() {
			t.Errorf("fixed type %q is neither anniversary nor follow-up", ft.t)
		}
	}
}

// allStatuses lists the known statuses with their storage strings.
var allStatuses = []struct {
	s         emailsched.Status
	text      string
	planned   bool
	committed bool
}{
	{emailsched.StatusPreScheduled, "pre-scheduled", true, false},
	{emailsched.StatusSkipped, "skipped", true, false},
	{emailsched.StatusScheduled, "scheduled", false, true},
	{emailsched.StatusProcessing, "processing", false, true},
	{emailsched.StatusAccepted, "accepted", false, true},
	{emailsched.StatusSent, "sent", false, true},
	{emailsched.StatusDelivered, "delivered", false, true},
	// Unknown statuses of the sending system: history, not committed.
	{"failed", "failed", false, false},
	{"bounced", "bounced", false, false},
	{"cancelled", "cancelled", false, false},
	{"", "", false, false},
	// Not normalised: only ParseStatus lower-cases.
	{"SENT", "SENT", false, false},
	{"Skipped", "Skipped", false, false},
	{" sent", " sent", false, false},
}

func TestStatusPredicates(t *testing.T) {
	for _, tc := range allStatuses {
		t.Run(fmt.Sprintf("%q", tc.text), func(t *testing.T) {
			if string(tc.s) != tc.text {
				t.Errorf("status constant = %q, want %q (storage contract)", tc.s, tc.text)
			}
			if got := tc.s.IsPlanned(); got != tc.planned {
				t.Errorf("IsPlanned() = %v, want %v", got, tc.planned)
			}
			if got := tc.s.Committed(); got != tc.committed {
				t.Errorf("Committed() = %v, want %v", got, tc.committed)
			}
			if tc.s.IsPlanned() && tc.s.Committed() {
				t.Error("a status cannot be both planned and committed")
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in     string
		want   emailsched.Status
		wantOK bool
	}{
		{"sent", emailsched.StatusSent, true},
		{"SENT", emailsched.StatusSent, true},
		{" Sent\t", emailsched.StatusSent, true},
		{"PRE-SCHEDULED", emailsched.StatusPreScheduled, true},
		{"pre-scheduled", emailsched.StatusPreScheduled, true},
		{"Skipped ", emailsched.StatusSkipped, true},
		{"  Delivered", emailsched.StatusDelivered, true},
		{"FAILED", "failed", true},   // unknown statuses are kept
		{"Bounced", "bounced", true}, // as they are, lower-cased
		{"pre scheduled", "pre scheduled", true},
		{"", "", false},
		{"   ", "", false},
		{"\t\n", "", false},
	}
	for _, tc := range tests {
		got, ok := emailsched.ParseStatus(tc.in)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("ParseStatus(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}

func TestSkipReasons(t *testing.T) {
	ca, ny := emailsched.MustState("CA"), emailsched.MustState("NY")
	tests := []struct {
		name string
		r    emailsched.SkipReason
		want string
		kind string
	}{
		{"none", emailsched.ReasonNone, "", ""},
		{"campaign conflict", emailsched.ReasonCampaignConflict, "campaign_conflict", "campaign_conflict"},
		{"frequency limit", emailsched.ReasonFrequencyLimit, "frequency_limit", "frequency_limit"},
		{"exclusion birthday", emailsched.ExclusionReason(ca, "birthday"), "exclusion_window:CA:birthday", "exclusion_window"},
		{"exclusion effective", emailsched.ExclusionReason(emailsched.MustState("mo"), "effective_date"), "exclusion_window:MO:effective_date", "exclusion_window"},
		{"year round", emailsched.YearRoundReason(ny), "year_round:NY", "year_round"},
		{"year round CT", emailsched.YearRoundReason(emailsched.MustState("ct")), "year_round:CT", "year_round"},
		{"missing anchor", emailsched.MissingAnchorReason(ca, "birthday"), "missing_anchor:CA:birthday", "missing_anchor"},
		{"missing anchor effective", emailsched.MissingAnchorReason(emailsched.MustState("OR"), "effective_date"), "missing_anchor:OR:effective_date", "missing_anchor"},
		{"rule error", emailsched.RuleErrorReason(ny), "rule_error:NY", "rule_error"},
		{"free text", emailsched.SkipReason("whatever"), "whatever", "whatever"},
		{"leading colon", emailsched.SkipReason(":x"), ":x", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if string(tc.r) != tc.want {
				t.Errorf("reason = %q, want %q", tc.r, tc.want)
			}
			if got := tc.r.Kind(); got != tc.kind {
				t.Errorf("Kind() = %q, want %q", got, tc.kind)
			}
		})
	}
	prefixes := map[string]string{
		emailsched.ReasonPrefixExclusion:     "exclusion_window",
		emailsched.ReasonPrefixYearRound:     "year_round",
		emailsched.ReasonPrefixMissingAnchor: "missing_anchor",
		emailsched.ReasonPrefixRuleError:     "rule_error",
	}
	for got, want := range prefixes {
		if got != want {
			t.Errorf("reason prefix %q, want %q (storage contract)", got, want)
		}
	}
	// The Kind of each composed reason is its prefix, for every state.
	for _, s := range emailsched.States() {
		for prefix, r := range map[string]emailsched.SkipReason{
			emailsched.ReasonPrefixExclusion:     emailsched.ExclusionReason(s, "birthday"),
			emailsched.ReasonPrefixYearRound:     emailsched.YearRoundReason(s),
			emailsched.ReasonPrefixMissingAnchor: emailsched.MissingAnchorReason(s, "effective_date"),
			emailsched.ReasonPrefixRuleError:     emailsched.RuleErrorReason(s),
		} {
			if r.Kind() != prefix {
				t.Errorf("%q.Kind() = %q, want %q", r, r.Kind(), prefix)
			}
			if !strings.Contains(string(r), ":"+s.String()) {
				t.Errorf("%q does not name state %v", r, s)
			}
		}
	}
}

// emailFieldMutators changes exactly one compared field of an Email. The
// keys are the field names; together with ignoredEmailFields they must cover
// every field of Email (TestEmailSameContentCoversEveryField).
var emailFieldMutators = map[string]func(*emailsched.Email){
	"ContactID":          func(e *emailsched.Email) { e.ContactID++ },
	"Type":               func(e *emailsched.Email) { e.Type = emailsched.TypeEffectiveDate },
	"Date":               func(e *emailsched.Email) { e.Date = e.Date.AddDays(1) },
	"Status":             func(e *emailsched.Email) { e.Status = emailsched.StatusPreScheduled },
	"SkipReason":         func(e *emailsched.Email) { e.SkipReason = emailsched.ReasonFrequencyLimit },
	"Priority":           func(e *emailsched.Email) { e.Priority++ },
	"Event":              func(e *emailsched.Email) { e.Event = e.Event.AddDays(-1) },
	"CampaignInstanceID": func(e *emailsched.Email) { e.CampaignInstanceID++ },
	"EmailTemplate":      func(e *emailsched.Email) { e.EmailTemplate += "x" },
	"SMSTemplate":        func(e *emailsched.Email) { e.SMSTemplate += "x" },
	"CatchUpNote":        func(e *emailsched.Email) { e.CatchUpNote += "x" },
	"Metadata":           func(e *emailsched.Email) { e.Metadata = `{"a":2}` },
}

// ignoredEmailFields changes exactly one field that SameContent ignores.
var ignoredEmailFields = map[string]func(*emailsched.Email){
	"ID":     func(e *emailsched.Email) { e.ID++ },
	"RunID":  func(e *emailsched.Email) { e.RunID = "other-run" },
	"SentAt": func(e *emailsched.Email) { e.SentAt = e.SentAt.Add(time.Hour) },
}

func sampleEmail() emailsched.Email {
	return emailsched.Email{
		ID:                 7,
		ContactID:          42,
		Type:               emailsched.TypeBirthday,
		Date:               datecalc.MustNew(2025, time.March, 3),
		Status:             emailsched.StatusSkipped,
		SkipReason:         emailsched.ExclusionReason(emailsched.MustState("CA"), "birthday"),
		Priority:           10,
		Event:              datecalc.MustNew(2025, time.March, 17),
		CampaignInstanceID: 3,
		EmailTemplate:      "tpl",
		SMSTemplate:        "sms",
		CatchUpNote:        "note",
		Metadata:           `{"a":1}`,
		RunID:              "run-1",
		SentAt:             time.Date(2025, 3, 3, 8, 30, 0, 0, time.UTC),
	}
}

func TestEmailSameContentCoversEveryField(t *testing.T) {
	typ := reflect.TypeFor[emailsched.Email]()
	var fields []string
	for f := range typ.Fields() {
		fields = append(fields, f.Name)
		_, compared := emailFieldMutators[f.Name]
		_, ignored := ignoredEmailFields[f.Name]
		switch {
		case compared && ignored:
			t.Errorf("field %s is both compared and ignored", f.Name)
		case !compared && !ignored:
			t.Errorf("field Email.%s is new: add it to SameContent and emailFieldMutators, or to ignoredEmailFields", f.Name)
		}
	}
	for name := range emailFieldMutators {
		if !slices.Contains(fields, name) {
			t.Errorf("emailFieldMutators names %s, which is not a field of Email", name)
		}
	}
	for name := range ignoredEmailFields {
		if !slices.Contains(fields, name) {
			t.Errorf("ignoredEmailFields names %s, which is not a field of Email", name)
		}
	}
}

func TestEmailSameContent(t *testing.T) {
	base := sampleEmail()
	same := base
	if !base.SameContent(&same) || !same.SameContent(&base) {
		t.Fatal("an Email does not have the same content as its copy")
	}
	if !base.SameContent(&base) {
		t.Fatal("an Email does not have the same content as itself")
	}
	var zero1, zero2 emailsched.Email
	if !zero1.SameContent(&zero2) {
		t.Fatal("two zero Emails differ")
	}

	for name, mutate := range emailFieldMutators {
		t.Run("compared/"+name, func(t *testing.T) {
			other := base
			mutate(&other)
			// Check the mutator really changed (only) this field.
			if diff := cmp.Diff(base, other); diff == "" {
				t.Fatalf("mutator of %s changed nothing", name)
			}
			if base.SameContent(&other) {
				t.Errorf("SameContent ignores a change of %s", name)
			}
			if other.SameContent(&base) {
				t.Errorf("SameContent ignores a change of %s (reversed)", name)
			}
		})
	}
	for name, mutate := range ignoredEmailFields {
		t.Run("ignored/"+name, func(t *testing.T) {
			other := base
			mutate(&other)
			if diff := cmp.Diff(base, other); diff == "" {
				t.Fatalf("mutator of %s changed nothing", name)
			}
			if !base.SameContent(&other) || !other.SameContent(&base) {
				t.Errorf("SameContent compares %s, which it must ignore", name)
			}
		})
	}
	// All ignored fields changed at once: still the same content.
	other := base
	for _, mutate := range ignoredEmailFields {
		mutate(&other)
	}
	other.SentAt = time.Time{}
	if !base.SameContent(&other) {
		t.Error("SameContent compares one of ID, RunID, SentAt")
	}
	// Neither argument is modified.
	if diff := cmp.Diff(sampleEmail(), base); diff != "" {
		t.Errorf("SameContent modified its receiver (-want +got):\n%s", diff)
	}
}

// ---- properties ----

const (
	nameFirst = "abcdefghijklmnopqrstuvwxyz"
	nameRest  = "abcdefghijklmnopqrstuvwxyz0123456789_"
)

// genCampaignName generates valid campaign type names: 1-64 characters,
// a letter first, then letters, digits and '_'.
func genCampaignName() gopter.Gen {
	return gopter.CombineGens(
		gen.IntRange(1, 64),
		gen.IntRange(0, len(nameFirst)-1),
		gen.SliceOfN(63, gen.IntRange(0, len(nameRest)-1)),
	).Map(func(v []any) string {
		n, first, rest := v[0].(int), v[1].(int), v[2].([]int)
		b := make([]byte, 0, n)
		b = append(b, nameFirst[first])
		for _, r := range rest[:n-1] {
			b = append(b, nameRest[r])
		}
		return string(b)
	})
}

func TestPropertyParseEmailTypeRoundTrip(t *testing.T) {
	properties := proptest.New(t, 2000)
	var fixed []any
	for _, ft := range fixedTypes {
		fixed = append(fixed, ft.t)
	}
	campaignTypes := genCampaignName().Map(func(name string) emailsched.EmailType {
		et, err := emailsched.CampaignEmailType(name)
		if err != nil {
			// Reported by the property: an invalid type is never equal
			// to its parse.
			return emailsched.EmailType("invalid:" + name)
		}
		return et
	})
	types := gen.Weighted([]gen.WeightedGen{
		{Weight: 1, Gen: gen.OneConstOf(fixed...)},
		{Weight: 4, Gen: campaignTypes},
	})
	properties.Property("ParseEmailType(string(t)) == t for every valid type", prop.ForAll(
		func(et emailsched.EmailType) string {
			got, err := emailsched.ParseEmailType(string(et))
			if err != nil {
				return fmt.Sprintf("ParseEmailType(%q) error %v", et, err)
			}
			if got != et {
				return fmt.Sprintf("ParseEmailType(%q) = %q", et, got)
			}
			if padded, err := emailsched.ParseEmailType(" " + string(et) + " "); err != nil || padded != et {
				return fmt.Sprintf("ParseEmailType of padded %q = %q, %v", et, padded, err)
			}
			if name, ok := et.Campaign(); ok && emailsched.EmailType("campaign_"+name) != et {
				return fmt.Sprintf("%q.Campaign() = %q", et, name)
			}
			return ""
		},
		types,
	))
	properties.TestingRun(t)
}

func TestPropertyCampaignNameRejectsBadCharacter(t *testing.T) {
	properties := proptest.New(t, 2000)
	// Bytes that may not appear in a campaign type name.
	var bad []any
	for c := 0; c < 256; c++ {
		if !strings.ContainsRune(nameRest, rune(c)) {
			bad = append(bad, byte(c))
		}
	}
	properties.Property("a name with one forbidden byte is rejected", prop.ForAll(
		func(name string, pos int, c byte) bool {
			pos %= len(name) + 1
			badName := name[:pos] + string([]byte{c}) + name[pos:]
			_, err1 := emailsched.CampaignEmailType(badName)
			_, err2 := emailsched.ParseEmailType("campaign_" + badName)
			// ParseEmailType trims the whole string, so trailing white
			// space is accepted there (and only there).
			trimmedOK := strings.TrimSpace(badName) == name
			return errors.Is(err1, emailsched.ErrInvalidEmailType) &&
				(trimmedOK || errors.Is(err2, emailsched.ErrInvalidEmailType))
		},
		genCampaignName(), gen.IntRange(0, 64), gen.OneConstOf(bad...),
	))
	properties.TestingRun(t)
}

func TestDescribe(t *testing.T) {
	ca := emailsched.MustState("CA")
	reasons := []struct {
		r    emailsched.SkipReason
		want string
	}{
		{emailsched.ReasonNone, ""},
		{emailsched.ReasonCampaignConflict, "another campaign email with a lower priority number falls on the same day"},
		{emailsched.ReasonFrequencyLimit, "more emails in the period than the frequency limit allows"},
		{emailsched.ExclusionReason(ca, "effective_date"), "inside CA's exclusion period around the effective date"},
		{emailsched.YearRoundReason(emailsched.MustState("NY")), "NY allows no marketing email all year"},
		{emailsched.MissingAnchorReason(ca, "birthday"), "CA's rule needs the birthday, which is missing or unreadable"},
		{emailsched.RuleErrorReason(ca), "CA's rule could not be evaluated for this contact"},
		{"exclusion_window:CA", "exclusion_window:CA"}, // not a reason of this version
		{"something_new", "something_new"},
	}
	for _, tc := range reasons {
		if got := tc.r.Describe(); got != tc.want {
			t.Errorf("%q.Describe() = %q, want %q", tc.r, got, tc.want)
		}
	}
	types := []struct {
		t    emailsched.EmailType
		want string
	}{
		{emailsched.TypeBirthday, "before the contact's birthday"},
		{emailsched.TypeEffectiveDate, "before the policy's anniversary"},
		{emailsched.TypeAEP, "Annual Enrollment Period"},
		{emailsched.TypePostWindow, "after an exclusion period ended"},
		{emailsched.TypeFollowUpCold, "follow-up: no engagement"},
		{emailsched.TypeFollowUpClicked, "follow-up: clicked a link"},
		{emailsched.TypeFollowUpHQNoYes, "follow-up: answered the health questions, no condition"},
		{emailsched.TypeFollowUpHQWithYes, "follow-up: answered the health questions, a condition"},
		{"campaign_rate_increase", "campaign rate increase"},
		{"BIRTHDAY", "BIRTHDAY"},
	}
	for _, tc := range types {
		if got := tc.t.Describe(); got != tc.want {
			t.Errorf("%q.Describe() = %q, want %q", tc.t, got, tc.want)
		}
	}
}
