package rules

import "github.com/emailsched/emailsched"

// ZIP-to-state resolution (SPEC §2 "State resolution").
//
// The table below is compiled in from public-domain USPS facts: the first
// three digits of a ZIP Code (the sectional center facility prefix) identify
// the state, with a handful of well-known 5-digit exceptions. No network is
// ever consulted.
//
// Decisions worth knowing:
//   - 969 is shared by Guam, the Northern Mariana Islands, Palau, the
//     Federated States of Micronesia and the Marshall Islands. The prefix maps
//     to GU; the ZIPs known to belong to the others are listed in
//     zipExceptions, which is consulted before the prefix table.
//   - 96799 (American Samoa) and 96898 (Wake Island, UM) sit inside Hawaii's
//     967/968 prefixes and are exceptions too.
//   - 06390 (Fishers Island) is New York inside Connecticut's 063 prefix.
//   - Prefixes that USPS has not assigned (000-004, 099, 213, 269, ...) map to
//     no state, so a contact with such a ZIP falls back to its own state field.

// zipRange assigns the 3-digit prefixes lo through hi (inclusive) to code.
type zipRange struct {
	lo, hi uint16
	code   string
}

// zipRanges is the readable prefix table, in ascending order and without
// overlaps (the tests check both). Prefixes not listed are unassigned.
var zipRanges = [...]zipRange{
	{5, 5, "NY"}, // Holtsville (IRS)
	{6, 7, "PR"},
	{8, 8, "VI"},
	{9, 9, "PR"},
	{10, 27, "MA"},
	{28, 29, "RI"},
	{30, 38, "NH"},
	{39, 49, "ME"},
	{50, 54, "VT"},
	{55, 55, "MA"}, // Andover
	{56, 59, "VT"},
	{60, 69, "CT"},
	{70, 89, "NJ"},
	{90, 98, "AE"}, // Armed Forces Europe, Middle East, Africa, Canada
	{100, 149, "NY"},
	{150, 196, "PA"},
	{197, 199, "DE"},
	{200, 200, "DC"},
	{201, 201, "VA"}, // Dulles
	{202, 205, "DC"},
	{206, 212, "MD"},
	{214, 219, "MD"},
	{220, 246, "VA"},
	{247, 268, "WV"},
	{270, 289, "NC"},
	{290, 299, "SC"},
	{300, 319, "GA"},
	{320, 339, "FL"},
	{340, 340, "AA"}, // Armed Forces Americas
	{341, 342, "FL"},
	{344, 344, "FL"},
	{346, 347, "FL"},
	{349, 349, "FL"},
	{350, 352, "AL"},
	{354, 369, "AL"},
	{370, 385, "TN"},
	{386, 397, "MS"},
	{398, 399, "GA"},
	{400, 418, "KY"},
	{420, 427, "KY"},
	{430, 459, "OH"},
	{460, 479, "IN"},
	{480, 499, "MI"},
	{500, 516, "IA"},
	{520, 528, "IA"},
	{530, 532, "WI"},
	{534, 535, "WI"},
	{537, 549, "WI"},
	{550, 551, "MN"},
	{553, 567, "MN"},
	{569, 569, "DC"},
	{570, 577, "SD"},
	{580, 588, "ND"},
	{590, 599, "MT"},
	{600, 620, "IL"},
	{622, 629, "IL"},
	{630, 631, "MO"},
	{633, 641, "MO"},
	{644, 658, "MO"},
	{660, 662, "KS"},
	{664, 679, "KS"},
	{680, 681, "NE"},
	{683, 693, "NE"},
	{700, 701, "LA"},
	{703, 708, "LA"},
	{710, 714, "LA"},
	{716, 729, "AR"},
	{730, 731, "OK"},
	{733, 733, "TX"}, // Austin (IRS)
	{734, 741, "OK"}, // 739: Oklahoma panhandle
	{743, 749, "OK"},
	{750, 799, "TX"},
	{800, 816, "CO"},
	{820, 831, "WY"},
	{832, 838, "ID"},
	{840, 847, "UT"},
	{850, 850, "AZ"},
	{852, 853, "AZ"},
	{855, 857, "AZ"},
	{859, 860, "AZ"},
	{863, 865, "AZ"},
	{870, 875, "NM"},
	{877, 884, "NM"},
	{885, 885, "TX"}, // El Paso
	{889, 891, "NV"},
	{893, 895, "NV"},
	{897, 898, "NV"},
	{900, 908, "CA"},
	{910, 928, "CA"},
	{930, 961, "CA"},
	{962, 966, "AP"}, // Armed Forces Pacific
	{967, 968, "HI"},
	{969, 969, "GU"}, // shared; see zipExceptions
	{970, 979, "OR"},
	{980, 986, "WA"},
	{988, 994, "WA"},
	{995, 999, "AK"},
}

// zipByPrefix maps every 3-digit prefix to its State (NoState if unassigned).
var zipByPrefix = func() (t [1000]emailsched.State) {
	for _, r := range zipRanges {
		s := emailsched.MustState(r.code)
		for p := r.lo; p <= r.hi; p++ {
			t[p] = s
		}
	}
	return t
}()

// zipException assigns the 5-digit ZIPs lo through hi (inclusive) to state,
// overriding the prefix table.
type zipException struct {
	lo, hi uint32
	state  emailsched.State
}

// zipExceptions holds the 5-digit ZIPs whose state differs from (or refines)
// their prefix's. Only prefixes flagged in zipHasException are searched.
var zipExceptions = [...]zipException{
	{6390, 6390, emailsched.MustState("NY")},   // Fishers Island
	{96799, 96799, emailsched.MustState("AS")}, // American Samoa
	{96898, 96898, emailsched.MustState("UM")}, // Wake Island
	{96910, 96932, emailsched.MustState("GU")},
	{96939, 96940, emailsched.MustState("PW")},
	{96941, 96944, emailsched.MustState("FM")},
	{96950, 96952, emailsched.MustState("MP")},
	{96960, 96960, emailsched.MustState("MH")},
	{96970, 96970, emailsched.MustState("MH")},
}

// zipHasException flags the prefixes that have at least one exception, so
// that ordinary lookups skip the exception scan.
var zipHasException = func() (t [1000]bool) {
	for _, e := range zipExceptions {
		t[e.lo/100] = true
		t[e.hi/100] = true
	}
	return t
}()

// StateFromZIP returns the state a US ZIP Code belongs to. It accepts
// 5-digit ZIPs and ZIP+4 in the forms "12345-6789" and "123456789", with
// optional surrounding spaces or tabs. It reports false for anything that is
// not a ZIP Code and for ZIPs whose prefix is not assigned to any state.
// It does not allocate.
func StateFromZIP(zip string) (emailsched.State, bool) {
	i, j := 0, len(zip)
	for i < j && isSpace(zip[i]) {
		i++
	}
	for j > i && isSpace(zip[j-1]) {
		j--
	}
	z := zip[i:j]
	switch {
	case len(z) == 5:
	case len(z) == 9 && allDigits(z[5:]):
	case len(z) == 10 && z[5] == '-' && allDigits(z[6:]):
	default:
		return emailsched.NoState, false
	}
	if !allDigits(z[:5]) {
		return emailsched.NoState, false
	}
	prefix := uint32(z[0]-'0')*100 + uint32(z[1]-'0')*10 + uint32(z[2]-'0')
	if zipHasException[prefix] {
		n := prefix*100 + uint32(z[3]-'0')*10 + uint32(z[4]-'0')
		for _, e := range zipExceptions {
			if e.lo <= n && n <= e.hi {
				return e.state, true
			}
		}
	}
	s := zipByPrefix[prefix]
	return s, s != emailsched.NoState
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
