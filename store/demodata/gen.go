package demodata

import (
	"iter"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

// DefaultToday is the run date Generate uses when GenOptions.Today is zero.
var DefaultToday = datecalc.MustNew(2025, time.March, 3)

// GenOptions controls Generate and GenerateSeq. The zero value of every
// field means its documented default, so GenOptions{Contacts: 1000} is a
// complete request.
type GenOptions struct {
	// Seed selects the data set. The same options give the same contacts on
	// every machine and Go version.
	Seed int64
	// Contacts is the number of contacts; zero or negative yields none.
	Contacts int
	// Today is the date the data is generated around (ages, history in
	// the past year, future effective dates). Defaults to DefaultToday.
	Today datecalc.Date
	// FirstID is the ID of the first contact; the others follow in
	// ascending order. Defaults to 1. Contacts is reduced so that no ID
	// overflows int64.
	FirstID int64
	// HistoryFraction is the share of contacts with history rows (emails
	// of the sending system). Defaults to 0.3; negative means none.
	HistoryFraction float64
	// DirtyFraction is the share of contacts with an unreadable date
	// (a FieldIssue and a zero date). Defaults to 0.02; negative means none.
	DirtyFraction float64
	// StoredFraction is the share of contacts with a stored plan
	// (pre-scheduled and skipped rows of a previous run). Defaults to none.
	StoredFraction float64
	// Campaigns, when it holds instances, is the catalogue that campaign
	// targets refer to: a share CampaignFraction of the contacts is
	// enrolled in one of its instances whose type does not target all
	// contacts. Pass DemoCampaigns(today) for a ready-made catalogue.
	Campaigns emailsched.Campaigns
	// CampaignFraction is the share of contacts with a campaign target
	// when Campaigns is set. Defaults to 0.05; negative means none.
	CampaignFraction float64
}

// Run id written on the rows of GenOptions.StoredFraction.
const genStoredRunID = "storetest-gen-previous"

// Generate returns opts.Contacts contacts with ascending IDs from
// opts.FirstID. The data follows realistic distributions:
//
//   - state by US population (50 states and DC); the ZIP agrees with it for
//     about 97% of contacts, otherwise it is missing, unassigned, malformed
//     or another state's; about 8% are ZIP+4. The state field is sometimes
//     missing, lower case, padded or disagreeing with the ZIP.
//   - an email address for about 99% (a few missing or implausible).
//   - a birthday for ages 60-90 (some Feb 29, about 1% missing).
//   - an effective date for about 97%, in the last 15 years (about 60% on
//     the 1st of a month) or, for about 3%, in the next months.
//   - about 1.5% DoNotCommunicate, DirtyFraction with FieldIssues.
//   - HistoryFraction with 1-4 history rows of types birthday,
//     effective_date, aep, post_window and campaign_rate_increase (legacy
//     upper-case types appear already normalised), statuses of the sending
//     system (sent, delivered, scheduled, processing, accepted, failed,
//     bounced, cancelled), dates in the past year (scheduled, processing
//     and accepted ones around today), Event set, SentAt for sent and
//     delivered; some of the sent ones were followed by clicks and health
//     answers (Engagement).
//   - StoredFraction with stored plan rows; CampaignFraction with a
//     campaign target when Campaigns is set.
//
// History and stored rows have ID 0 (an adapter assigns row IDs) and the
// contact's ContactID. Every instant is UTC with whole seconds. A contact
// depends only on the options other than Contacts and on its ID, so a large
// set can be generated in chunks with FirstID.
func Generate(opts GenOptions) []emailsched.Contact {
	g := newGenerator(opts)
	out := make([]emailsched.Contact, g.opts.Contacts)
	for i := range out {
		g.fill(&out[i], g.opts.FirstID+int64(i))
	}
	return out
}

// GenerateSeq yields the contacts of Generate one at a time without holding
// them: the *Contact is one buffer, reused (slices included) and valid only
// until the next iteration. Use it for millions of contacts.
func GenerateSeq(opts GenOptions) iter.Seq[*emailsched.Contact] {
	return func(yield func(*emailsched.Contact) bool) {
		g := newGenerator(opts)
		var c emailsched.Contact
		for i := 0; i < g.opts.Contacts; i++ {
			c.Reset()
			g.fill(&c, g.opts.FirstID+int64(i))
			if !yield(&c) {
				return
			}
		}
	}
}

// DemoCampaigns returns a small campaign catalogue around today: instance
// IDs 1-5.
//
//   - rate_increase (respects windows, 14 days before the trigger,
//     follow-ups, priority 5): instance 1 active from today-30 to today+90,
//     instance 2 for carrier Humana from today to an open end.
//   - regulatory_notice (ignores windows, targets all contacts, priority
//     1): instance 3 from today+3 to today+17.
//   - promotion (respects windows, 7 days before, follow-ups, priority 40):
//     instance 4 in TX and FL from today-7 to today+21, instance 5 ended
//     at today-10.
//   - introduction, an inactive type without instances.
func DemoCampaigns(today datecalc.Date) emailsched.Campaigns {
	if today.IsZero() {
		today = DefaultToday
	}
	return emailsched.Campaigns{
		Types: []emailsched.CampaignType{
			{Name: "rate_increase", RespectExclusionWindows: true, EnableFollowUps: true, DaysBeforeEvent: 14, Priority: 5, Active: true},
			{Name: "regulatory_notice", TargetAllContacts: true, Priority: 1, Active: true},
			{Name: "promotion", RespectExclusionWindows: true, EnableFollowUps: true, DaysBeforeEvent: 7, Priority: 40, Active: true},
			{Name: "introduction", RespectExclusionWindows: true, DaysBeforeEvent: 0, Priority: 50},
		},
		Instances: []emailsched.CampaignInstance{
			{ID: 1, Type: "rate_increase", Name: "Rate increase " + strconv.Itoa(today.Year()), EmailTemplate: "rate_increase_v1", SMSTemplate: "rate_increase_sms",
				Start: today.AddDays(-30), End: today.AddDays(90), Metadata: `{"increase_pct":7.5}`},
			{ID: 2, Type: "rate_increase", Name: "Humana rate increase", EmailTemplate: "rate_increase_humana", Start: today,
				TargetCarriers: []string{"Humana"}},
			{ID: 3, Type: "regulatory_notice", Name: "Privacy notice", EmailTemplate: "privacy_notice", Start: today.AddDays(3), End: today.AddDays(17)},
			{ID: 4, Type: "promotion", Name: "Spring review", EmailTemplate: "spring_review", SMSTemplate: "spring_review_sms",
				Start: today.AddDays(-7), End: today.AddDays(21), Metadata: `{"channel":"email"}`,
				TargetStates: []emailsched.State{emailsched.MustState("TX"), emailsched.MustState("FL")}},
			{ID: 5, Type: "promotion", Name: "Winter review", EmailTemplate: "winter_review", Start: today.AddDays(-60), End: today.AddDays(-10)},
		},
	}
}

// generator holds the normalised options and the random source. A contact
// is generated from a PCG reseeded from (Seed, ID), so that it does not
// depend on the contacts before it.
type generator struct {
	opts                             GenOptions
	seed                             uint64
	rng                              rand.PCG
	history, dirty, stored, campaign float64
	targetable                       []int // indexes into opts.Campaigns.Instances
	aepThis, aepPrev, aepNext        datecalc.Date
	buf                              []byte
}

func fraction(f, def float64) float64 {
	switch {
	case f == 0 || math.IsNaN(f):
		return def
	case f < 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}

func newGenerator(opts GenOptions) *generator {
	if opts.Today.IsZero() || opts.Today.Year() < 200 || opts.Today.Year() > 9800 {
		opts.Today = DefaultToday
	}
	if opts.FirstID == 0 {
		opts.FirstID = 1
	}
	if opts.Contacts < 0 {
		opts.Contacts = 0
	}
	if opts.FirstID > 0 && int64(opts.Contacts) > math.MaxInt64-opts.FirstID+1 {
		opts.Contacts = int(math.MaxInt64 - opts.FirstID + 1)
	}
	g := &generator{
		opts:     opts,
		seed:     mix64(uint64(opts.Seed) ^ 0x5eed5eed5eed5eed),
		history:  fraction(opts.HistoryFraction, 0.3),
		dirty:    fraction(opts.DirtyFraction, 0.02),
		stored:   fraction(opts.StoredFraction, 0),
		campaign: fraction(opts.CampaignFraction, 0.05),
		buf:      make([]byte, 0, 64),
	}
	types := make(map[string]bool, len(opts.Campaigns.Types))
	for _, t := range opts.Campaigns.Types {
		types[t.Name] = t.TargetAllContacts
	}
	for i, in := range opts.Campaigns.Instances {
		if all, ok := types[in.Type]; !all || !ok {
			g.targetable = append(g.targetable, i)
		}
	}
	y := opts.Today.Year()
	g.aepThis = date(y, time.September, 15)
	g.aepPrev = date(y-1, time.September, 15)
	g.aepNext = date(y+1, time.September, 15)
	return g
}

// mix64 is the SplitMix64 finaliser: it decorrelates neighbouring seeds.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// n returns a number in [0, k) for 0 < k < 2^32. It is computed here from
// PCG.Uint64 (a fixed algorithm) and not with rand.IntN, whose method could
// change between Go versions.
func (g *generator) n(k int) int {
	return int((g.rng.Uint64() >> 32) * uint64(k) >> 32)
}

// chance reports true with probability p.
func (g *generator) chance(p float64) bool {
	return float64(g.rng.Uint64()>>11)*0x1p-53 < p
}

// date returns y-m-d or the zero Date when it does not exist.
func date(y int, m time.Month, d int) datecalc.Date {
	v, err := datecalc.New(y, m, d)
	if err != nil {
		return datecalc.Date{}
	}
	return v
}

// stateInfo is a state's code, its share of the population (thousands,
// 2020 census) and ZIP prefix ranges that belong to it.
type stateInfo struct {
	code    string
	lower   string
	pop     int
	zipLo   int
	zipHi   int
	zipLo2  int // second range, 0 when none
	zipHi2  int
	cumulat int
}

var stateTable = func() []stateInfo {
	t := []stateInfo{
		{code: "CA", pop: 39538, zipLo: 900, zipHi: 908, zipLo2: 910, zipHi2: 961},
		{code: "TX", pop: 29146, zipLo: 750, zipHi: 799},
		{code: "FL", pop: 21538, zipLo: 320, zipHi: 339},
		{code: "NY", pop: 20201, zipLo: 100, zipHi: 149},
		{code: "PA", pop: 13003, zipLo: 150, zipHi: 196},
		{code: "IL", pop: 12813, zipLo: 600, zipHi: 620},
		{code: "OH", pop: 11799, zipLo: 430, zipHi: 459},
		{code: "GA", pop: 10712, zipLo: 300, zipHi: 319},
		{code: "NC", pop: 10439, zipLo: 270, zipHi: 289},
		{code: "MI", pop: 10077, zipLo: 480, zipHi: 499},
		{code: "NJ", pop: 9289, zipLo: 70, zipHi: 89},
		{code: "VA", pop: 8631, zipLo: 220, zipHi: 246},
		{code: "WA", pop: 7705, zipLo: 980, zipHi: 986, zipLo2: 988, zipHi2: 994},
		{code: "AZ", pop: 7152, zipLo: 852, zipHi: 853, zipLo2: 855, zipHi2: 857},
		{code: "MA", pop: 7030, zipLo: 10, zipHi: 27},
		{code: "TN", pop: 6911, zipLo: 370, zipHi: 385},
		{code: "IN", pop: 6786, zipLo: 460, zipHi: 479},
		{code: "MD", pop: 6177, zipLo: 206, zipHi: 212, zipLo2: 214, zipHi2: 219},
		{code: "MO", pop: 6155, zipLo: 633, zipHi: 641, zipLo2: 644, zipHi2: 658},
		{code: "WI", pop: 5894, zipLo: 537, zipHi: 549},
		{code: "CO", pop: 5774, zipLo: 800, zipHi: 816},
		{code: "MN", pop: 5706, zipLo: 553, zipHi: 567},
		{code: "SC", pop: 5119, zipLo: 290, zipHi: 299},
		{code: "AL", pop: 5024, zipLo: 350, zipHi: 352, zipLo2: 354, zipHi2: 369},
		{code: "LA", pop: 4658, zipLo: 700, zipHi: 701, zipLo2: 703, zipHi2: 708},
		{code: "KY", pop: 4506, zipLo: 400, zipHi: 418, zipLo2: 420, zipHi2: 427},
		{code: "OR", pop: 4237, zipLo: 970, zipHi: 979},
		{code: "OK", pop: 3959, zipLo: 734, zipHi: 741},
		{code: "CT", pop: 3606, zipLo: 60, zipHi: 62, zipLo2: 64, zipHi2: 69},
		{code: "UT", pop: 3272, zipLo: 840, zipHi: 847},
		{code: "IA", pop: 3190, zipLo: 500, zipHi: 516},
		{code: "NV", pop: 3105, zipLo: 889, zipHi: 891, zipLo2: 893, zipHi2: 895},
		{code: "AR", pop: 3012, zipLo: 716, zipHi: 729},
		{code: "MS", pop: 2961, zipLo: 386, zipHi: 397},
		{code: "KS", pop: 2938, zipLo: 664, zipHi: 679},
		{code: "NM", pop: 2118, zipLo: 870, zipHi: 875, zipLo2: 877, zipHi2: 884},
		{code: "NE", pop: 1962, zipLo: 683, zipHi: 693},
		{code: "ID", pop: 1839, zipLo: 832, zipHi: 838},
		{code: "WV", pop: 1794, zipLo: 247, zipHi: 268},
		{code: "HI", pop: 1455, zipLo: 967, zipHi: 968},
		{code: "NH", pop: 1377, zipLo: 30, zipHi: 38},
		{code: "ME", pop: 1362, zipLo: 39, zipHi: 49},
		{code: "RI", pop: 1097, zipLo: 28, zipHi: 29},
		{code: "MT", pop: 1084, zipLo: 590, zipHi: 599},
		{code: "DE", pop: 990, zipLo: 197, zipHi: 199},
		{code: "SD", pop: 887, zipLo: 570, zipHi: 577},
		{code: "ND", pop: 779, zipLo: 580, zipHi: 588},
		{code: "AK", pop: 733, zipLo: 995, zipHi: 999},
		{code: "DC", pop: 690, zipLo: 202, zipHi: 205},
		{code: "VT", pop: 643, zipLo: 50, zipHi: 54},
		{code: "WY", pop: 577, zipLo: 820, zipHi: 831},
	}
	sum := 0
	for i := range t {
		t[i].lower = string([]byte{t[i].code[0] + 'a' - 'A', t[i].code[1] + 'a' - 'A'})
		sum += t[i].pop
		t[i].cumulat = sum
	}
	return t
}()

var statePopTotal = stateTable[len(stateTable)-1].cumulat

func (g *generator) pickState() int {
	r := g.n(statePopTotal)
	lo, hi := 0, len(stateTable)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if stateTable[mid].cumulat > r {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// zip appends a ZIP of state si. The last two digits stay within 01-89,
// which avoids the 5-digit exceptions inside Hawaii's and Connecticut's
// prefixes (96799, 96898, 06390).
func (g *generator) zip(b []byte, si int) []byte {
	s := &stateTable[si]
	span := s.zipHi - s.zipLo + 1
	span2 := 0
	if s.zipLo2 != 0 {
		span2 = s.zipHi2 - s.zipLo2 + 1
	}
	p := g.n(span + span2)
	if p < span {
		p += s.zipLo
	} else {
		p += s.zipLo2 - span
	}
	return appendDigits(appendDigits(b, p, 3), 1+g.n(89), 2)
}

func appendDigits(b []byte, v, width int) []byte {
	var tmp [10]byte
	for i := width - 1; i >= 0; i-- {
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, tmp[:width]...)
}

var (
	firstNames = [...]string{"mary", "james", "patricia", "john", "linda", "robert", "barbara", "michael",
		"elizabeth", "william", "susan", "david", "jennifer", "richard", "margaret", "joseph",
		"dorothy", "thomas", "helen", "charles", "carol", "george", "ruth", "donald",
		"sharon", "ronald", "betty", "kenneth", "nancy", "paul", "joan", "frank"}
	lastNames = [...]string{"smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
		"rodriguez", "martinez", "hernandez", "lopez", "wilson", "anderson", "thomas", "taylor",
		"moore", "jackson", "martin", "lee", "thompson", "white", "harris", "clark",
		"lewis", "robinson", "walker", "young", "allen", "king", "wright", "scott"}
	domains   = [...]string{"gmail.com", "yahoo.com", "aol.com", "hotmail.com", "comcast.net", "att.net", "outlook.com", "icloud.com"}
	badEmails = [...]string{"no-email", "mary.smith@", "@example.com", "john smith@example.com", "bob@@example.com", "none", "n/a"}
	carriers  = [...]string{"Aetna", "Humana", "Mutual of Omaha", "Cigna", "UnitedHealthcare", "Blue Cross", "Anthem", ""}
	badBirth  = [...]emailsched.FieldIssue{
		{Field: emailsched.FieldBirthday, Value: "1955-13-45", Reason: "not a YYYY-MM-DD date: month 13"},
		{Field: emailsched.FieldBirthday, Value: "1951-02-29", Reason: "day 29 does not exist in 1951-02"},
		{Field: emailsched.FieldBirthday, Value: "03/14/1949", Reason: "not a YYYY-MM-DD date"},
		{Field: emailsched.FieldBirthday, Value: "unknown", Reason: "not a YYYY-MM-DD date"},
	}
	badEffective = [...]emailsched.FieldIssue{
		{Field: emailsched.FieldEffectiveDate, Value: "2019-02-30", Reason: "day 30 does not exist in 2019-02"},
		{Field: emailsched.FieldEffectiveDate, Value: "2021-00-01", Reason: "not a YYYY-MM-DD date: month 0"},
		{Field: emailsched.FieldEffectiveDate, Value: "N/A", Reason: "not a YYYY-MM-DD date"},
	}
)

// historyStatuses is the status mix of history rows, in thousandths.
var historyStatuses = [...]struct {
	s emailsched.Status
	w int
}{
	{emailsched.StatusSent, 400}, {emailsched.StatusDelivered, 300}, {emailsched.StatusScheduled, 100},
	{"failed", 80}, {emailsched.StatusProcessing, 40}, {emailsched.StatusAccepted, 30},
	{"bounced", 30}, {"cancelled", 20},
}

// historyTypes are the types of history rows, in the order they are tried.
var historyTypes = [...]emailsched.EmailType{
	emailsched.TypeBirthday, emailsched.TypeEffectiveDate, emailsched.TypeAEP,
	emailsched.TypePostWindow, "campaign_rate_increase",
}

func (g *generator) fill(c *emailsched.Contact, id int64) {
	g.rng.Seed(g.seed, mix64(uint64(id)))
	today := g.opts.Today
	c.ID = id

	// State and ZIP.
	si := g.pickState()
	b := g.buf[:0]
	switch r := g.n(1000); {
	case r < 970:
		b = g.zip(b, si)
	case r < 980: // another state's ZIP
		b = g.zip(b, (si+1+g.n(len(stateTable)-1))%len(stateTable))
	case r < 988: // missing
	case r < 994: // unassigned prefix
		b = appendDigits(append(b, "000"...), 1+g.n(89), 2)
	default: // malformed
		b = append(b, "9O21"...)
	}
	if len(b) == 5 {
		switch r := g.n(100); {
		case r < 7:
			b = appendDigits(append(b, '-'), g.n(10000), 4)
		case r < 8:
			b = appendDigits(b, g.n(10000), 4)
		}
	}
	c.ZIP = string(b)
	switch r := g.n(1000); {
	case r < 930:
		c.State = stateTable[si].code
	case r < 960:
		c.State = ""
	case r < 980:
		c.State = stateTable[si].lower
	case r < 990:
		c.State = stateTable[(si+1+g.n(len(stateTable)-1))%len(stateTable)].code
	default:
		c.State = " " + stateTable[si].code + " "
	}

	// Email.
	switch r := g.n(1000); {
	case r < 6:
		c.Email = ""
	case r < 12:
		c.Email = badEmails[g.n(len(badEmails))]
	default:
		b = append(b[:0], firstNames[g.n(len(firstNames))]...)
		b = append(b, '.')
		b = append(b, lastNames[g.n(len(lastNames))]...)
		b = strconv.AppendInt(b, id, 10)
		b = append(b, '@')
		b = append(b, domains[g.n(len(domains))]...)
		c.Email = string(b)
	}
	g.buf = b
	c.Carrier = carriers[g.n(len(carriers))]
	c.DoNotCommunicate = g.n(1000) < 15

	// Birthday: ages 60-90, some Feb 29, some missing.
	switch r := g.n(1000); {
	case r < 10:
	case r < 14:
		y := today.Year() - 90 + g.n(31)
		for !datecalc.IsLeap(y) {
			y++
		}
		for y > today.Year()-60 {
			y--
			for !datecalc.IsLeap(y) {
				y--
			}
		}
		c.Birthday = date(y, time.February, 29)
	default:
		y := today.Year() - 60 - g.n(31)
		m := time.Month(1 + g.n(12))
		c.Birthday = date(y, m, 1+g.n(datecalc.DaysIn(y, m)))
	}

	// Effective date: the last 15 years, mostly on the 1st; some future.
	switch r := g.n(1000); {
	case r < 30:
	case r < 60:
		c.EffectiveDate = today.FirstOfMonth().AddDays(31 * (1 + g.n(6))).FirstOfMonth()
	default:
		d := today.AddDays(-1 - g.n(15*365))
		if g.n(100) < 60 {
			d = d.FirstOfMonth()
		}
		c.EffectiveDate = d
	}

	if g.chance(g.dirty) {
		switch g.n(3) {
		case 0:
			c.Birthday = datecalc.Date{}
			c.Issues = append(c.Issues, badBirth[g.n(len(badBirth))])
		case 1:
			c.EffectiveDate = datecalc.Date{}
			c.Issues = append(c.Issues, badEffective[g.n(len(badEffective))])
		default:
			c.Birthday, c.EffectiveDate = datecalc.Date{}, datecalc.Date{}
			c.Issues = append(c.Issues, badBirth[g.n(len(badBirth))], badEffective[g.n(len(badEffective))])
		}
	}

	if g.chance(g.history) {
		g.fillHistory(c)
	}
	if g.chance(g.stored) {
		g.fillStored(c)
	}
	if len(g.targetable) > 0 && g.chance(g.campaign) {
		in := &g.opts.Campaigns.Instances[g.targetable[g.n(len(g.targetable))]]
		trigger := today.AddDays(g.n(60))
		if !in.Start.IsZero() && trigger.Before(in.Start) {
			trigger = in.Start.AddDays(g.n(30))
		}
		c.Campaigns = append(c.Campaigns, emailsched.CampaignTarget{InstanceID: in.ID, Trigger: trigger, Status: "active"})
	}
}

func (g *generator) fillHistory(c *emailsched.Contact) {
	today := g.opts.Today
	k := 1 + g.n(4)
	first := g.n(len(historyTypes))
	for i := range k {
		t := historyTypes[(first+i)%len(historyTypes)]
		e := emailsched.Email{ContactID: c.ID, Type: t}
		switch t {
		case emailsched.TypeBirthday:
			if c.Birthday.IsZero() {
				continue
			}
			// The anniversary whose email (14 days before) fell in the
			// past year.
			e.Event = c.Birthday.NextAnniversary(today.AddDays(-350))
			if e.Event.AddDays(-14).After(today) {
				e.Event = c.Birthday.AnniversaryIn(e.Event.Year() - 1)
			}
			e.Date, e.Priority = e.Event.AddDays(-14), 10
		case emailsched.TypeEffectiveDate:
			if c.EffectiveDate.IsZero() || !c.EffectiveDate.Before(today.AddDays(-400)) {
				continue
			}
			e.Event = c.EffectiveDate.NextAnniversary(today.AddDays(-335))
			e.Date, e.Priority = e.Event.AddDays(-30), 10
		case emailsched.TypeAEP:
			e.Event = g.aepPrev
			if !today.Before(g.aepThis) {
				e.Event = g.aepThis
			}
			e.Date, e.Priority = e.Event, 20
		case emailsched.TypePostWindow:
			e.Date = today.AddDays(-1 - g.n(360))
			e.Event, e.Priority = e.Date.AddDays(-61), 30
		default: // legacy SCHEDULED_RATE_INCREASE, no instance
			e.Date = today.AddDays(-1 - g.n(360))
			e.Event, e.Priority = e.Date.AddDays(14), 5
			e.EmailTemplate = "rate_increase_legacy"
		}
		r, acc := g.n(1000), 0
		for _, s := range historyStatuses {
			if acc += s.w; r < acc {
				e.Status = s.s
				break
			}
		}
		switch e.Status {
		case emailsched.StatusScheduled, emailsched.StatusProcessing, emailsched.StatusAccepted:
			e.Date = today.AddDays(-2 + g.n(12))
		case emailsched.StatusSent, emailsched.StatusDelivered:
			if e.Date.After(today) {
				e.Date = today.AddDays(-1 - g.n(14))
			}
			e.SentAt = e.Date.Time(13, 30, time.UTC).Add(time.Duration(g.n(3600)) * time.Second)
			if g.n(100) < 25 {
				c.Engagement = append(c.Engagement, emailsched.Engagement{Kind: emailsched.EngagementClick,
					At: e.SentAt.Add(time.Duration(60+g.n(72*3600)) * time.Second)})
			}
			if g.n(100) < 12 {
				c.Engagement = append(c.Engagement, emailsched.Engagement{Kind: emailsched.EngagementHealthAnswer,
					At:                e.SentAt.Add(time.Duration(600+g.n(5*24*3600)) * time.Second),
					MedicalConditions: g.n(100) < 40})
			}
		}
		c.History = append(c.History, e)
	}
}

func (g *generator) fillStored(c *emailsched.Contact) {
	today := g.opts.Today
	st, stOK := emailsched.ParseState(c.State)
	add := func(t emailsched.EmailType, event datecalc.Date, before, prio int, anchor string) {
		e := emailsched.Email{ContactID: c.ID, Type: t, Event: event, Date: event.AddDays(-before),
			Status: emailsched.StatusPreScheduled, Priority: prio, RunID: genStoredRunID}
		if e.Date.Before(today) {
			e.Date = today.AddDays(g.n(7))
			e.CatchUpNote = "catch-up"
		}
		if g.n(100) < 20 {
			e.Status = emailsched.StatusSkipped
			e.SkipReason = emailsched.ReasonFrequencyLimit
			if stOK && anchor != "" {
				e.SkipReason = emailsched.ExclusionReason(st, anchor)
			}
		}
		c.Stored = append(c.Stored, e)
	}
	if !c.Birthday.IsZero() {
		add(emailsched.TypeBirthday, c.Birthday.NextAnniversary(today), 14, 10, "birthday")
	}
	if ed := c.EffectiveDate; !ed.IsZero() {
		from := datecalc.Max(today, ed.AnniversaryIn(ed.Year()+1))
		add(emailsched.TypeEffectiveDate, ed.NextAnniversary(from), 30, 10, "effective_date")
	}
	aep := g.aepThis
	if aep.Before(today) {
		aep = g.aepNext
	}
	add(emailsched.TypeAEP, aep, 0, 20, "")
}
