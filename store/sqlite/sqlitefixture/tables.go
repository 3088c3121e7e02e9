package sqlitefixture

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/emailsched/emailsched/store/demodata"
)

// lateTables are the tables the writer fills after the contacts, in this
// order (a table that does not exist is left out): the campaign catalogue,
// and the rows of a production database that the adapter does not read.
var lateTables = []string{"campaign_types", "campaign_instances", "scheduler_checkpoints", "leads",
	"batches", "batch_contacts", "batch_logs", "email_send_tracking", "deleted_contacts", "config_versions"}

// batchContacts is the number of contacts in the sending system's batch
// (the first contacts written).
const batchContacts = 8

// fill writes the rows of table, one of lateTables. It reports whether the
// table was dealt with: false when it does not exist (yet) or is not the
// one these rows are meant for. The rows of the tables after the campaign
// catalogue are written once: a table that has rows already (from an
// earlier Write) is left as it is.
func (w *writer) fill(ctx context.Context, table string) (bool, error) {
	have, err := columns(ctx, w.conn, table)
	if err != nil || len(have) == 0 {
		return false, err
	}
	if table != "campaign_types" && table != "campaign_instances" {
		var rows bool
		if err := w.conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+table+")").Scan(&rows); err != nil {
			return false, fmt.Errorf("sqlitefixture: %s: %w", table, err)
		}
		if rows {
			return true, nil
		}
	}
	var rows [][]any
	var cols []string
	switch table {
	case "campaign_types":
		cols = []string{"name", "respect_exclusion_windows", "enable_followups", "days_before_event", "target_all_contacts",
			"priority", "active", "created_at", "updated_at"}
		for _, t := range w.opts.camps.Types {
			rows = append(rows, []any{t.Name, t.RespectExclusionWindows, t.EnableFollowUps, int64(t.DaysBeforeEvent),
				t.TargetAllContacts, int64(t.Priority), t.Active, fixedStamp, fixedStamp})
		}
	case "campaign_instances":
		cols = []string{"id", "campaign_type", "instance_name", "email_template", "sms_template", "active_start_date",
			"active_end_date", "metadata", "target_states", "target_carriers", "created_at", "updated_at"}
		for _, in := range w.opts.camps.Instances {
			var states []string
			for _, s := range in.TargetStates {
				states = append(states, s.String())
			}
			rows = append(rows, []any{in.ID, in.Type, in.Name, nullText(in.EmailTemplate), nullText(in.SMSTemplate),
				nullText(in.Start.String()), nullText(in.End.String()), nullText(in.Metadata),
				list(states, in.ID%2 == 0), list(in.TargetCarriers, in.ID%2 == 1), fixedStamp, fixedStamp})
		}
	case "scheduler_checkpoints":
		// Only the earlier scheduler's table of production databases.
		if _, ok := have["scheduler_run_id"]; !ok {
			return false, nil
		}
		if _, ok := have["contacts_checksum"]; !ok {
			return false, nil
		}
		cols, rows = w.earlierRuns()
	case "leads":
		cols = []string{"id", "name", "email", "created_at"}
		rows = [][]any{
			{int64(1), "Dorothy Lewis", "dorothy.lewis@example.net", "2024-11-02 15:04:05"},
			{int64(2), "Frank Young", "frank.young@example.org", "2024-12-14 09:12:44"},
			{int64(3), "Helen King", "helen.king@example.com", "2025-01-20 18:30:02"},
			{int64(4), "George Allen", "george.allen@example.net", "2025-02-03 11:00:00"},
			{int64(5), "Carol Scott", "carol.scott@example.org", "2025-02-21 16:45:10"},
		}
	case "batches":
		n := int64(len(w.count.first))
		cols = []string{"id", "org_id", "message_type", "send_mode", "channels", "test_email", "status", "created_at",
			"updated_at", "contact_count", "processed_count", "error_message"}
		rows = [][]any{
			{"batch_20250228_test", int64(1), "birthday", "test", "email", "qa@example.com", "failed",
				"2025-02-28 13:55:00", "2025-02-28 13:56:30", int64(0), int64(0), "SMTP connection timed out"},
			{"batch_20250301_birthday", int64(1), "birthday", "production", "email,sms", nil, "completed",
				"2025-03-01 14:00:00", "2025-03-01 14:05:12", n, n, nil},
		}
	case "batch_contacts":
		cols = []string{"batch_id", "contact_id"}
		for _, id := range w.count.first {
			rows = append(rows, []any{"batch_20250301_birthday", id})
		}
	case "batch_logs":
		cols = []string{"batch_id", "timestamp", "log_level", "message"}
		rows = [][]any{
			{"batch_20250228_test", "2025-02-28 13:56:30", "ERROR", "SMTP connection timed out"},
			{"batch_20250301_birthday", "2025-03-01 14:00:00", "INFO", fmt.Sprintf("batch started: %d contacts", len(w.count.first))},
			{"batch_20250301_birthday", "2025-03-01 14:05:12", "INFO", "batch completed"},
		}
	case "email_send_tracking":
		cols = []string{"org_id", "contact_id", "email_type", "scheduled_date", "send_status", "send_mode", "send_attempt_count",
			"last_attempt_date", "last_error", "batch_id", "message_id", "delivery_status", "status_checked_at", "created_at", "updated_at"}
		for i, id := range w.count.first {
			status, delivery, lastErr := "delivered", any("delivered"), any(nil)
			if i == 2 {
				status, delivery, lastErr = "bounced", "bounced", "550 5.1.1 mailbox unavailable"
			}
			rows = append(rows, []any{int64(1), id, "birthday", "2025-03-01", status, "production", int64(1),
				"2025-03-01 14:01:00", lastErr, "batch_20250301_birthday", fmt.Sprintf("<%016x@mail.example.com>", h(id, 50)),
				delivery, "2025-03-01 20:00:00", "2025-03-01 14:00:00", "2025-03-01 20:00:00"})
		}
	case "deleted_contacts":
		// Deleted after the others were created: IDs above theirs, which
		// the contacts' sequence has handed out.
		a, b := w.count.lastID+1, w.count.lastID+2
		cols = []string{"original_contact_id", "first_name", "last_name", "email", "current_carrier", "plan_type",
			"effective_date", "birth_date", "tobacco_user", "gender", "state", "zip_code", "phone_number", "deleted_at"}
		rows = [][]any{
			{a, "ruth", "walker", fmt.Sprintf("ruth.walker%d@gmail.com", a), "Aetna", "Plan G", "2019-06-01", "1951-04-12",
				int64(0), nil, "OH", "43215", nil, "2025-01-15 10:20:00"},
			{b, nil, nil, fmt.Sprintf("paul.king%d@aol.com", b), nil, nil, nil, nil, nil, nil, "tx", nil, nil, "2025-02-10 08:00:00"},
		}
	case "config_versions":
		cols = []string{"config_type", "config_data", "valid_from", "valid_to", "created_at", "created_by"}
		rows = [][]any{
			{"scheduler", `{"send_time":"08:30:00","birthday_days_before":14,"effective_date_days_before":30}`,
				"2024-01-01 00:00:00", "2024-09-01 00:00:00", "2024-01-01 00:00:00", "admin"},
			{"scheduler", `{"send_time":"08:30:00","birthday_days_before":14,"effective_date_days_before":30,"aep_date":"09-15"}`,
				"2024-09-01 00:00:00", nil, "2024-09-01 00:00:00", "admin"},
		}
	default:
		return false, fmt.Errorf("sqlitefixture: no rows for table %s", table)
	}
	b, _, err := w.table(ctx, table, cols...)
	if err != nil || b == nil {
		return false, err
	}
	defer b.close()
	for _, r := range rows {
		if err := b.add(ctx, r...); err != nil {
			return false, err
		}
	}
	if err := b.flush(ctx); err != nil {
		return false, err
	}
	if table == "deleted_contacts" {
		if err := w.bumpSequence(ctx, "contacts", w.count.lastID+2); err != nil {
			return false, err
		}
	}
	if table == "leads" && w.events != nil {
		// A lead's events: contact_events rows without a contact.
		ev, _, err := w.table(ctx, "contact_events", "lead_id", "event_type", "metadata", "created_at")
		if err != nil {
			return false, err
		}
		defer ev.close()
		if ev != nil && len(ev.cols) == 4 {
			for _, r := range [][]any{
				{int64(1), "lead_created", `{"source":"landing_page"}`, "2024-11-02 15:04:05"},
				{int64(1), "quote_viewed", `{"quote_id":"q-1001"}`, "2024-11-02 15:10:40"},
				{int64(3), "lead_created", `{"source":"referral"}`, "2025-01-20 18:30:02"},
			} {
				if err := ev.add(ctx, r...); err != nil {
					return false, err
				}
			}
			if err := ev.flush(ctx); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// bumpSequence raises the AUTOINCREMENT sequence of table to at least seq.
func (w *writer) bumpSequence(ctx context.Context, table string, seq int64) error {
	res, err := w.conn.ExecContext(ctx, "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", seq, table)
	if err != nil {
		return fmt.Errorf("sqlitefixture: sqlite_sequence: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	if _, err := w.conn.ExecContext(ctx, "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", table, seq); err != nil {
		return fmt.Errorf("sqlitefixture: sqlite_sequence: %w", err)
	}
	return nil
}

// earlierRuns are the rows of the earlier scheduler in its
// scheduler_checkpoints: its last four nightly runs, the nights before
// demodata.DefaultToday, the third of which failed.
func (w *writer) earlierRuns() ([]string, [][]any) {
	cols := []string{"run_timestamp", "scheduler_run_id", "contacts_checksum", "schedules_before_checksum",
		"schedules_after_checksum", "contacts_processed", "emails_scheduled", "emails_skipped", "status",
		"error_message", "completed_at"}
	sum := func(format string, args ...any) string {
		return fmt.Sprintf("%x", sha256.Sum256(fmt.Appendf(nil, format, args...)))
	}
	n := int64(w.count.contacts)
	contacts := sum("contacts %d %d", n, w.count.lastID)
	state := 0 // the version of email_schedules the runs leave
	var rows [][]any
	for k := 1; k <= 4; k++ {
		start := demodata.DefaultToday.AddDays(k-5).Time(6, 0, time.UTC).Add(time.Duration(7*k) * time.Second)
		before := sum("email_schedules %d %d", w.count.scheduled, state)
		r := []any{start.Format(stamp), "run_" + start.Format("20060102_150405"), contacts, before}
		if k == 3 {
			r = append(r, nil, n/2, nil, nil, "failed",
				"UNIQUE constraint failed: email_schedules.contact_id, email_schedules.email_type, email_schedules.event_year", nil)
		} else {
			state++
			r = append(r, sum("email_schedules %d %d", w.count.scheduled, state), n, int64(w.count.scheduled),
				int64(w.count.skipped), "completed", nil, start.Add(time.Duration(95+n/2000)*time.Second).Format(stamp))
		}
		rows = append(rows, r)
	}
	return cols, rows
}
