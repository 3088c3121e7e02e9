package main

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// checkChart parses the SVG at path as XML, all of it, and checks that each
// panel has one bar per day and the daily cap line.
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
	}
	all := strings.Join(texts, " ")
	for _, want := range []string{"Pre-scheduled emails per day", "daily cap", "Before load balancing", "After load balancing", "Mar 2025", "Jan 2026"} {
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
