package datecalc

// Interval is an inclusive range of days [Start, End]. An interval whose End
// is before its Start is empty; the zero Interval is empty.
type Interval struct {
	Start Date `json:"start"`
	End   Date `json:"end"`
}

// IsEmpty reports whether the interval contains no day.
func (iv Interval) IsEmpty() bool { return iv.Start.IsZero() || iv.End.Before(iv.Start) }

// Contains reports whether d lies in the interval, both ends included.
func (iv Interval) Contains(d Date) bool {
	return !iv.IsEmpty() && !d.IsZero() && !d.Before(iv.Start) && !d.After(iv.End)
}

// Days returns the number of days in the interval (0 when empty).
func (iv Interval) Days() int {
	if iv.IsEmpty() {
		return 0
	}
	return iv.Start.DaysUntil(iv.End) + 1
}

// Overlaps reports whether the two intervals share at least one day.
func (iv Interval) Overlaps(o Interval) bool {
	return !iv.IsEmpty() && !o.IsEmpty() && !iv.End.Before(o.Start) && !o.End.Before(iv.Start)
}

// String formats the interval as "START…END" ("" when empty).
func (iv Interval) String() string {
	if iv.IsEmpty() {
		return ""
	}
	return iv.Start.String() + "…" + iv.End.String()
}
