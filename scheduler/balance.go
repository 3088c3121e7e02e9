package scheduler

import (
	"slices"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
)

// balancer connects the planner to load balancing. The plan
// starts from the run's per-day volume: counted by a first pass that plans
// every contact, or taken from the load stored with the previous plan. The
// planning pass then lets the balancer move emails off days over the cap,
// asking legal for every day it considers. Only a compact count per day and
// one contact's candidates are held.
type balancer struct {
	s    *settings
	plan *loadbalance.Plan
	// hashAll makes candidates compute every hash on shedding days, for the
	// test that only the hashes it skips are never read.
	hashAll bool
	o       *outcome
	cands   []loadbalance.Candidate
	idx     []int // the outcome index of each candidate
	c       *emailsched.Contact
	hist    []datecalc.Date // the days of c's committed history, once histOK
	histOK  bool
	days    []datecalc.Date // scratch for the frequency check
	legal   func(i int, day datecalc.Date) bool
	// freqSkips: the frequency limit skipped some of the contact's emails.
	freqSkips bool
	admit     []admitted // scratch of settles
}

// admitted is an email the frequency limit considers, on its current day.
type admitted struct {
	e       *emailsched.Email
	day     datecalc.Date
	skipped bool
}

func newBalancer(s *settings) *balancer {
	b := &balancer{s: s}
	b.legal = b.isLegal
	return b
}

// start prepares the plan of the planning pass from the run's per-day
// volume and number of valid contacts. Without a volume (nil) nothing is
// over any limit and nothing moves.
func (b *balancer) start(counter *loadbalance.Counter, cfg loadbalance.Config, today datecalc.Date) {
	if counter == nil {
		counter, cfg.ValidContacts = loadbalance.NewCounter(today), 0
	}
	// The configuration was validated by New: NewPlan cannot fail.
	b.plan, _ = loadbalance.NewPlan(counter, cfg)
}

// balanceConfig is the load-balancing configuration of a run with valid
// contacts whose per-day volume is that of a plan made on planDate (the
// run date for a counting pass, an earlier one for a stored volume):
// smoothing stays within the days whose emails that plan had all planned
// (plannedThrough), so that the emails added beyond them do not change
// what moves where.
func (s *settings) balanceConfig(planDate datecalc.Date, valid int) loadbalance.Config {
	cfg := *s.balance
	cfg.ValidContacts = valid
	cfg.CompleteThrough = s.plannedThrough(planDate)
	return cfg
}

// candidates fills b.cands with the pre-scheduled emails of o.
func (b *balancer) candidates(o *outcome) {
	b.o = o
	b.cands, b.idx = b.cands[:0], b.idx[:0]
	b.freqSkips = false
	for i := range o.emails {
		e := &o.emails[i]
		if e.Status != emailsched.StatusPreScheduled {
			b.freqSkips = b.freqSkips || e.SkipReason == emailsched.ReasonFrequencyLimit
			continue
		}
		b.cands = append(b.cands, loadbalance.Candidate{Date: e.Date, Latest: o.info[i].latest, Priority: e.Priority, IsED: o.info[i].smoothed})
		b.idx = append(b.idx, i)
	}
}

// hash sets the stable hash of contact c's candidates where Place reads
// it, and only there: for the smoothing jitter of effective_date emails and
// to order emails that share a day and a priority, on days that shed (the
// others never move). Place's outcome is the same as with every hash set.
func (b *balancer) hash(c *emailsched.Contact) {
	for i := range b.cands {
		cand := &b.cands[i]
		if !cand.IsED && !b.hashAll && !b.tied(i) || !b.plan.Sheds(cand.Date) {
			continue
		}
		e := &b.o.emails[b.idx[i]]
		cand.Hash = datecalc.StableHash(c.ID, string(e.Type), e.Event.Year())
	}
}

// tied reports whether another candidate has the day and priority of
// candidate i.
func (b *balancer) tied(i int) bool {
	for j := range b.cands {
		if j != i && b.cands[j].Date == b.cands[i].Date && b.cands[j].Priority == b.cands[i].Priority {
			return true
		}
	}
	return false
}

// countPreScheduled adds the contact's pre-scheduled emails to the first
// pass's counter, which reads their day, priority and effective-date flag
// and nothing else.
func countPreScheduled(counter *loadbalance.Counter, o *outcome) {
	for i := range o.emails {
		e := &o.emails[i]
		if e.Status == emailsched.StatusPreScheduled {
			counter.Add(loadbalance.Candidate{Date: e.Date, Priority: e.Priority, IsED: o.info[i].smoothed})
		}
	}
}

// place lets the plan move the contact's emails and writes the new days back
// into o, keeping it sorted. A contact with no pre-scheduled email on a day
// that sheds is left alone: nothing of it could move.
func (b *balancer) place(c *emailsched.Contact, o *outcome) error {
	sheds := false
	for i := range o.emails {
		if o.emails[i].Status == emailsched.StatusPreScheduled && b.plan.Sheds(o.emails[i].Date) {
			sheds = true
			break
		}
	}
	if !sheds {
		return nil
	}
	b.candidates(o)
	b.hash(c)
	b.c, b.histOK = c, false
	moved, err := b.plan.Place(c.ID, b.cands, b.legal)
	if err != nil || moved == 0 {
		return err
	}
	for j, cand := range b.cands {
		k := b.idx[j]
		if o.tr != nil && o.emails[k].Date != cand.Date {
			o.info[k].notef("load balancing moved it from %s to %s (its day was over the daily cap or the effective-date soft limit)", o.emails[k].Date, cand.Date)
		}
		o.emails[k].Date = cand.Date
	}
	sortOutcome(o)
	return nil
}

// isLegal reports whether candidate i may go out on day as far as the
// contact's own rules go: its exclusion periods (for emails that respect
// them), one campaign email per day, and the frequency limit with the
// contact's other emails at their current days. Today, the email's latest
// day and the room of the day are the balancer's own checks.
func (b *balancer) isLegal(i int, day datecalc.Date) bool {
	s, o := b.s, b.o
	info := o.info[b.idx[i]]
	if info.respects {
		if _, ex := o.ap.Excluded(day); ex {
			return false
		}
	}
	if info.kind == kindCampaign && !b.campaignMayMove(i, day) {
		return false
	}
	if s.freqMax == 0 || info.kind == kindFollowUp {
		return true
	}
	if !b.histOK {
		// Most contacts placed never get this far: Place asks only about
		// days with room, and those are few.
		b.hist, b.histOK = b.hist[:0], true
		for i := range b.c.History {
			h := &b.c.History[i]
			if h.Status.Committed() && !h.Type.IsFollowUp() {
				b.hist = append(b.hist, sentDay(h))
			}
		}
	}
	b.days = append(b.days[:0], b.hist...)
	for j := range b.cands {
		if j != i && o.info[b.idx[j]].kind != kindFollowUp {
			b.days = append(b.days, b.cands[j].Date)
		}
	}
	return fitsFrequency(b.days, day, s.freqMax, s.freqPeriod) && b.settles(i, day)
}

// campaignMayMove reports whether campaign candidate i may go out on day
// instead of its current day: one campaign email per day, and the run's
// choices between campaign emails of one day stay as they are. A skipped
// campaign email (campaign_conflict) lost to a more important one on its
// day: were that one to leave, or another to join it, the next run would
// choose again and change the plan. A campaign email the frequency limit
// skipped took part in that choice too, so no campaign email may join it.
func (b *balancer) campaignMayMove(i int, day datecalc.Date) bool {
	o, cur := b.o, b.cands[i].Date
	for j := range b.cands {
		if j != i && b.cands[j].Date == day && o.info[b.idx[j]].kind == kindCampaign {
			return false
		}
	}
	for k := range o.emails {
		e := &o.emails[k]
		if o.info[k].kind != kindCampaign {
			continue
		}
		switch e.SkipReason {
		case emailsched.ReasonCampaignConflict:
			if e.Date == cur || e.Date == day {
				return false
			}
		case emailsched.ReasonFrequencyLimit:
			// Skipped after the conflicts were settled: on day, it
			// would be in conflict with this one on the next run.
			if e.Date == day {
				return false
			}
		}
	}
	return true
}

// settles reports whether moving candidate i to day leaves the frequency
// limit's choice as it is. The next run finds every email on its new day
// and applies the limit again: were the move to let a skipped email in, or
// to change which of two tied emails goes first (the later day loses),
// that run would change the plan again, and a rerun on the same day would
// not be a fixed point. Only contacts with an email skipped by the limit
// are checked: without one, the limit holding for the new days (checked by
// isLegal) means nothing would be skipped.
func (b *balancer) settles(i int, day datecalc.Date) bool {
	if !b.freqSkips {
		return true
	}
	o := b.o
	b.admit = b.admit[:0]
	j := 0 // the candidate of o.emails[k], b.idx being ascending
	for k := range o.emails {
		e := &o.emails[k]
		if o.info[k].kind == kindFollowUp {
			continue
		}
		switch {
		case e.Status == emailsched.StatusPreScheduled:
			for b.idx[j] != k {
				j++
			}
			d := b.cands[j].Date
			if j == i {
				d = day
			}
			b.admit = append(b.admit, admitted{e: e, day: d})
		case e.SkipReason == emailsched.ReasonFrequencyLimit:
			b.admit = append(b.admit, admitted{e: e, day: e.Date, skipped: true})
		}
	}
	slices.SortFunc(b.admit, func(x, y admitted) int { return admitOrder(x.e, y.e, x.day, y.day) })
	b.days = append(b.days[:0], b.hist...)
	for _, a := range b.admit {
		fits := fitsFrequency(b.days, a.day, b.s.freqMax, b.s.freqPeriod)
		if fits == a.skipped {
			return false
		}
		if fits {
			b.days = append(b.days, a.day)
		}
	}
	return true
}
