package sqlite

// SetBulkMinRows sets the fewest changed rows a run writes in bulk, so that
// tests write small databases in bulk, and returns the previous value.
func SetBulkMinRows(n int) int {
	old := bulkMinRows
	bulkMinRows = n
	return old
}
