// Command bench measures the complete pipeline SQLite → SQLite on a generated
// organisation database and compares it with what SQLite itself needs for the
// same work (the floor).
//
//	go run ./examples/bench -contacts 3000000
//	go run ./examples/bench -contacts 100000 -scenario first -cpuprofile cpu.pprof
//
// It generates an organisation database with the fixture generator
// (store/sqlite/sqlitefixture: by default in the schema of a production
// organisation database, with its indexes, unique index and journal mode
// DELETE; history, engagement, demo campaigns with targets) or reuses the
// one cached under -dir for the same size, seed, shape, unique index and
// journal mode. -shape full or old selects one of the fixture's earlier
// made-up shapes, -unique their unique index, -wal a production database in
// WAL mode. Then it runs two scenarios, each on a fresh copy of the
// cached database and each in a child process of its own (the same binary,
// re-executed with a hidden flag) so that each scenario's peak RSS is its own:
//
//   - first run: the generated database has no stored plan; every row is
//     inserted.
//   - nightly run: the day after the first run, on the first run's result, in
//     which the rows due on the first run's day were marked sent as the
//     sending system would have done.
//
// The first run opts in to bulk writes (sqlite.Options.BulkWrites; -bulk=false
// turns it off): written in one transaction, with the secondary indexes of
// email_schedules dropped and created again before the commit.
//
// For each it prints the wall time per phase, contacts/s, the rows inserted,
// updated, deleted and unchanged, the peak RSS, the journal mode, the
// write-ahead log's peak size, the checkpoints after the run's commits,
// whether it wrote in bulk (the first run's index build on a line of its
// own), and the floor measured in the same process on the same file system:
// for the first run, one plain SELECT of the contacts plus inserting the
// first run's rows into a fresh copy of the database in one transaction,
// with the indexes maintained (the floor) and, on another fresh copy, with
// the secondary indexes dropped before and created again after the inserts
// (the bulk floor); for the nightly run, one plain SELECT of the contacts
// plus one full scan of email_schedules. The last lines are
//
//	first run: ratio end-to-end/floor with indexes maintained = X
//	first run: ratio end-to-end/bulk floor = B
//	nightly run: ratio = Y, rows rewritten = Z %
//
// -store postgres -pg URL measures the PostgreSQL adapter instead
// (store/postgres), in this process: the same generated organisation is
// loaded once into a cached schema (bench_c<N>_s<seed>) and copied into a
// fresh one for the runs; the first run's floor is one plain SELECT of the
// contacts plus COPY FROM STDIN of the run's rows into a fresh copy in one
// transaction, the nightly run's one plain SELECT of the contacts and one of
// email_schedules. It ends with
//
//	first run: ratio end-to-end/floor = X
//	nightly run: ratio = Y, rows rewritten = Z %
//
// See README.md for how to read the figures and for every flag; -h (or
// -help) lists them on stdout, -version prints the program's name and
// version.
//
// Exit status: 0 success (also for -h and -version), 1 a failure (also
// when the rows it counts disagree with the report or the checkpoint), 3
// bad usage. 2, the status of a Go program that crashes, is never used.
package main

import "github.com/emailsched/emailsched/internal/cli"

func main() { cli.Main(run) }
