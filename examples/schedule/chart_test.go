package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
)

// checkChart parses the SVG at path as XML, all of it, and checks that each
// panel has one bar per day, the daily cap and effective-date soft limit
// lines, the AEP send window and the days not all planned yet.
func checkChart(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	bars := map[string]int{}
	caps := map[string]int{}
	marks := map[string]map[string]int{} // panel → class → count
	var panel, root string
	var texts []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", path, err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Space + " " + el.Name.Local
			}
			attr := func(name string) string {
				for _, a := range el.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			switch {
			case el.Name.Local == "g" && attr("class") == "panel":
				panel = attr("id")
			case el.Name.Local == "rect" && attr("class") == "total":
				bars[panel]++
			case el.Name.Local == "line" && attr("class") == "cap":
				caps[panel]++
			case attr("class") == "ed-soft-limit" || attr("class") == "aep" || attr("class") == "later":
				if marks[panel] == nil {
					marks[panel] = map[string]int{}
				}
				marks[panel][attr("class")]++
			}
		case xml.CharData:
			texts = append(texts, string(el))
		}
	}
	if root != "http://www.w3.org/2000/svg svg" {
		t.Errorf("root element %q, want svg in the SVG namespace", root)
	}
	for _, p := range []string{"before", "after"} {
		if bars[p] != chartDays {
			t.Errorf("panel %s: %d bars, want %d (one per day)", p, bars[p], chartDays)
		}
		if caps[p] != 1 {
			t.Errorf("panel %s: %d cap lines, want 1", p, caps[p])
		}
		// One AEP window (Sept 15 to 30) within the 12 months.
		if m := marks[p]; m["ed-soft-limit"] != 1 || m["aep"] != 1 || m["later"] != 1 {
			t.Errorf("panel %s: marks %v, want one effective-date soft limit, one AEP window, one planned-later band", p, m)
		}
	}
	all := strings.Join(texts, " ")
	for _, want := range []string{"Pre-scheduled emails per day", "daily cap", "Before load balancing", "After load balancing", "Mar 2025", "Jan 2026",
		"ED soft limit", "AEP send window", "planned later"} {
		if !strings.Contains(all, want) {
			t.Errorf("chart has no text %q", want)
		}
	}
}

func TestEsc(t *testing.T) {
	if got, want := esc(`a<b & "c" — d`), "a&lt;b &amp; &#34;c&#34; — d"; got != want {
		t.Errorf("esc = %q, want %q", got, want)
	}
}

func TestThousandsAndClock(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 3000000: "3,000,000", -12345: "-12,345"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWriteOverThreshold(t *testing.T) {
	b := &loadbalance.Report{Limits: loadbalance.Limits{Cap: 10, Threshold: 12}}
	day := datecalc.MustNew(2025, 9, 15)
	for i := range 12 {
		b.After = append(b.After, loadbalance.DayVolume{Date: day.AddDays(i), Total: 20 + i, Stuck: 3})
	}
	b.After = append(b.After, loadbalance.DayVolume{Date: day.AddDays(20), Total: 12})
	var sb strings.Builder
	writeOverThreshold(&sb, b)
	got := sb.String()
	for _, want := range []string{"Days still above the threshold", "  2025-09-15  20 emails, 3 of them with no other allowed day\n", "  2025-09-24  29 emails", "  and 2 more days\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "2025-10-05") {
		t.Errorf("a day at the threshold is named:\n%s", got)
	}
	sb.Reset()
	writeOverThreshold(&sb, &loadbalance.Report{Limits: loadbalance.Limits{Cap: 10, Threshold: 12}, After: b.After[12:]})
	if sb.Len() != 0 {
		t.Errorf("no day above the threshold, yet:\n%s", sb.String())
	}
}
