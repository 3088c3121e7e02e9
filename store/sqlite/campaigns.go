package sqlite

import (
	"context"
	"strings"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/internal/storecol"
)

// Campaigns implements store.CampaignSource: every row of campaign_types and
// campaign_instances (none when the tables do not exist). Flags accept
// 0/1, true/false and yes/no. target_states and target_carriers may be a
// JSON array or a comma-separated list.
//
// Rows that cannot be used safely are left out and counted in ReadStats: a
// type whose name is not a valid campaign name (see
// emailsched.CampaignEmailType), an instance whose id, start or end date is
// unreadable (an unreadable end must not become an open end), and an
// instance whose target lists are unreadable or name unknown states (an
// unreadable restriction must not become "everyone").
func (s *Store) Campaigns(ctx context.Context) (emailsched.Campaigns, error) {
	var out emailsched.Campaigns
	skippedTypes, skippedInst := 0, 0
	err := s.retry(ctx, "campaigns", func() error {
		out, skippedTypes, skippedInst = emailsched.Campaigns{}, 0, 0
		cols, err := tableColumns(ctx, s.db, "campaign_types")
		if err != nil {
			return err
		}
		if len(cols) > 0 {
			rows, err := s.db.QueryContext(ctx, "SELECT "+columnsOrNull(cols, "name", "respect_exclusion_windows",
				"enable_followups", "days_before_event", "target_all_contacts", "priority", "active")+" FROM campaign_types ORDER BY 1")
			if err != nil {
				return err
			}
			defer rows.Close()
			v := make([]any, 7)
			for rows.Next() {
				if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]); err != nil {
					return err
				}
				name := text(v[0])
				if _, err := emailsched.CampaignEmailType(name); err != nil {
					skippedTypes++
					continue
				}
				days, _ := integer(v[3])
				prio, _ := integer(v[5])
				out.Types = append(out.Types, emailsched.CampaignType{
					Name: name, RespectExclusionWindows: flag(v[1], true), EnableFollowUps: flag(v[2], false),
					DaysBeforeEvent: int(days), TargetAllContacts: flag(v[4], false), Priority: int(prio),
					Active: flag(v[6], false),
				})
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		cols, err = tableColumns(ctx, s.db, "campaign_instances")
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			return nil
		}
		// A database that was never migrated may lack the target lists
		// (production databases do): they read as absent.
		rows, err := s.db.QueryContext(ctx, "SELECT "+columnsOrNull(cols, "id", "campaign_type", "instance_name",
			"email_template", "sms_template", "CAST(active_start_date AS TEXT)", "CAST(active_end_date AS TEXT)", "metadata",
			"target_states", "target_carriers")+" FROM campaign_instances ORDER BY 1")
		if err != nil {
			return err
		}
		defer rows.Close()
		v := make([]any, 10)
		for rows.Next() {
			if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]); err != nil {
				return err
			}
			id, ok := integer(v[0])
			start, ok1 := plainDate(v[5])
			end, ok2 := plainDate(v[6])
			states, ok3 := storecol.List(text(v[8]))
			carriers, ok4 := storecol.List(text(v[9]))
			ci := emailsched.CampaignInstance{ID: id, Type: text(v[1]), Name: text(v[2]),
				EmailTemplate: text(v[3]), SMSTemplate: text(v[4]), Start: start, End: end,
				Metadata: text(v[7]), TargetCarriers: carriers}
			for _, code := range states {
				st, ok := emailsched.ParseState(code)
				if !ok {
					ok3 = false
					break
				}
				ci.TargetStates = append(ci.TargetStates, st)
			}
			if !ok || !ok1 || !ok2 || !ok3 || !ok4 {
				skippedInst++
				continue
			}
			out.Instances = append(out.Instances, ci)
		}
		return rows.Err()
	})
	if err != nil {
		return emailsched.Campaigns{}, err
	}
	s.mu.Lock()
	s.stats.SkippedCampaignTypes, s.stats.SkippedInstances = skippedTypes, skippedInst
	s.mu.Unlock()
	return out, nil
}

// columnsOrNull lists the expressions for a SELECT, each column (or
// CAST(column AS TEXT)) replaced by NULL when the table lacks it: a
// database that was never migrated reads as one whose columns are empty.
func columnsOrNull(cols map[string]bool, exprs ...string) string {
	out := make([]string, len(exprs))
	for i, x := range exprs {
		if cols[columnName(x)] {
			out[i] = x
		} else {
			out[i] = "NULL"
		}
	}
	return strings.Join(out, ", ")
}

// columnName is the column an expression of the stream reads: x itself,
// or the x of CAST(x AS TEXT).
func columnName(expr string) string {
	if rest, ok := strings.CutPrefix(expr, "CAST("); ok {
		name, _, _ := strings.Cut(rest, " ")
		return strings.ToLower(name)
	}
	return strings.ToLower(expr)
}
