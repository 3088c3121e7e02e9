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
	var usedSmall [64]bool
	used := usedSmall[:0]
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
	done := doneSmall[:0]
	if len(planned) > len(doneSmall) {
		done = make([]bool, len(planned))
	} else {
		done = doneSmall[:len(planned)]
	}
	for round := 0; round < 3; round++ {
		for i := range planned {
			if done[i] {
				continue
			}
			p := &planned[i]
			j := -1
			switch round {
			case 0:
				if p.ID != 0 {
					j = find(stored, used, func(s *emailsched.Email) bool { return s.ID == p.ID })
				}
			case 1:
				j = find(stored, used, func(s *emailsched.Email) bool {
					return s.Type == p.Type && s.Event == p.Event && s.CampaignInstanceID == p.CampaignInstanceID
				})
			default:
				j = find(stored, used, func(s *emailsched.Email) bool { return s.Type == p.Type })
			}
			if j < 0 {
				continue
			}
			match(&stored[j], p, d)
			used[j], done[i] = true, true
		}
	}
	for i := range planned {
		if !done[i] {
			e := planned[i]
			e.ID = 0
			d.Insert = append(d.Insert, e)
		}
	}
	for j := range stored {
		if !used[j] {
			d.Delete = append(d.Delete, stored[j])
		}
	}
}

func find(stored []emailsched.Email, used []bool, ok func(*emailsched.Email) bool) int {
	for j := range stored {
		if !used[j] && ok(&stored[j]) {
			return j
		}
	}
	return -1
}

func match(s, p *emailsched.Email, d *Delta) {
	if s.SameContent(p) {
		d.Unchanged++
		return
	}
	e := *p
	e.ID = s.ID
	d.Update = append(d.Update, e)
}
