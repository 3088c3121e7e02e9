//go:build !unix

package sqlite

// processGone cannot tell on this platform: a crashed run's lock then
// expires with its lease.
func processGone(int) bool { return false }
