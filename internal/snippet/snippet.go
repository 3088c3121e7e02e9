// Package snippet renders a line of a file a user wrote with a caret under
// a column, for error messages: the line's number, at most Width
// characters of it around the column, and the caret. A line of a hostile
// file may be megabytes long; a message about it stays short.
package snippet

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Width bounds the characters of the line a snippet shows.
const Width = 100

// Render shows line n, whose text is text (without its newline), with a
// caret under column col (in characters, from 1). Tabs are shown as one
// space so that the caret lines up; a line longer than Width characters is
// cut around the column, with "…" where it was cut.
func Render(n int, text string, col int) string {
	col = max(col, 1)
	text = strings.ReplaceAll(text, "\t", " ")
	if utf8.RuneCountInString(text) > Width {
		runes := []rune(text)
		from := max(0, min(col-1-Width/2, len(runes)-Width))
		to := min(len(runes), from+Width)
		part := string(runes[from:to])
		col -= from
		if from > 0 {
			part, col = "…"+part, col+1
		}
		if to < len(runes) {
			part += "…"
		}
		text = part
	}
	gutter := fmt.Sprintf("%5d | ", n)
	return gutter + text + "\n" + strings.Repeat(" ", len(gutter)-2) + "| " + strings.Repeat(" ", col-1) + "^"
}
