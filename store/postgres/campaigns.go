package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/internal/storecol"
)

// Campaigns implements store.CampaignSource: every row of campaign_types
// and campaign_instances (none when the tables do not exist), read in one
// snapshot. target_states and target_carriers may be a JSON array or a
// comma-separated list.
//
// Rows that cannot be used safely are left out: a type whose name is not a
// valid campaign name (see emailsched.CampaignEmailType), and an instance
// whose target lists are unreadable or name unknown states (an unreadable
// restriction must not become "everyone").
func (s *Store) Campaigns(ctx context.Context) (emailsched.Campaigns, error) {
	var out emailsched.Campaigns
	if err := s.check(); err != nil {
		return out, err
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		out = emailsched.Campaigns{}
		cols, err := s.columns(ctx, tx)
		if err != nil {
			return err
		}
		if cols["campaign_types"] != nil {
			rows, err := tx.Query(ctx, s.sql(`SELECT name, coalesce(respect_exclusion_windows, true), coalesce(enable_followups, false),
				coalesce(days_before_event, 0), coalesce(target_all_contacts, false), coalesce(priority, 0), coalesce(active, false)
				FROM {schema}.campaign_types ORDER BY name`))
			if err != nil {
				return err
			}
			var ct emailsched.CampaignType
			_, err = pgx.ForEachRow(rows, []any{&ct.Name, &ct.RespectExclusionWindows, &ct.EnableFollowUps, &ct.DaysBeforeEvent,
				&ct.TargetAllContacts, &ct.Priority, &ct.Active}, func() error {
				if _, err := emailsched.CampaignEmailType(ct.Name); err == nil {
					out.Types = append(out.Types, ct)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if cols["campaign_instances"] == nil {
			return nil
		}
		rows, err := tx.Query(ctx, s.sql(`SELECT id, coalesce(campaign_type, ''), coalesce(instance_name, ''),
			coalesce(email_template, ''), coalesce(sms_template, ''), coalesce(active_start_date::text, ''),
			coalesce(active_end_date::text, ''), coalesce(metadata::text, ''), coalesce(target_states, ''),
			coalesce(target_carriers, '') FROM {schema}.campaign_instances ORDER BY id`))
		if err != nil {
			return err
		}
		var ci emailsched.CampaignInstance
		var start, end, states, carriers string
		var id pgtype.Int8
		_, err = pgx.ForEachRow(rows, []any{&id, &ci.Type, &ci.Name, &ci.EmailTemplate, &ci.SMSTemplate, &start, &end,
			&ci.Metadata, &states, &carriers}, func() error {
			x := ci
			x.ID = id.Int64
			var ok1, ok2, ok3, ok4 bool
			x.Start, ok1 = dbDate(start)
			x.End, ok2 = dbDate(end)
			var codes []string
			codes, ok3 = storecol.List(states)
			x.TargetCarriers, ok4 = storecol.List(carriers)
			x.TargetStates = nil
			for _, code := range codes {
				st, ok := emailsched.ParseState(code)
				if !ok {
					ok3 = false
					break
				}
				x.TargetStates = append(x.TargetStates, st)
			}
			if id.Valid && ok1 && ok2 && ok3 && ok4 {
				out.Instances = append(out.Instances, x)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return emailsched.Campaigns{}, wrap("campaigns", err)
	}
	return out, nil
}
