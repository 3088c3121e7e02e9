// Package scheduler plans the emails of an organisation: it streams contacts
// from a store.ContactSource, decides each contact's emails with pure date
// and rule functions, and writes to a store.ScheduleSink only what changed
// since the stored plan.
//
// # Use
//
//	s, err := scheduler.New(scheduler.Config{})     // every default
//	report, err := s.Run(ctx, source, sink)          // today in America/Chicago
//	report, err := s.RunAt(ctx, day, source, sink)   // an explicit run date
//
// # The pipeline
//
// A run reads the contacts in ascending id order and decides each one on
// its own, in this order: whether the contact is valid and which state it
// is in; its anniversary emails; its campaign emails; its follow-ups; the
// exclusion windows of its state's rule; the post-window emails; campaign
// conflicts; the frequency limit. Load balancing then works over the whole
// run: it needs each day's volume, which a counting pass or the volume
// stored with the previous plan gives (see Performance). Last, each
// contact's new plan is compared with its stored plan, and the sink gets
// only the rows to insert, update and delete (store.Delta), with a
// checkpoint and a report at the end.
//
// Every email has a priority, a number where lower is more important
// (birthday and effective date 10, AEP 20, post-window 30 by default; a
// campaign's comes from its type; a follow-up inherits its initial
// email's). Priority decides which email gives way: the one with the
// highest number when the frequency limit is exceeded or two campaigns
// fall on one day, and the first to move when a day is over the cap.
//
// Campaigns: an instance of an active campaign type, active on the run date
// (start ≤ today ≤ end, either end open), plans an email for each of its
// target contacts (or every valid contact, for a type that targets all) on
// its trigger date minus the type's days_before_event. One campaign email
// per contact per day: when several fall on one day, the lowest priority
// number wins and the others are skipped ("campaign_conflict"). A
// campaign type that does not respect exclusion windows (regulatory notices
// such as a rate increase) goes out in every state.
//
// Follow-ups: an anniversary email, or a campaign email whose type enables
// follow-ups, that was sent or delivered in the last 35 days and has no
// follow-up yet gets one, FollowUpDelayDays (2) after it was sent, or
// tomorrow when that day has passed. Its kind is the highest that applies:
// followup_4_hq_with_yes (answered the health questions, with a medical
// condition), followup_3_hq_no_yes (answered them, with none),
// followup_2_clicked_no_hq (clicked a link), else followup_1_cold; only
// engagement after the initial email counts. Follow-ups always respect the
// exclusion windows.
//
// The frequency limit: a contact gets at most MaxEmailsPerPeriod (2) emails
// in any FrequencyPeriodDays (14) consecutive days, counting the emails the
// history holds as sent or scheduled; follow-ups neither count nor are
// dropped. The emails over the limit with the highest priority number
// (then the later date, then the type name) are skipped
// ("frequency_limit"). Load balancing never moves an email so that the
// limit breaks.
//
// Load balancing (package loadbalance) spreads the pre-scheduled emails:
// a daily cap of DailyCapPercent (7 %) of the valid contacts, a soft limit
// on effective-date emails per day with smoothing to neighbouring days, and
// overflow of a day above the cap × OverageThreshold (1.2) to the next days
// with room. It never changes how many emails there are or their status,
// and never moves one before today, after its event, into an exclusion
// period or over the frequency limit: an email with no legal day stays.
//
// # What a contact gets
//
// A contact without a plausible email address, or whose state cannot be
// resolved (the ZIP's state wins, then the state field), is invalid: it is
// counted and named in the report and gets no email; a contact with
// do_not_communicate gets none either. Their stored plans are deleted.
//
// Every other contact gets, per its next anniversary (on or after today,
// Feb 29 → Feb 28 in common years): a birthday email 14 days before the
// birthday, an effective-date email 30 days before the policy anniversary
// (at least one year after the effective date), and one AEP email (Sept 15
// of the current cycle, or of the next once it has passed; with several
// configured days the stable hash chooses). An email whose ideal date has
// passed while its event is still ahead is a catch-up: it goes out on
// today + (hash mod CatchUpSpreadDays), never after the event, with
// CatchUpNote. An anniversary email whose type and event year already
// appear in the history with a sending-system status is not planned again.
//
// # Exclusion windows
//
// An email on a day that the contact's rule excludes is written as skipped
// with a reason naming the rule ("exclusion_window:CA:birthday"); in
// year-round states every email is skipped ("year_round:NY"). A contact
// whose rule needs a date it lacks (a CA contact without a readable
// birthday) cannot be checked, so every email is skipped
// ("missing_anchor:CA:birthday"): the scheduler never sends an email whose
// legality it cannot establish. For each window that blocked at least one
// email, one post_window email goes out on the first day after the window
// that no window excludes; its event is the window's anniversary.
//
// # Stability
//
// A stored email keeps its date (and row) while the date is still legal:
// not past, not after its event (an AEP email: not after its send window),
// and not excluded unless the new date would be excluded too. Stored
// post-window emails whose window no longer blocks a planned email (its
// anniversary passed) stay while their day is ahead and legal. A nightly
// run on an unchanged organisation therefore rewrites only the rows whose
// day has come.
//
// A run settles: run again on the same day with the same inputs, it writes
// nothing, whatever ran before. Three things make it so. Every choice a
// later run makes again from the stored rows is one this run would make:
// load balancing does not move an email where the frequency limit or the
// campaign conflicts would then choose differently, and a stored
// all-contacts campaign email whose day passed unsent is planned afresh,
// as it would be without the row. A plan balanced from exact per-day
// counts is one that balancing from its own counts leaves as it is
// (package loadbalance, Stability). And a run that balanced from the
// volume stored with an earlier plan counts the volume it really plans:
// when the two differ where emails move (loadbalance.Agree), RunAt settles
// the plan with a second run on the same day, from the exact volume
// (Report.LoadDiffered, Report.Settled), as it does after a jump of days
// or when contacts changed. Effective-date smoothing stays within the days
// whose emails are all planned (Report.PlannedThrough; for a stored
// volume, those of its own plan): the days after them gain emails every
// night, which would otherwise make every nightly run settle.
//
// The AEP send window: an AEP email goes out from its AEP day to
// Config.AEPLastDay (September 30 by default). Its latest day is the
// window's end, so load balancing spreads the AEP emails over the window
// under the daily cap, earliest days first; a contact whose AEP day passed
// while the window is open gets a catch-up within it, and the AEP cycle
// moves to next year only when the window has ended.
//
// Stability protects a plan made with the run's own settings only. Every
// run records the identity of its settings, by content (Identity: the
// rules' checksum and the checksum of every plan-deciding configuration
// value; file names play no part). When the stored plan was made with other
// settings (store.IdentitySource; Report.Replan), stored dates do not hold:
// every email takes the date, status and reason the new settings give it,
// balancing included, as on a database without a stored plan, and the
// emails the change does not affect keep their rows untouched. Explain
// says which happened, and for each email whether its row is kept, updated
// (and what changes) or new.
//
// # Decisions on cases the rules leave open
//
//   - History rows without an event count for an anniversary when they are
//     dated in the year up to it.
//   - Exclusion windows are computed for the anniversaries of every year,
//     including years before a policy's start (more exclusion is the safe
//     side).
//   - A post-window email for a window that leaves no free day within two
//     years is written skipped with that window's reason.
//   - Emails of invalid or opted-out contacts are deleted from the stored
//     plan (never sent), not kept.
//
// # Performance
//
// Planning does not allocate per contact (follow-up metadata aside): the
// planner reuses its buffers and the Delta handed to the sink. BenchmarkRun
// measures it (100,000 generated contacts, memory source, discarding sink).
//
// Load balancing needs each day's volume before it places the first
// contact. A first run counts it with a pass that plans every contact, then
// plans again, balances and writes: it reads the source twice. Every run
// hands the per-day volume of the plan it commits to the sink
// (store.Summary.Load); a source that keeps it (store.LoadSource: the
// SQLite and memory adapters) gives it to the next run, which starts from
// it and reads the source once, when the same rules and settings made it
// at most MaxStoredLoadAgeDays earlier and no run has committed part of a
// plan since. Plans are stable from day to day, so the stored plan's
// volume is what a counting pass would find but for the emails that
// changed (under 1 %); every move is still checked against the contact's
// rules. Config.FullCountingPass always counts.
//
// Config.Workers > 1 overlaps reading, planning (on the workers) and writing (on the run's goroutine, in source
// order, so the plan is identical); each contact is then copied once from
// the reader to a worker. Measured on 2 cores, that copy cost as much as
// the overlap saved, with the memory source and with SQLite alike, so the
// default is one goroutine. The SQLite adapter puts the second core to work
// itself, where it pays: it reads email_schedules, most of the rows, on a
// goroutine of its own and writes each batch on another, so that one
// planning goroutine is all a run needs.
package scheduler
