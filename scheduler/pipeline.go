package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
)

// batchSize is the number of contacts a planning worker takes at a time:
// large enough that the channel operations do not matter, small enough that
// the batches in flight stay a few megabytes.
const batchSize = 256

// batch carries contacts from the reader to a worker and their outcomes on
// to the sequencer. Its slices are reused from batch to batch.
type batch struct {
	seq      int
	n        int
	contacts []emailsched.Contact
	outs     []outcome
}

// A pass tells every planner of a pass over the contacts what it plans
// for: the pass (PassCounting or PassPlanning), the run date and campaign
// catalogue, the contact to trace (0: none) and whether stored dates give
// way (the stored plan was made with other settings: Replan).
type pass struct {
	name    string
	today   datecalc.Date
	camp    *campaignSet
	traceID int64
	replan  bool
}

// planner returns a planner for the pass.
func (ps pass) planner(s *settings) *planner {
	p := newPlanner(s, ps.today, ps.camp)
	p.counting, p.traceID, p.replan = ps.name == PassCounting, ps.traceID, ps.replan
	return p
}

// stream reads src and plans each contact, calling visit for every contact
// in source order with its outcome; visit runs on the calling goroutine.
// With Config.Workers above one, reading (one goroutine), planning (the
// workers) and visit overlap: the outcomes and the order of the visits are
// those of a single goroutine, because planning a contact depends on that
// contact alone. A source error is returned wrapped with pass; a visit
// error as it is.
func (s *Scheduler) stream(ctx context.Context, src store.ContactSource, ps pass, visit func(*emailsched.Contact, *outcome) error) error {
	counting := ps.name == PassCounting
	readErr := func(err error) error {
		if counting {
			return fmt.Errorf("scheduler: reading contacts (counting pass): %w", err)
		}
		return fmt.Errorf("scheduler: reading contacts: %w", err)
	}
	if s.s.workers <= 1 {
		p := ps.planner(&s.s)
		var o outcome
		var order orderCheck
		for c, err := range src.Contacts(ctx) {
			if err != nil {
				return readErr(err)
			}
			if err := order.next(c.ID); err != nil {
				return err
			}
			p.plan(c, &o)
			if err := visit(c, &o); err != nil {
				return err
			}
		}
		return nil
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := s.s.workers
	inFlight := 2*workers + 2
	free := make(chan *batch, inFlight)
	for range inFlight {
		free <- &batch{contacts: make([]emailsched.Contact, batchSize), outs: make([]outcome, batchSize)}
	}
	work := make(chan *batch, inFlight)
	done := make(chan *batch, inFlight)

	var srcErr, orderErr error // written by the reader before it closes work
	go func() {
		defer close(work)
		var b *batch
		seq := 0
		var order orderCheck
		for c, err := range src.Contacts(ctx) {
			if err != nil {
				srcErr = err
				return
			}
			if orderErr = order.next(c.ID); orderErr != nil {
				return
			}
			if b == nil {
				if ctx.Err() != nil {
					return // the sequencer stopped, or the caller cancelled
				}
				b = <-free // the sequencer returns every batch, even when it stops
				b.seq, b.n = seq, 0
				seq++
			}
			c.CopyTo(&b.contacts[b.n])
			b.n++
			if b.n == batchSize {
				work <- b // never blocks: at most inFlight batches exist
				b = nil
			}
		}
		if b != nil {
			work <- b
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := ps.planner(&s.s)
			for b := range work {
				for i := 0; i < b.n; i++ {
					p.plan(&b.contacts[i], &b.outs[i])
				}
				done <- b
			}
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	// The sequencer: batches finish in any order and are visited in the
	// order they were read.
	pending := make(map[int]*batch, inFlight)
	next := 0
	var err error
	for b := range done {
		if err != nil {
			free <- b // drain until the reader and the workers stop
			continue
		}
		pending[b.seq] = b
		for b := pending[next]; b != nil && err == nil; b = pending[next] {
			delete(pending, next)
			for i := 0; i < b.n && err == nil; i++ {
				err = visit(&b.contacts[i], &b.outs[i])
			}
			free <- b
			next++
		}
		if err != nil {
			cancel()
		}
	}
	if err != nil {
		return err
	}
	if srcErr != nil {
		return readErr(srcErr)
	}
	return orderErr
}

// ErrSourceOrder is wrapped by the error of a run whose source yielded
// contacts out of order: the store.ContactSource contract promises
// strictly ascending IDs, which load balancing and the writers rely on.
var ErrSourceOrder = errors.New("scheduler: the contact source broke its contract of strictly ascending contact IDs")

// orderCheck checks the source's promise of strictly ascending IDs.
type orderCheck struct {
	last    int64
	started bool
}

func (o *orderCheck) next(id int64) error {
	if o.started && id <= o.last {
		return fmt.Errorf("%w: contact %d came after contact %d", ErrSourceOrder, id, o.last)
	}
	o.last, o.started = id, true
	return nil
}
