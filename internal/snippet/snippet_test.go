package snippet

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		col        int
		want       string
	}{
		{"short", "CA: x", 5, "    3 | CA: x\n      |     ^"},
		{"tab", "\tCA", 2, "    3 |  CA\n      |  ^"},
		{"column 0", "CA", 0, "    3 | CA\n      | ^"},
	} {
		if got := Render(3, tc.text, tc.col); got != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}
	long := strings.Repeat("é", 1000) + "X" + strings.Repeat("b", 1000)
	got := Render(7, long, 1001)
	lines := strings.Split(got, "\n")
	if n := utf8.RuneCountInString(lines[0]); n > Width+12 {
		t.Errorf("a long line shows %d characters", n)
	}
	caret := strings.IndexRune(lines[1], '^')
	shown := []rune(lines[0])
	if caret < 0 || string(shown[caret]) != "X" {
		t.Errorf("the caret is not under X:\n%s", got)
	}
	if !strings.Contains(lines[0], "…") || !strings.HasSuffix(lines[0], "…") {
		t.Errorf("no cut marks: %s", lines[0])
	}
	start := Render(1, long, 1)
	if strings.HasPrefix(strings.TrimPrefix(strings.Split(start, "\n")[0], "    1 | "), "…") {
		t.Errorf("cut before the first column: %s", start)
	}
}
