package rules

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/rules/internal/zipgen"
)

// zipListPath is the committed list the tables are generated from.
const zipListPath = "../testdata/zip/us-zip-states.csv"

// zipListDisagreements are the ZIPs of the list for which StateFromZIP
// deliberately answers another state, with the reason. Each is an override
// in rules/internal/zipgen, which produces it.
var zipListDisagreements = map[string]struct{ want, why string }{
	"96898": {"UM", "Wake Island: the list gives HI, USPS's routing state " +
		"for its mail, but the island is a US minor outlying island, not " +
		"part of Hawaii, whose rules therefore do not apply there"},
}

// zipPrefixDecisions are the prefixes without any ZIP in the list that
// still resolve, with the reason; each is an override in
// rules/internal/zipgen.
var zipPrefixDecisions = map[int]struct{ want, why string }{
	771: {"TX", "kept from the hand-written table: Houston's, like 770 and 772"},
	872: {"NM", "kept from the hand-written table: Albuquerque's, like 870 and 871"},
}

// readZIPList reads the list with a parser of its own, so that a bug in the
// generator's parser cannot hide the same bug in these tests.
func readZIPList(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(zipListPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	list := make(map[string]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		zip, code, ok := strings.Cut(line, ",")
		if !ok || len(zip) != 5 || !allDigits(zip) || list[zip] != "" {
			t.Fatalf("bad or repeated line %q", line)
		}
		list[zip] = code
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(list) < 40000 {
		t.Fatalf("the list has %d ZIPs; a complete one has over 40,000", len(list))
	}
	return list
}

// TestStateFromZIPList checks every ZIP of the list, plain and as ZIP+4.
func TestStateFromZIPList(t *testing.T) {
	list := readZIPList(t)
	for zip, code := range list {
		want := code
		if d, ok := zipListDisagreements[zip]; ok {
			if d.want == code {
				t.Errorf("%s: listed as a disagreement, but the list now says %s too: remove it", zip, code)
			}
			want = d.want
		}
		for _, in := range []string{zip, zip + "-0001"} {
			if got, ok := StateFromZIP(in); !ok || got.String() != want {
				t.Errorf("StateFromZIP(%q) = %v, %v; the list says %s", in, got, ok, code)
			}
		}
	}
	for zip := range zipListDisagreements {
		if _, ok := list[zip]; !ok {
			t.Errorf("%s: listed as a disagreement, but no longer in the list: remove it", zip)
		}
	}
}

// TestStateFromZIPUnlisted checks every 5-digit ZIP absent from the list
// against the rule of the package doc, worked out here from the list alone:
// the state of most of the prefix's listed ZIPs, or nothing for a prefix
// without any (but zipPrefixDecisions).
func TestStateFromZIPUnlisted(t *testing.T) {
	list := readZIPList(t)
	for zip, d := range zipListDisagreements {
		list[zip] = d.want
	}
	for p := 0; p < 1000; p++ {
		count := make(map[string]int)
		for i := 0; i < 100; i++ {
			if code := list[fmt.Sprintf("%03d%02d", p, i)]; code != "" {
				count[code]++
			}
		}
		want := zipPrefixDecisions[p].want
		if want != "" && len(count) > 0 {
			t.Errorf("prefix %03d: decided %s, but the list has ZIPs there: drop the decision", p, want)
		}
		for code, n := range count {
			if n > count[want] {
				want = code
			}
		}
		for i := 0; i < 100; i++ {
			zip := fmt.Sprintf("%03d%02d", p, i)
			if list[zip] != "" {
				continue
			}
			if got, ok := StateFromZIP(zip); ok != (want != "") || got.String() != want {
				t.Errorf("StateFromZIP(%q) = %v, %v; want %q", zip, got, ok, want)
			}
		}
	}
}

// TestZIPTableUpToDate regenerates the table, so that a list changed
// without `go generate ./rules` fails here rather than going unnoticed.
func TestZIPTableUpToDate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "zip_table.go")
	if err := zipgen.WriteFile(zipListPath, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("zip_table.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Error("zip_table.go is stale: run `go generate ./rules`")
	}
}

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
		{"77101", "TX"}, // 771: no ZIP in the list, kept
		{"87201", "NM"}, // 872: likewise
		// Prefixes the hand-written table lacked: Pinal County (851) and
		// Spaceport City (876); unlisted ZIPs of them too.
		{"85128", "AZ"}, {"85138", "AZ"}, {"85117", "AZ"}, {"85194", "AZ"},
		{"85100", "AZ"}, {"87654", "NM"}, {"87601", "NM"},
		// 5-digit exceptions.
		{"06390", "NY"}, // Fishers Island
		{"96799", "AS"},
		{"96898", "UM"}, // Wake Island
		{"96950", "MP"}, {"96951", "MP"}, {"96952", "MP"},
		{"96939", "PW"}, {"96940", "PW"},
		{"96941", "FM"}, {"96942", "FM"}, {"96943", "FM"}, {"96944", "FM"},
		{"96960", "MH"}, {"96970", "MH"},
		{"20588", "MD"}, {"20598", "VA"}, // federal ZIPs among DC's
		{"73960", "TX"}, // Texhoma, Texas side
		{"83414", "WY"}, // Alta
		{"72643", "MO"},
		// Around the exceptions the prefix decides.
		{"96798", "HI"}, {"96801", "HI"}, {"96897", "HI"}, {"96899", "HI"},
		{"06389", "CT"}, {"06391", "CT"},
		{"96933", "GU"}, {"96949", "GU"}, {"96961", "GU"}, {"96999", "GU"},
		{"20587", "DC"}, {"20589", "DC"}, {"72642", "AR"}, {"72644", "AR"},
		{"73959", "OK"}, {"73961", "OK"}, {"83413", "ID"}, {"83415", "ID"},
		// ZIP+4 and spaces.
		{"90210-1234", "CA"}, {"902101234", "CA"}, {" 10001 ", "NY"},
		{"\t60601-0001\t", "IL"}, {"  969501234", "MP"}, {"96799-0001", "AS"},
		{"85128-0001", "AZ"}, {"876549999", "NM"},
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

// TestStateFromZIPUnassigned pins the prefixes no ZIP of the list uses, so
// that a list update that drops or adds a whole prefix is noticed.
func TestStateFromZIPUnassigned(t *testing.T) {
	unassigned := []int{
		0, 1, 2, 3, 4, 99, 213, 269, 343, 345, 348, 353, 419, 428, 429,
		517, 518, 519, 529, 533, 536, 552, 568, 578, 579, 589, 621, 632,
		642, 643, 659, 663, 682, 694, 695, 696, 697, 698, 699, 702, 709,
		715, 732, 742, 817, 818, 819, 839, 848, 849, 854, 858, 861,
		862, 866, 867, 868, 869, 886, 887, 888, 892, 896, 899, 909,
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
	n := 0
	for _, s := range zipByPrefix {
		if s == emailsched.NoState {
			n++
		}
	}
	if n != len(unassigned) {
		t.Errorf("%d prefixes unassigned, want the %d above", n, len(unassigned))
	}
}

// TestZIPTablesWellFormed checks the generated tables: ranges sorted and
// disjoint, codes valid, exceptions sorted, disjoint, within one prefix,
// flagged, and of another state than their prefix.
func TestZIPTablesWellFormed(t *testing.T) {
	prev := -1
	for _, r := range zipPrefixRanges {
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
		if !e.state.Valid() || e.state == zipByPrefix[e.lo/100] {
			t.Errorf("exception %v: invalid state, or its prefix's", e)
		}
		if !zipHasException[e.lo/100] {
			t.Errorf("exception %v: prefix not flagged", e)
		}
		prevEx = int(e.hi)
	}
}

// TestZIPCoversStates checks that every State is produced by a prefix or an
// exception, so that no state's rules are unreachable through ZIPs.
func TestZIPCoversStates(t *testing.T) {
	seen := make(map[emailsched.State]bool)
	for _, s := range zipByPrefix {
		seen[s] = true
	}
	for _, e := range zipExceptions {
		seen[e.state] = true
	}
	for _, s := range emailsched.States() {
		if !seen[s] {
			t.Errorf("no ZIP prefix or exception maps to %s", s)
		}
	}
}

func TestStateFromZIPNoAlloc(t *testing.T) {
	inputs := []string{"90210", " 96950-1234 ", "969101234", "96933", "00000", "bad"}
	for _, zip := range inputs {
		allocs := testing.AllocsPerRun(100, func() {
			_, _ = StateFromZIP(zip)
		})
		if allocs != 0 {
			t.Errorf("StateFromZIP(%q) allocates %v times", zip, allocs)
		}
	}
}

// BenchmarkStateFromZIP covers the paths of a lookup: a prefix without
// exceptions (most contacts), one with exceptions, and input rejected early.
func BenchmarkStateFromZIP(b *testing.B) {
	for _, bc := range []struct{ name, zip string }{
		{"plain", "90210"},
		{"zip4", "90210-1234"},
		{"exception", "96950-1234"},
		{"spaces", " 10001 "},
		{"invalid", "ABCDE"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = StateFromZIP(bc.zip)
			}
		})
	}
}
