package store

import "github.com/emailsched/emailsched"

// Diff computes, into d, what turns the stored plan into the planned one.
// It matches each planned email to a stored row, in this order: the row
// whose ID the planned email carries (the planner kept it), then a row of
// the same type, event and campaign instance, then any row of the same type
// (rewritten in place: an update costs fewer index writes than a delete and
// an insert). A matched row whose content is unchanged is counted in
// Unchanged and not written. Unmatched planned emails are inserted,
// unmatched stored rows deleted. Stored rows whose status is not a planned
// one are ignored (never matched, never deleted). d must have been Reset.
func Diff(stored, planned []emailsched.Email, d *Delta) {
	if len(stored) == 0 {
		// No stored plan (every contact of a first run): everything is new,
		// and copying the plan in one go is most of the cost of a Diff.
		n := len(d.Insert)
		d.Insert = append(d.Insert, planned...)
		for i := n; i < len(d.Insert); i++ {
			d.Insert[i].ID = 0
		}
		return
	}
	// Most contacts have a few rows: their flags stay on the stack.
	var usedSmall [64]bool
	var used []bool
	if len(stored) > len(usedSmall) {
		used = make([]bool, len(stored))
	} else {
		used = usedSmall[:len(stored)]
	}
	for i := range stored {
		used[i] = !stored[i].Status.IsPlanned()
	}
	// Three rounds, so that a weaker match never takes a row that a
	// stronger one claims: rows kept by ID, then same type, event and
	// campaign instance, then same type.
	var doneSmall [64]bool
	var done []bool
	if len(planned) > len(doneSmall) {
		done = make([]bool, len(planned))
	} else {
		done = doneSmall[:len(planned)]
	}
	left := len(planned)
	for round := 0; round < 3 && left > 0; round++ {
		for i := range planned {
			if done[i] {
				continue
			}
			p := &planned[i]
			if round == 0 && p.ID == 0 {
				continue
			}
			j := find(stored, used, p, round)
			if j < 0 {
				continue
			}
			match(&stored[j], p, d)
			used[j], done[i] = true, true
			left--
		}
	}
	for i := range planned {
		if !done[i] {
			d.Insert = append(d.Insert, planned[i])
			d.Insert[len(d.Insert)-1].ID = 0
		}
	}
	for j := range stored {
		if !used[j] {
			d.Delete = append(d.Delete, stored[j])
		}
	}
}

// find returns the first unused stored row that matches p in the given
// round of Diff, or -1.
func find(stored []emailsched.Email, used []bool, p *emailsched.Email, round int) int {
	for j := range stored {
		if used[j] {
			continue
		}
		s := &stored[j]
		switch round {
		case 0:
			if s.ID == p.ID {
				return j
			}
		case 1:
			if s.Type == p.Type && s.Event == p.Event && s.CampaignInstanceID == p.CampaignInstanceID {
				return j
			}
		default:
			if s.Type == p.Type {
				return j
			}
		}
	}
	return -1
}

func match(s, p *emailsched.Email, d *Delta) {
	if s.SameContent(p) {
		d.Unchanged++
		return
	}
	d.Update = append(d.Update, *p)
	d.Update[len(d.Update)-1].ID = s.ID
}
