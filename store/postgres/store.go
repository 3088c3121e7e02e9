package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched/store"
)

// Compile-time checks of the capabilities a Store offers.
var (
	_ store.ContactSource  = (*Store)(nil)
	_ store.ContactLookup  = (*Store)(nil)
	_ store.CampaignSource = (*Store)(nil)
	_ store.LoadSource     = (*Store)(nil)
	_ store.IdentitySource = (*Store)(nil)
	_ store.VolumeSource   = (*Store)(nil)
	_ store.ScheduleSink   = (*Store)(nil)
)

// ErrRunInProgress is wrapped by Begin (through a *RunInProgressError) when
// another run of the same organisation holds its run lock: two runs never
// overlap, because the later one would plan from rows the earlier one is
// rewriting.
var ErrRunInProgress = errors.New("postgres: another run of this organisation is in progress")

// RunInProgressError is Begin's error when another run of the organisation
// (Schema) held the run lock for longer than Options.LockTimeout. It
// satisfies errors.Is(err, ErrRunInProgress).
type RunInProgressError struct {
	Schema string
	// Waited is how long Begin waited (Options.LockTimeout).
	Waited time.Duration
}

func (e *RunInProgressError) Error() string {
	return fmt.Sprintf("postgres: organisation %q: another run holds its run lock (waited %v); try again when it has finished",
		e.Schema, e.Waited)
}

// Is makes errors.Is(err, ErrRunInProgress) hold.
func (e *RunInProgressError) Is(target error) bool { return target == ErrRunInProgress }

// ErrBadSchema is returned by New's Store methods when Options.Schema is not
// a plain lower-case identifier.
var ErrBadSchema = errors.New("postgres: invalid schema name")

// Options configure a Store. The zero value means the documented defaults.
type Options struct {
	// Schema is the organisation's schema: lower-case letters, digits and
	// underscores, starting with a letter or underscore, at most 63 bytes.
	// Defaults to "public". Migrate creates it when missing.
	Schema string
	// Atomic makes a run one transaction: an interrupted or failed run
	// leaves the previous plan entirely intact (its checkpoint row
	// remains, marked failed when possible). Other sessions keep reading
	// the previous plan until the commit; the sending system's writes to
	// rows the run changes wait for it (row locks), others do not.
	//
	// The default, false, commits in transactions of BatchContacts whole
	// contacts as the run goes: an interrupted run leaves every contact
	// with its complete previous or complete new plan, and the next run
	// finishes the job.
	Atomic bool
	// BatchContacts is the number of contacts whose changes one
	// transaction (or, in an atomic run, one round of statements)
	// carries. Defaults to 1000. A contact's changes are never split.
	BatchContacts int
	// LockTimeout is how long Begin waits for another run of the same
	// organisation to finish. Zero does not wait: Begin fails at once
	// with a *RunInProgressError.
	LockTimeout time.Duration
	// Logger receives what the Store waits for. Defaults to a logger that
	// discards everything.
	Logger *slog.Logger
	// Now is the clock for created_at, updated_at and checkpoint times.
	// Defaults to time.Now.
	Now func() time.Time
}

// Store is the PostgreSQL adapter over one organisation's schema. It is
// safe for concurrent use and does not own the pool it was given.
type Store struct {
	pool   *pgxpool.Pool
	opts   Options
	schema string // quoted, ready to prefix a table name
	bad    error  // a schema name New refused

	mu      sync.Mutex
	stats   ReadStats
	migrate sync.Mutex // serialises Migrate within the process (the advisory lock does across processes)
	ready   bool       // Migrate ran
}

// New returns a Store over the schema opts.Schema of pool's database. It
// does no I/O: the first Begin migrates what is missing (see Migrate). An
// invalid schema name makes every method fail with ErrBadSchema.
func New(pool *pgxpool.Pool, opts Options) *Store {
	if opts.Schema == "" {
		opts.Schema = "public"
	}
	if opts.BatchContacts <= 0 {
		opts.BatchContacts = 1000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{pool: pool, opts: opts}
	if err := ValidSchema(opts.Schema); err != nil {
		s.bad = err
	} else {
		s.schema = pgx.Identifier{opts.Schema}.Sanitize()
	}
	return s
}

// Pool returns the pool the Store works on.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the organisation's schema name.
func (s *Store) Schema() string { return s.opts.Schema }

// ValidSchema checks a schema name: 1 to 63 bytes of a-z, 0-9 and _,
// starting with a letter or _, and not reserved by PostgreSQL (pg_*).
// Upper case is refused rather than folded, so that one organisation never
// has two spellings.
func ValidSchema(name string) error {
	ok := len(name) > 0 && len(name) <= 63 && !strings.HasPrefix(name, "pg_") && (name[0] == '_' || name[0] >= 'a' && name[0] <= 'z')
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
	}
	if !ok {
		return fmt.Errorf("%w %q: want 1 to 63 of a-z, 0-9 and _, starting with a letter or _, not pg_", ErrBadSchema, name)
	}
	return nil
}

// sql returns q with "{schema}" replaced by the quoted schema name.
func (s *Store) sql(q string) string { return strings.ReplaceAll(q, "{schema}", s.schema) }

// lockKey is the key of the organisation's run lock (a session advisory
// lock): derived from the schema name, so that it is the same in every
// process, and distinct from the migration lock's.
func lockKey(kind, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("emailsched " + kind + " " + schema))
	return int64(h.Sum64())
}

// PostgreSQL error codes the adapter acts on.
const (
	codeUniqueViolation  = "23505"
	codeDeadlock         = "40P01"
	codeSerialization    = "40001"
	codeLockNotAvailable = "55P03"
)

func pgCode(err error) string {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pe.Code
	}
	return ""
}

// retryable reports whether a transaction that failed with err can simply
// be run again: a deadlock with the sending system, or a serialization
// failure.
func retryable(err error) bool {
	c := pgCode(err)
	return c == codeDeadlock || c == codeSerialization
}

// check refuses to work on a schema name New refused.
func (s *Store) check() error { return s.bad }

// cleanupContext is the context of cleanups that must run after the
// caller's context ended (rolling back, unlocking).
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}
