package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/loadbalance"
	"github.com/emailsched/emailsched/store"
)

// Scheduler plans emails. Create one with New; it is safe for concurrent
// use, each Run being independent.
type Scheduler struct {
	s settings
}

// New validates cfg and returns a Scheduler. Every problem is reported at
// once, each naming the Config field and its allowed range; the error wraps
// ErrInvalidConfig.
func New(cfg Config) (*Scheduler, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	return &Scheduler{s: s}, nil
}

// Today returns the run date: the current date in the configured location.
func (s *Scheduler) Today() datecalc.Date {
	return datecalc.Today(s.s.clock, s.s.loc)
}

// Run plans every contact of src for today (see Today) and writes the
// changes to sink. See RunAt.
func (s *Scheduler) Run(ctx context.Context, src store.ContactSource, sink store.ScheduleSink) (*Report, error) {
	return s.RunAt(ctx, s.Today(), src, sink)
}

// RunAt plans every contact of src as of day today and writes, per
// contact, the difference between its stored plan and its new plan to sink.
//
// Bad contact data never stops a run: invalid contacts are counted and
// named in the report. An error of the source, the sink or the context
// aborts the writer (the sink keeps the previous plan of every contact not
// yet committed) and is returned wrapped, together with the report so far,
// which is never nil.
func (s *Scheduler) RunAt(ctx context.Context, today datecalc.Date, src store.ContactSource, sink store.ScheduleSink) (*Report, error) {
	if sink == nil {
		sink = store.Discard{}
	}
	rep, kept, err := s.executeAs(ctx, "", today, src, sink, nil)
	if err != nil {
		return rep, err
	}
	// A plan balanced from an inexact estimate is settled by a run from its
	// exact volume (Report.LoadDiffered). That run's estimate is exact
	// unless the data changed under it; a bounded number of runs.
	last := rep
	for n := range maxSettleRuns {
		if !last.LoadDiffered || !kept {
			break // settled, or a sink that keeps no plan to settle (a dry run)
		}
		// The settling run's id is the run's, marked: one audit trail.
		next, nextKept, err := s.executeAs(ctx, fmt.Sprintf("%s-settle%d", rep.RunID, n+1), today, src, sink, nil)
		kept = nextKept
		last.Settled = next
		if err != nil {
			return rep, fmt.Errorf("scheduler: settling the plan: %w", err)
		}
		last = next
	}
	return rep, nil
}

// maxSettleRuns bounds the runs that settle a plan (see Report.Settled).
const maxSettleRuns = 2

// countingPass is the first pass of load balancing: it plans every contact
// and counts the pre-scheduled emails per day, and returns the count and
// the number of valid contacts.
func (s *Scheduler) countingPass(ctx context.Context, ps pass, src store.ContactSource) (*loadbalance.Counter, int, error) {
	counter := loadbalance.NewCounter(ps.today)
	valid, done := 0, 0
	ps.name = PassCounting
	err := s.stream(ctx, src, ps, func(c *emailsched.Contact, o *outcome) error {
		if done++; done%s.s.progressEvery == 0 {
			s.report(PassCounting, done)
		}
		if !o.deleted && o.invalid == "" && !o.optedOut {
			valid++
			countPreScheduled(counter, o)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("scheduler: %w", err)
	}
	s.report(PassCounting, done)
	return counter, valid, nil
}

// The passes named in progress reports.
const (
	PassCounting = "counting"
	PassPlanning = "planning"
)

func (s *Scheduler) report(pass string, done int) {
	if s.s.progress != nil {
		s.s.progress(pass, done)
	}
}

// loadCampaigns reads the campaign catalogue when the source has one.
func loadCampaigns(ctx context.Context, src store.ContactSource, today datecalc.Date) (*campaignSet, error) {
	var cat emailsched.Campaigns
	if cs, ok := src.(store.CampaignSource); ok {
		var err error
		if cat, err = cs.Campaigns(ctx); err != nil {
			return nil, fmt.Errorf("scheduler: reading campaigns: %w", err)
		}
	}
	return newCampaignSet(cat, today), nil
}

// defaultRunID is "run-<UTC time>-<8 random hex digits>".
func defaultRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "run-" + now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}
