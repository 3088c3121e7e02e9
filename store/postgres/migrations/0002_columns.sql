-- The columns this adapter reads and writes, added to tables that existed
-- before 0001 ran (an organisation schema made by another tool): ADD COLUMN
-- IF NOT EXISTS only, never a default that would make another system's
-- rows look like this scheduler's. The application's contacts table is
-- never altered.
ALTER TABLE {schema}.email_schedules
    ADD COLUMN IF NOT EXISTS skip_reason text,
    ADD COLUMN IF NOT EXISTS priority integer,
    ADD COLUMN IF NOT EXISTS campaign_instance_id bigint,
    ADD COLUMN IF NOT EXISTS email_template text,
    ADD COLUMN IF NOT EXISTS sms_template text,
    ADD COLUMN IF NOT EXISTS scheduler_run_id text,
    ADD COLUMN IF NOT EXISTS event_year integer,
    ADD COLUMN IF NOT EXISTS event_month integer,
    ADD COLUMN IF NOT EXISTS event_day integer,
    ADD COLUMN IF NOT EXISTS catchup_note text,
    ADD COLUMN IF NOT EXISTS metadata text,
    ADD COLUMN IF NOT EXISTS actual_send_datetime timestamptz,
    ADD COLUMN IF NOT EXISTS scheduled_send_time text,
    ADD COLUMN IF NOT EXISTS created_at timestamptz,
    ADD COLUMN IF NOT EXISTS updated_at timestamptz;

ALTER TABLE {schema}.campaign_instances
    ADD COLUMN IF NOT EXISTS target_states text,
    ADD COLUMN IF NOT EXISTS target_carriers text;

ALTER TABLE {schema}.scheduler_checkpoints
    ADD COLUMN IF NOT EXISTS run_id text,
    ADD COLUMN IF NOT EXISTS run_timestamp timestamptz,
    ADD COLUMN IF NOT EXISTS started_at timestamptz,
    ADD COLUMN IF NOT EXISTS finished_at timestamptz,
    ADD COLUMN IF NOT EXISTS run_date date,
    ADD COLUMN IF NOT EXISTS status text,
    ADD COLUMN IF NOT EXISTS contacts_processed integer,
    ADD COLUMN IF NOT EXISTS contacts_checksum text,
    ADD COLUMN IF NOT EXISTS rules_checksum text,
    ADD COLUMN IF NOT EXISTS config_checksum text,
    ADD COLUMN IF NOT EXISTS rows_inserted integer,
    ADD COLUMN IF NOT EXISTS rows_updated integer,
    ADD COLUMN IF NOT EXISTS rows_deleted integer,
    ADD COLUMN IF NOT EXISTS rows_unchanged integer,
    ADD COLUMN IF NOT EXISTS rows_conflicting integer,
    ADD COLUMN IF NOT EXISTS rows_taken integer,
    ADD COLUMN IF NOT EXISTS contacts_deleted integer,
    ADD COLUMN IF NOT EXISTS error_message text,
    ADD COLUMN IF NOT EXISTS owner text,
    ADD COLUMN IF NOT EXISTS plan_load jsonb;

-- The stream reads each per-contact table in contact_id order.
CREATE INDEX IF NOT EXISTS email_schedules_contact_id ON {schema}.email_schedules (contact_id);
