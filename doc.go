// Package emailsched plans compliance-aware emails for insurance agencies:
// birthday, policy-anniversary and Annual Enrollment Period emails, catch-ups
// after a blackout, campaigns and follow-ups, for organisations of up to
// millions of contacts, never inside a state's exclusion window.
//
// This root package holds the vocabulary every other package speaks:
// Contact, Email (one planned or historical row), EmailType (with the
// storage strings of the email_type column and the legacy upper-case names),
// Status, SkipReason, State, campaign types and engagement records.
//
// # A tour
//
// Civil dates and the stable hash live in package datecalc:
//
//	d, _ := datecalc.Parse("1952-02-29 00:00:00")  // the time part is ignored
//	next := d.NextAnniversary(datecalc.MustNew(2025, 1, 1)) // 2025-02-28
//	h := datecalc.StableHash(42, "birthday", 2025)   // FNV-1a, a contract
//
// Exclusion rules live in package rules; rules.Default() is the default rule
// set, built in Go, and the dsl package reads the same rules
// from .rules files:
//
//	set := rules.Default()
//	ap := set.Apply(&contact, emailsched.MustState("CA"), today)
//	if x, excluded := ap.Excluded(day); excluded {
//		fmt.Println(x.Reason, x.Period) // exclusion_window:CA:birthday 2024-10-17…2025-03-16
//	}
//
// Rules authors edit .rules files instead; package dsl compiles them with
// expr-lang/expr and reports every mistake with file, line and column:
//
//	set, err := dsl.LoadPath(ctx, "rules") // a file or a directory of *.rules // or dsl.Default()
//	var diags dsl.Diagnostics
//	if errors.As(err, &diags) { fmt.Println(diags) }
//
// Storage is a contract in package store: a ContactSource streams contacts
// in ID order, a ScheduleSink receives per contact the difference between
// the stored plan and the new one. store/memory is an in-memory adapter and
// store/sqlite the adapter for the organisation databases:
//
//	db, _ := sqlite.Open(ctx, "org-001.sqlite3")
//	st := sqlite.New(db, sqlite.Options{Atomic: true})
//	_ = st.Migrate(ctx)
//
// Package loadbalance evens out the daily volume without ever moving an
// email somewhere it may not go; the scheduler runs it between its two
// passes over the source.
//
// Package scheduler ties it together:
//
//	s, _ := scheduler.New(scheduler.Config{Rules: set}) // zero fields: the defaults
//	report, _ := s.Run(ctx, st, st)
//	report.WriteSummary(os.Stdout)
//	ex, _ := s.Explain(ctx, st, 42) // the decision trail of contact 42
//
// scheduler/configfile reads every parameter from a YAML or JSON file.
// The README's quickstart (go run ./examples/quickstart) plans a generated
// demo database this way; examples/schedule is the command-line program for
// operators and examples/csvsource shows a source and sink of your own.
//
// # Storage strings
//
// The strings of EmailType, Status and SkipReason are what stores hold;
// they never change meaning between versions.
package emailsched
