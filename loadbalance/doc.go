// Package loadbalance evens out the daily volume of a run's pre-scheduled
// emails without ever breaking a rule: a moved email never lands
// before today, after its latest day (Candidate.Latest: its event, or the
// end of the AEP send window), inside one of its contact's exclusion
// periods or so that its contact's frequency limit breaks. When no legal day
// exists, the email stays. Balancing never changes the number of emails or
// their statuses; skipped emails neither count nor move.
//
// # Limits
//
//   - Cap = ceil(valid contacts × DailyCapFraction) (default 7 %).
//   - Threshold = floor(Cap × OverageThreshold) (default 1.2).
//   - ED soft limit = min(EDSoftLimit (15), ceil(0.30 × Cap)).
//
// Products are rounded with a relative tolerance of 1e-9, so 3,000,000 ×
// 0.07 is 210,000 and not 210,001.
//
// # What moves
//
// Effective-date smoothing: on a day with more effective_date emails than
// the soft limit, its effective_date emails move, one at a time, by their
// jitter j = (h mod (2w+1)) − w (datecalc.Jitter, h the stable hash of
// datecalc.StableHash, w = EDSmoothingWindowDays), until the day is down to the soft
// limit. An email with j = 0 stays. Only the excess moves, not every email of
// the day: a smoothed day keeps as many emails as it may hold, which is what
// keeps the next run from moving them again.
//
// Global overflow: a day above Threshold sheds down to Cap. The least
// important emails go first: with P and k computed from the day's counts,
// every email of priority number greater than P, and the first k of
// priority P met in ascending contact-id order (ties inside a contact by
// date, priority, hash and event: the canonical order of Place). A shed
// email moves to the first following day, at most OverflowHorizonDays later
// and never after its latest day, that has room and is legal; an email that
// finds none stays and is reported as stuck (its slot passes to the next
// email of priority P). More important emails are never moved in place of a
// stuck one.
//
// A day receives an email only if it has room: fewer than Cap emails, not
// above Threshold itself, and, for an effective_date email, not over the soft
// limit and fewer than the soft limit effective_date emails. Each email
// moves at most once per run.
//
// # Two passes, streaming
//
// Balancing never holds the plan. The scheduler streams contacts in
// ascending id order, twice when it must count:
//
//  1. Count: plan every contact and Add each pre-scheduled email to a
//     Counter (one per goroutine if planning is parallel, then Merge). When
//     the store kept the per-day volume of the previous plan, the
//     scheduler rebuilds the Counter from it with AddN instead, and skips
//     this pass.
//  2. Decide: NewPlan(counter, cfg) fixes the days that shed and how many;
//     then, per contact in ascending id order, plan it again and call
//     Place with its pre-scheduled emails as Candidates and a callback that
//     checks the contact's exclusion periods and frequency limit. Place sets
//     the new dates in place and keeps the running per-day counts, so later
//     contacts see the room that earlier ones took. Write the contact's
//     plan, then move on.
//
// The first pass may be an estimate, such as the volume stored with the
// previous plan: Place then moves what the estimate says. Agree tells
// whether an estimate places every contact exactly as the exact count
// would (the same counts on every day emails may leave or reach), which is
// what makes the plan one that a later run with the exact count leaves as
// it is (see Stability). The scheduler counts the volume it really plans
// as it goes and, when Agree says no, settles the plan with a second run.
//
// Balance wraps both passes over an in-memory slice for tests and small
// callers.
//
// # Memory bound
//
// A Counter and a Plan hold O(D × P) words: D days (at most MaxHorizonDays,
// about 365 in practice) times the distinct priorities of a day (a small
// sorted slice per day), plus one counter per possible shift (2w + H + 1
// at most). Place uses O(E) scratch for the E emails of one
// contact, reused between calls. Nothing grows with the number of contacts
// or emails: for 3 million contacts and 7 million emails over a year the
// balancer needs well under a megabyte. The Candidate record is 32 bytes,
// and only one contact's candidates are alive at a time.
//
// # Stability
//
// The scheduler feeds each email at its stored day while that day is still
// legal, so a day within its limits sees no move at all, and a plan that
// is already balanced comes back unchanged. More precisely, running the
// balancer again over its own output moves nothing. The reason is that a
// refusal is final within a run: whatever turned an email away (an illegal
// day, a day that was full, a day that had to shed) still holds at the end
// of the run, because
//
//   - a day that must shed (above Threshold) never receives and sheds
//     only down to Cap, so it ends still full;
//   - a day over the soft limit never receives effective_date emails and
//     smooths only down to the soft limit, so it ends with no room for them;
//   - other days never lose emails, so once full they stay full; the one
//     exception, a day over the soft limit that also receives other emails,
//     is covered by the next rule;
//   - an effective_date email does not leave a day that holds exactly Cap
//     emails, since that would free room on a day that may already have
//     turned an email away;
//   - moves stay within [today, today+MaxHorizonDays), the same bound on
//     every run of the same day;
//   - within a contact, Place repeats until a round moves nothing, so the
//     callback's last answers were given with the contact's final dates.
//
// On the next run the same emails are due again and are refused again.
// Caps have hysteresis: a day sheds only above Threshold but receives only
// below Cap, so a small change of the contact count (and so of Cap) does
// not make stored days shed: the year is not reshuffled.
//
// # Determinism
//
// The result depends only on the candidates, the Config, today and the
// callback's answers: no map order, no randomness, no clock. Contacts are
// placed in ascending id order (Place enforces it); a contact's emails are
// tried in a canonical order whatever their order in the slice.
package loadbalance
