package rules

import (
	"fmt"
	"testing"

	"github.com/emailsched/emailsched"
)

func TestStateFromZIPKnown(t *testing.T) {
	tests := []struct {
		zip  string
		want string
	}{
		// One well-known ZIP per state (capitals and large cities).
		{"35203", "AL"}, {"99501", "AK"}, {"85001", "AZ"}, {"72201", "AR"},
		{"90210", "CA"}, {"80202", "CO"}, {"06103", "CT"}, {"19901", "DE"},
		{"33101", "FL"}, {"30303", "GA"}, {"96813", "HI"}, {"83702", "ID"},
		{"60601", "IL"}, {"46204", "IN"}, {"50309", "IA"}, {"66603", "KS"},
		{"40601", "KY"}, {"70112", "LA"}, {"04101", "ME"}, {"21201", "MD"},
		{"02108", "MA"}, {"48226", "MI"}, {"55401", "MN"}, {"39201", "MS"},
		{"63101", "MO"}, {"59601", "MT"}, {"68102", "NE"}, {"89501", "NV"},
		{"03301", "NH"}, {"07102", "NJ"}, {"87501", "NM"}, {"10001", "NY"},
		{"27601", "NC"}, {"58501", "ND"}, {"43215", "OH"}, {"73102", "OK"},
		{"97201", "OR"}, {"19103", "PA"}, {"02903", "RI"}, {"29201", "SC"},
		{"57501", "SD"}, {"37203", "TN"}, {"78701", "TX"}, {"84101", "UT"},
		{"05601", "VT"}, {"23219", "VA"}, {"98101", "WA"}, {"25301", "WV"},
		{"53703", "WI"}, {"82001", "WY"},
		// DC and territories.
		{"20500", "DC"}, {"20001", "DC"}, {"20201", "DC"}, {"56901", "DC"},
		{"00901", "PR"}, {"00601", "PR"}, {"00725", "PR"},
		{"00802", "VI"}, {"00820", "VI"},
		{"96910", "GU"}, {"96932", "GU"},
		// Armed forces.
		{"34020", "AA"}, {"09001", "AE"}, {"09801", "AE"},
		{"96201", "AP"}, {"96601", "AP"},
		// Prefix exceptions to the usual ranges.
		{"00501", "NY"}, // Holtsville
		{"06320", "CT"}, // New London
		{"05501", "MA"}, // Andover
		{"20101", "VA"}, // Dulles
		{"73301", "TX"}, // Austin IRS
		{"88510", "TX"}, // El Paso
		{"73949", "OK"}, // Texhoma
		{"77101", "TX"},
		// 5-digit exceptions.
		{"06390", "NY"}, // Fishers Island
		{"96799", "AS"},
		{"96898", "UM"}, // Wake Island
		{"96950", "MP"}, {"96951", "MP"}, {"96952", "MP"},
		{"96939", "PW"}, {"96940", "PW"},
		{"96941", "FM"}, {"96942", "FM"}, {"96943", "FM"}, {"96944", "FM"},
		{"96960", "MH"}, {"96970", "MH"},
		// Around the exceptions the prefix decides.
		{"96798", "HI"}, {"96801", "HI"}, {"96897", "HI"}, {"96899", "HI"},
		{"06389", "CT"}, {"06391", "CT"},
		{"96933", "GU"}, {"96949", "GU"}, {"96961", "GU"}, {"96999", "GU"},
		// ZIP+4 and spaces.
		{"90210-1234", "CA"}, {"902101234", "CA"}, {" 10001 ", "NY"},
		{"\t60601-0001\t", "IL"}, {"  969501234", "MP"}, {"96799-0001", "AS"},
	}
	for _, tt := range tests {
		got, ok := StateFromZIP(tt.zip)
		if !ok || got != emailsched.MustState(tt.want) {
			t.Errorf("StateFromZIP(%q) = %v, %v; want %s, true", tt.zip, got, ok, tt.want)
		}
	}
}

func TestStateFromZIPInvalid(t *testing.T) {
	for _, zip := range []string{
		"", " ", "1", "1234", "123456", "12345678", "12345-678", "12345-67890",
		"12345 6789", "12345--6789", "1234a", "a1234", "abcde", "9021O",
		"90210-12a4", "90210x1234", "9021012a4", "-90210", "90210-",
		"1 234", "١٢٣٤٥", "90210\n",
	} {
		if got, ok := StateFromZIP(zip); ok || got != emailsched.NoState {
			t.Errorf("StateFromZIP(%q) = %v, %v; want NoState, false", zip, got, ok)
		}
	}
}

func TestStateFromZIPUnassigned(t *testing.T) {
	unassigned := []int{
		0, 1, 2, 3, 4, 99, 213, 269, 343, 345, 348, 353, 419, 428, 429,
		517, 518, 519, 529, 533, 536, 552, 568, 578, 579, 589, 621, 632,
		642, 643, 659, 663, 682, 694, 695, 696, 697, 698, 699, 702, 709,
		715, 732, 742, 817, 818, 819, 839, 848, 849, 851, 854, 858, 861,
		862, 866, 867, 868, 869, 876, 886, 887, 888, 892, 896, 899, 909,
		929, 987,
	}
	for _, p := range unassigned {
		for _, zip := range []string{
			fmt.Sprintf("%03d01", p),
			fmt.Sprintf("%03d99-1234", p),
		} {
			if got, ok := StateFromZIP(zip); ok || got != emailsched.NoState {
				t.Errorf("StateFromZIP(%q) = %v, %v; want NoState, false", zip, got, ok)
			}
		}
	}
}

// TestZIPTablesWellFormed checks the source tables: ranges sorted and
// disjoint, codes valid, exceptions flagged.
func TestZIPTablesWellFormed(t *testing.T) {
	prev := -1
	for _, r := range zipRanges {
		if int(r.lo) <= prev || r.hi < r.lo || r.hi > 999 {
			t.Errorf("range %v overlaps, is unordered or out of bounds (previous hi %d)", r, prev)
		}
		if _, ok := emailsched.ParseState(r.code); !ok {
			t.Errorf("range %v: unknown code", r)
		}
		prev = int(r.hi)
	}
	prevEx := -1
	for _, e := range zipExceptions {
		if int(e.lo) <= prevEx || e.hi < e.lo || e.hi > 99999 || e.lo/100 != e.hi/100 {
			t.Errorf("exception %v overlaps, is unordered, out of bounds or spans prefixes", e)
		}
		if !e.state.Valid() {
			t.Errorf("exception %v: invalid state", e)
		}
		if !zipHasException[e.lo/100] {
			t.Errorf("exception %v: prefix not flagged", e)
		}
		prevEx = int(e.hi)
	}
}

// TestZIPCoversStates checks that every State except UM (which only has
// Wake Island's exception) is produced by a prefix or an exception.
func TestZIPCoversStates(t *testing.T) {
	seen := make(map[emailsched.State]bool)
	for _, s := range zipByPrefix {
		seen[s] = true
	}
	for _, e := range zipExceptions {
		seen[e.state] = true
	}
	for _, s := range emailsched.States() {
		if s == emailsched.MustState("UM") {
			continue
		}
		if !seen[s] {
			t.Errorf("no ZIP prefix or exception maps to %s", s)
		}
	}
	if n := len(zipByPrefix); n != 1000 {
		t.Errorf("prefix table has %d entries, want 1000", n)
	}
}

func TestStateFromZIPNoAlloc(t *testing.T) {
	inputs := []string{"90210", " 96950-1234 ", "969101234", "00000", "bad"}
	for _, zip := range inputs {
		allocs := testing.AllocsPerRun(100, func() {
			_, _ = StateFromZIP(zip)
		})
		if allocs != 0 {
			t.Errorf("StateFromZIP(%q) allocates %v times", zip, allocs)
		}
	}
}

func BenchmarkStateFromZIP(b *testing.B) {
	for b.Loop() {
		_, _ = StateFromZIP("96950-1234")
	}
}
