package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/internal/storecol"
)

// loadChunk is the number of contacts Load buffers before it copies their
// rows: its memory does not grow with the number of contacts.
const loadChunk = 10_000

// Load puts contacts, with their history, stored plan, engagement and
// campaign targets, and the campaign catalogue into schema (migrated
// first), with COPY: for tests, benchmarks, examples and moving an
// organisation database over. It writes into existing tables and does not
// empty them.
//
// Rows keep their ID when they have one; rows without get IDs from the
// table's identity, above every ID loaded before them. A contact's Issues
// stand for raw field values: the Value is stored in the field (the
// contacts table keeps dates as text). A contact marked Deleted is not
// written, but its email rows are, as when an application deleted the
// contact and left its rows behind. A health answer is stored as an
// eligibility_answered event whose metadata says whether it reports
// medical conditions.
func Load(ctx context.Context, pool *pgxpool.Pool, schema string, contacts iter.Seq[*emailsched.Contact], camps emailsched.Campaigns) error {
	s := New(pool, Options{Schema: schema})
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		l := &loader{s: s, tx: tx}
		if err := l.campaigns(ctx, camps); err != nil {
			return err
		}
		for c := range contacts {
			l.add(c)
			if l.n >= loadChunk {
				if err := l.flush(ctx); err != nil {
					return err
				}
			}
		}
		return l.flush(ctx)
	})
	if err != nil {
		return fmt.Errorf("postgres: load into %s: %w", schema, err)
	}
	return nil
}

// loader buffers the rows of loadChunk contacts, table by table.
type loader struct {
	s                           *Store
	tx                          pgx.Tx
	n                           int
	contacts, withID, withoutID [][]any
	clicks, events, targets     [][]any
}

var (
	contactCols = []string{"id", "first_name", "email", "zip_code", "state", "birth_date", "effective_date", "current_carrier",
		"do_not_communicate", "status"}
	emailCols = []string{"contact_id", "email_type", "scheduled_send_date", "scheduled_send_time", "status", "skip_reason",
		"priority", "campaign_instance_id", "email_template", "sms_template", "scheduler_run_id", "event_year", "event_month",
		"event_day", "catchup_note", "metadata", "actual_send_datetime"}
)

func (l *loader) add(c *emailsched.Contact) {
	l.n++
	if !c.Deleted {
		birth, eff := dateText(c, emailsched.FieldBirthday, c.Birthday), dateText(c, emailsched.FieldEffectiveDate, c.EffectiveDate)
		first, _, _ := strings.Cut(c.Email, ".")
		l.contacts = append(l.contacts, []any{c.ID, storecol.NullText(first), storecol.NullText(c.Email), storecol.NullText(c.ZIP), storecol.NullText(c.State),
			birth, eff, storecol.NullText(c.Carrier), c.DoNotCommunicate, "active"})
	}
	for _, rows := range [][]emailsched.Email{c.History, c.Stored} {
		for i := range rows {
			e := &rows[i]
			var ey, em, ed any
			if !e.Event.IsZero() {
				y, m, d := e.Event.Date()
				ey, em, ed = int32(y), int32(m), int32(d)
			}
			var sent any
			if !e.SentAt.IsZero() {
				sent = e.SentAt
			}
			date := any(nil)
			if !e.Date.IsZero() {
				date = dbDateValue(e.Date)
			}
			v := []any{c.ID, string(e.Type), date, "08:30", string(e.Status), storecol.NullText(string(e.SkipReason)), int32(e.Priority),
				storecol.NullInt(e.CampaignInstanceID), storecol.NullText(e.EmailTemplate), storecol.NullText(e.SMSTemplate), storecol.NullText(e.RunID), ey, em, ed,
				storecol.NullText(e.CatchUpNote), storecol.NullText(e.Metadata), sent}
			if e.ID != 0 {
				l.withID = append(l.withID, append([]any{e.ID}, v...))
			} else {
				l.withoutID = append(l.withoutID, v)
			}
		}
	}
	for _, e := range c.Engagement {
		switch e.Kind {
		case emailsched.EngagementClick:
			l.clicks = append(l.clicks, []any{c.ID, e.At})
		case emailsched.EngagementHealthAnswer:
			md := `{"has_medical_conditions":false,"main_questions_yes_count":0}`
			if e.MedicalConditions {
				md = `{"has_medical_conditions":true,"main_questions_yes_count":1}`
			}
			l.events = append(l.events, []any{c.ID, "eligibility_answered", md, e.At})
		}
	}
	for _, t := range c.Campaigns {
		l.targets = append(l.targets, []any{c.ID, t.InstanceID, dbDateValue(t.Trigger), storecol.NullText(t.Status)})
	}
}

// dateText is the raw text of a contact's date: the issue's value when the
// field had one, else the date (NULL when zero).
func dateText(c *emailsched.Contact, field string, d datecalc.Date) any {
	for _, is := range c.Issues {
		if is.Field == field {
			return is.Value
		}
	}
	return storecol.NullDate(d)
}

// dbDateValue is a date for COPY into a date column.
func dbDateValue(d datecalc.Date) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
}

// flush copies the buffered rows.
func (l *loader) flush(ctx context.Context) error {
	tables := []struct {
		name string
		cols []string
		rows *[][]any
	}{
		{"contacts", contactCols, &l.contacts},
		{"email_schedules", append([]string{"id"}, emailCols...), &l.withID},
		{"email_schedules", emailCols, &l.withoutID},
		{"tracking_clicks", []string{"contact_id", "clicked_at"}, &l.clicks},
		{"contact_events", []string{"contact_id", "event_type", "metadata", "created_at"}, &l.events},
		{"contact_campaigns", []string{"contact_id", "campaign_instance_id", "trigger_date", "status"}, &l.targets},
	}
	for i, t := range tables {
		if i == 2 {
			// Rows without an ID take theirs above every ID loaded so far.
			if _, err := l.tx.Exec(ctx, l.s.sql(`SELECT setval(pg_get_serial_sequence('{schema}.email_schedules', 'id'),
				(SELECT coalesce(max(id), 0) + 1 FROM {schema}.email_schedules), false)`)); err != nil {
				return err
			}
		}
		if len(*t.rows) == 0 {
			continue
		}
		if _, err := l.tx.CopyFrom(ctx, pgx.Identifier{l.s.opts.Schema, t.name}, t.cols, pgx.CopyFromRows(*t.rows)); err != nil {
			return fmt.Errorf("copy into %s: %w", t.name, err)
		}
		*t.rows = (*t.rows)[:0]
	}
	l.n = 0
	return nil
}

// campaigns writes the catalogue.
func (l *loader) campaigns(ctx context.Context, camps emailsched.Campaigns) error {
	var types, insts [][]any
	for _, t := range camps.Types {
		types = append(types, []any{t.Name, t.RespectExclusionWindows, t.EnableFollowUps, int32(t.DaysBeforeEvent),
			t.TargetAllContacts, int32(t.Priority), t.Active})
	}
	for _, ci := range camps.Instances {
		var states []string
		for _, st := range ci.TargetStates {
			states = append(states, st.String())
		}
		var start, end any
		if !ci.Start.IsZero() {
			start = dbDateValue(ci.Start)
		}
		if !ci.End.IsZero() {
			end = dbDateValue(ci.End)
		}
		insts = append(insts, []any{ci.ID, ci.Type, storecol.NullText(ci.Name), storecol.NullText(ci.EmailTemplate), storecol.NullText(ci.SMSTemplate),
			start, end, storecol.NullText(ci.Metadata), jsonList(states), jsonList(ci.TargetCarriers)})
	}
	if len(types) > 0 {
		if _, err := l.tx.CopyFrom(ctx, pgx.Identifier{l.s.opts.Schema, "campaign_types"}, []string{"name",
			"respect_exclusion_windows", "enable_followups", "days_before_event", "target_all_contacts", "priority", "active"},
			pgx.CopyFromRows(types)); err != nil {
			return fmt.Errorf("copy into campaign_types: %w", err)
		}
	}
	if len(insts) > 0 {
		if _, err := l.tx.CopyFrom(ctx, pgx.Identifier{l.s.opts.Schema, "campaign_instances"}, []string{"id", "campaign_type",
			"instance_name", "email_template", "sms_template", "active_start_date", "active_end_date", "metadata",
			"target_states", "target_carriers"}, pgx.CopyFromRows(insts)); err != nil {
			return fmt.Errorf("copy into campaign_instances: %w", err)
		}
	}
	return nil
}

// jsonList writes a target list as a JSON array of strings (NULL when
// empty: no restriction).
func jsonList(xs []string) any {
	if len(xs) == 0 {
		return nil
	}
	b, _ := json.Marshal(xs) // strings always marshal
	return string(b)
}
