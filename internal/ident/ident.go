// Package ident checks the identifiers that end up in stored text (campaign
// type names, anchor names): lower-case, so that they stay plain words in
// email types and skip reasons.
package ident

// Valid reports whether s is 1 to max bytes of a-z, 0-9 and _, starting
// with a letter.
func Valid(s string, max int) bool {
	if len(s) == 0 || len(s) > max || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
