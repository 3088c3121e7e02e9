package loadbalance

import (
	"errors"
	"fmt"

	"github.com/emailsched/emailsched/datecalc"
)

// Plan holds the decisions of the second pass: which days shed emails, how
// many, and the running per-day volume as emails arrive and leave. Create it
// with NewPlan from the first pass's Counter, then call Place once per
// contact in ascending contact-id order, then Report.
//
// A Plan is not safe for concurrent use: Place updates shared day counts, and
// its outcome depends on the order of the calls, which is why the order is
// fixed (ascending contact id).
type Plan struct {
	today  datecalc.Date
	cfg    Config
	lim    Limits
	days   []planDay
	last   int64 // contact id of the previous Place
	placed bool  // Place was called at least once
	// complete is the index of the first day after Config.CompleteThrough
	// (len(days) when every day is complete): effective-date smoothing
	// stays before it.
	complete int

	ignored            int
	edMoved, overMoved int
	shifts             []int // moves by shift: index shift + EDSmoothingWindowDays

	// Scratch buffers of Place, reused so that Place does not allocate.
	order   []int
	refused []uint8
	// noShortcut makes Place try every contact in rounds, for the test
	// that the contacts it settles at once end the same.
	noShortcut bool
}

type planDay struct {
	n, e           int // running total and effective_date count
	n0, e0, pinned int // counts of the first pass
	edSrc, overSrc bool
	prio, slots    int // overflow: move priority > prio, and slots more of prio
	stuck, edStuck int // candidates that found no legal day with room
	arrived, left  int
	// edClosed: every day within the smoothing window sheds effective_date
	// emails, so none can take one from this day.
	edClosed bool
}

// ErrNilCounter is returned by NewPlan for a nil Counter.
var ErrNilCounter = errors.New("loadbalance: nil Counter")

// NewPlan prepares the second pass from the counts of the first. It reads c
// and does not keep it. The error names a Config field out of range.
func NewPlan(c *Counter, cfg Config) (*Plan, error) {
	if c == nil {
		return nil, ErrNilCounter
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	lim := limitsOf(cfg)
	n := len(c.days)
	if n > 0 {
		// Room for emails that move after the last counted day.
		n = min(n+max(cfg.OverflowHorizonDays, cfg.EDSmoothingWindowDays), MaxHorizonDays)
	}
	p := &Plan{
		today:   c.today,
		cfg:     cfg,
		lim:     lim,
		days:    make([]planDay, n),
		ignored: c.ignored,
		shifts:  make([]int, cfg.EDSmoothingWindowDays+max(cfg.EDSmoothingWindowDays, cfg.OverflowHorizonDays)+1),
	}
	p.complete = n
	if !cfg.CompleteThrough.IsZero() {
		p.complete = min(max(c.today.DaysUntil(cfg.CompleteThrough)+1, 0), n)
	}
	if lim.Cap == 0 {
		// No valid contacts: nothing to balance against.
		for i, dc := range c.days {
			p.days[i] = planDay{n: dc.total, e: dc.ed, n0: dc.total, e0: dc.ed, pinned: dc.pinned}
		}
		return p, nil
	}
	for i, dc := range c.days {
		pd := &p.days[i]
		*pd = planDay{n: dc.total, e: dc.ed, n0: dc.total, e0: dc.ed, pinned: dc.pinned}
		pd.edSrc = dc.ed > lim.EDSoftLimit && i < p.complete
		pd.overSrc = dc.total > lim.Threshold
		if !pd.overSrc {
			continue
		}
		// Shed dc.total - Cap emails, least important first: every email
		// of priority > prio, and the first slots of priority prio.
		need := dc.total - lim.Cap
		pd.prio, pd.slots = 0, 0
		for k := len(dc.prios) - 1; k >= 0; k-- {
			pc := dc.prios[k]
			pd.prio = pc.prio
			if pc.n >= need {
				pd.slots = need
				break
			}
			need -= pc.n
			pd.slots = pc.n
		}
	}
	w := cfg.EDSmoothingWindowDays
	for i := range p.days {
		pd := &p.days[i]
		pd.edClosed = pd.edSrc
		for t := max(i-w, 0); pd.edClosed && t <= min(i+w, len(p.days)-1); t++ {
			pd.edClosed = t == i || t >= p.complete || p.days[t].edSrc || p.days[t].overSrc
		}
	}
	return p, nil
}

// Limits returns the cap, threshold and effective-date soft limit in force.
func (p *Plan) Limits() Limits { return p.lim }

// ErrContactOrder is returned by Place when contact ids are not strictly
// ascending.
var ErrContactOrder = errors.New("loadbalance: Place calls must come in strictly ascending contact id order")

// Refusal flags of one candidate in one round of Place.
const (
	refusedED   = 1
	refusedOver = 2
)

// Place decides the days of one contact's pre-scheduled emails. It must be
// called once per contact, in strictly ascending contact-id order, with the
// same emails (same Date, IsED, Priority, Pinned) that were added to the
// Counter; contacts without pre-scheduled emails may be skipped.
//
// Place changes cs[i].Date for the emails it moves and returns how many
// moved. legal(i, day) reports whether email i may be sent on day as far as
// the contact's own rules go: exclusion periods and the frequency limit,
// judged with the contact's other emails at their current cs[j].Date (Place
// updates cs as it goes). A nil legal allows every day. Place itself
// enforces today, Latest, the room of the target day and the overflow
// horizon, and asks legal only about days that pass these checks.
//
// Place tries the contact's emails in a canonical order (by Date, Priority,
// Hash, Latest, IsED, Pinned), so the order of cs does not matter, and
// repeats until a round moves nothing: a move may make another one legal.
// Each email moves at most once. It does not allocate in the steady state.
func (p *Plan) Place(contactID int64, cs []Candidate, legal func(i int, day datecalc.Date) bool) (int, error) {
	if p.placed && contactID <= p.last {
		return 0, fmt.Errorf("%w: %d after %d", ErrContactOrder, contactID, p.last)
	}
	p.placed, p.last = true, contactID
	if p.lim.Cap == 0 || len(cs) == 0 {
		return 0, nil
	}
	if !p.noShortcut && p.frozen(cs) {
		// Nothing can move, so the rounds below would end after the first,
		// having refused the emails that try would move.
		for i := range cs {
			c := &cs[i]
			pd := p.movable(c)
			if pd == nil {
				continue
			}
			if c.IsED && pd.edSrc && pd.e > p.lim.EDSoftLimit && datecalc.Jitter(c.Hash, p.cfg.EDSmoothingWindowDays) != 0 {
				pd.edStuck++
			}
			if p.sheds(pd, c) {
				pd.stuck++
			}
		}
		return 0, nil
	}
	order := p.order[:0]
	for i := range cs {
		order = append(order, i)
	}
	// Insertion sort: a contact has a handful of emails.
	for a := 1; a < len(order); a++ {
		for b := a; b > 0 && less(cs, order[b], order[b-1]); b-- {
			order[b], order[b-1] = order[b-1], order[b]
		}
	}
	p.order = order
	if cap(p.refused) < len(cs) {
		p.refused = make([]uint8, len(cs))
	}
	refused := p.refused[:len(cs)]
	moved := 0
	for {
		clear(refused)
		round := 0
		for _, i := range order {
			if p.try(cs, i, legal, refused) {
				round++
			}
		}
		moved += round
		if round == 0 {
			break
		}
	}
	// The last round moved nothing: its refusals are final.
	for i, r := range refused {
		if r == 0 {
			continue
		}
		pd := &p.days[index(p.today, cs[i].Date)]
		if r&refusedED != 0 {
			pd.edStuck++
		}
		if r&refusedOver != 0 {
			pd.stuck++
		}
	}
	return moved, nil
}

// frozen reports whether no candidate of cs can move, whatever legal
// says: smoothing has no day for an effective_date email whose day sheds
// them (every day within the window sheds some), and overflow none for an
// email whose day is over the threshold but that may not go out after it
// (its Latest). In a large run every day holds more effective_date emails
// than the soft limit, and the AEP day far more emails than the threshold,
// each due on that day: most contacts are frozen.
func (p *Plan) frozen(cs []Candidate) bool {
	for i := range cs {
		c := &cs[i]
		pd := p.movable(c)
		if pd == nil {
			continue
		}
		if c.IsED && pd.edSrc && !pd.edClosed || pd.overSrc && (c.Latest.IsZero() || c.Latest.After(c.Date)) {
			return false
		}
	}
	return true
}

// movable returns the day of candidate c, or nil when c may not move at
// all: pinned, or dated outside the plan's days.
func (p *Plan) movable(c *Candidate) *planDay {
	d := index(p.today, c.Date)
	if c.Pinned || d < 0 || d >= len(p.days) {
		return nil
	}
	return &p.days[d]
}

// Sheds reports whether emails may leave day d in this run: the day is over
// the threshold or its effective_date emails are over the soft limit.
// Candidates on other days never move, so a caller may skip Place for a
// contact with no candidate on such a day, and needs the Hash only of
// candidates on such days: the outcome is the same.
func (p *Plan) Sheds(d datecalc.Date) bool {
	i := index(p.today, d)
	if i < 0 || i >= len(p.days) {
		return false
	}
	pd := &p.days[i]
	return pd.overSrc || pd.edSrc
}

// less orders candidates canonically; equal records are interchangeable.
func less(cs []Candidate, a, b int) bool {
	x, y := &cs[a], &cs[b]
	switch {
	case x.Date != y.Date:
		return x.Date.Before(y.Date)
	case x.Priority != y.Priority:
		return x.Priority < y.Priority
	case x.Hash != y.Hash:
		return x.Hash < y.Hash
	case x.Latest != y.Latest:
		return x.Latest.Before(y.Latest)
	case x.IsED != y.IsED:
		return !x.IsED
	}
	return !x.Pinned && y.Pinned
}

// accepts reports whether day t, an index into p.days, may receive one
// more email.
func (p *Plan) accepts(t int, isED bool) bool {
	pd := &p.days[t]
	if pd.overSrc || pd.n >= p.lim.Cap {
		return false
	}
	return !isED || !pd.edSrc && pd.e < p.lim.EDSoftLimit && t < p.complete
}

// try moves candidate i if it is due to move and a legal day with room
// exists; it records a refusal otherwise.
func (p *Plan) try(cs []Candidate, i int, legal func(int, datecalc.Date) bool, refused []uint8) bool {
	c := &cs[i]
	if c.Pinned {
		return false
	}
	d := index(p.today, c.Date)
	if d < 0 || d >= len(p.days) {
		return false
	}
	pd := &p.days[d]
	last := len(p.days) - 1
	if !c.Latest.IsZero() {
		last = min(last, p.today.DaysUntil(c.Latest))
	}
	// Effective-date smoothing: move by the jitter while the day is over
	// the soft limit. A day holding exactly the cap keeps its emails: it
	// may have turned an email away for lack of room, and freeing room now
	// would let the next run move that one (see Stability in the package
	// documentation).
	if c.IsED && pd.edSrc && pd.e > p.lim.EDSoftLimit {
		if j := datecalc.Jitter(c.Hash, p.cfg.EDSmoothingWindowDays); j != 0 {
			t := d + j
			if pd.n != p.lim.Cap && t >= 0 && t <= last && p.accepts(t, true) && p.legal(legal, i, t) {
				p.move(c, d, t)
				p.edMoved++
				return true
			}
			refused[i] |= refusedED
		}
	}
	// Global overflow: shed down to the cap, least important first, to the
	// first following day with room.
	if p.sheds(pd, c) {
		last = min(last, d+p.cfg.OverflowHorizonDays)
		for t := d + 1; t <= last; t++ {
			if p.accepts(t, c.IsED) && p.legal(legal, i, t) {
				if c.Priority == pd.prio {
					pd.slots--
				}
				p.move(c, d, t)
				p.overMoved++
				return true
			}
		}
		refused[i] |= refusedOver
	}
	return false
}

// sheds reports whether candidate c, on day pd, is due to leave it for
// the global cap.
func (p *Plan) sheds(pd *planDay, c *Candidate) bool {
	return pd.overSrc && pd.n > p.lim.Cap && (c.Priority > pd.prio || c.Priority == pd.prio && pd.slots > 0)
}

func (p *Plan) legal(legal func(int, datecalc.Date) bool, i, t int) bool {
	return legal == nil || legal(i, p.today.AddDays(t))
}

func (p *Plan) move(c *Candidate, d, t int) {
	from, to := &p.days[d], &p.days[t]
	from.n--
	from.left++
	to.n++
	to.arrived++
	if c.IsED {
		from.e--
		to.e++
	}
	c.Date = p.today.AddDays(t)
	p.shifts[t-d+p.cfg.EDSmoothingWindowDays]++
}
