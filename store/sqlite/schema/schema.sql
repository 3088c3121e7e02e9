-- Schema of an emailsched organisation database, in the shape the
-- migrations create when something is missing (see the documentation of
-- package store/sqlite).
--
-- Format rules, relied on by migrate.go: one statement per CREATE; inside a
-- CREATE TABLE, one column per line ("name TYPE [constraints]"), table
-- constraints are not used. When a table exists but lacks a column, the
-- column is added with ALTER TABLE ADD COLUMN using only its TYPE and a
-- literal DEFAULT, so that existing rows are never rewritten. Existing
-- columns are never dropped, renamed or changed.
--
-- The contacts table belongs to the application: it is created when missing
-- (empty databases, tests) but never altered.
--
-- No column that a migration may add to an existing table has a DEFAULT
-- that would make another system's rows look like this scheduler's: an
-- email_schedules row is this scheduler's exactly when its status is
-- 'pre-scheduled' or 'skipped', so status has no default at all (and a
-- table without a status column is refused, never migrated).

CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    current_carrier TEXT,
    plan_type TEXT,
    effective_date TEXT,
    birth_date TEXT,
    tobacco_user INTEGER,
    gender TEXT,
    state TEXT,
    zip_code TEXT,
    phone_number TEXT,
    created_at TEXT,
    updated_at TEXT,
    status TEXT,
    do_not_communicate INTEGER DEFAULT 0
);

CREATE TABLE IF NOT EXISTS email_schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL,
    email_type TEXT NOT NULL,
    scheduled_send_date TEXT NOT NULL,
    scheduled_send_time TEXT DEFAULT '08:30',
    status TEXT NOT NULL,
    skip_reason TEXT,
    priority INTEGER DEFAULT 10,
    campaign_instance_id INTEGER,
    email_template TEXT,
    sms_template TEXT,
    scheduler_run_id TEXT,
    event_year INTEGER,
    event_month INTEGER,
    event_day INTEGER,
    catchup_note TEXT,
    metadata TEXT,
    batch_id TEXT,
    actual_send_datetime TEXT,
    created_at TEXT,
    updated_at TEXT
);

CREATE TABLE IF NOT EXISTS campaign_types (
    name TEXT PRIMARY KEY,
    respect_exclusion_windows INTEGER DEFAULT 1,
    enable_followups INTEGER DEFAULT 1,
    days_before_event INTEGER DEFAULT 0,
    target_all_contacts INTEGER DEFAULT 0,
    priority INTEGER DEFAULT 10,
    active INTEGER DEFAULT 1,
    created_at TEXT,
    updated_at TEXT
);

CREATE TABLE IF NOT EXISTS campaign_instances (
    id INTEGER PRIMARY KEY,
    campaign_type TEXT,
    instance_name TEXT,
    email_template TEXT,
    sms_template TEXT,
    active_start_date TEXT,
    active_end_date TEXT,
    metadata TEXT,
    target_states TEXT,
    target_carriers TEXT,
    created_at TEXT,
    updated_at TEXT
);

CREATE TABLE IF NOT EXISTS contact_campaigns (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER,
    campaign_instance_id INTEGER,
    trigger_date TEXT,
    status TEXT DEFAULT 'pending',
    created_at TEXT,
    updated_at TEXT
);

CREATE TABLE IF NOT EXISTS tracking_clicks (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER,
    clicked_at TEXT
);

CREATE TABLE IF NOT EXISTS contact_events (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER,
    event_type TEXT,
    metadata TEXT,
    created_at TEXT
);

CREATE TABLE IF NOT EXISTS scheduler_checkpoints (
    id INTEGER PRIMARY KEY,
    run_id TEXT,
    run_timestamp TEXT,
    started_at TEXT,
    finished_at TEXT,
    run_date TEXT,
    status TEXT,
    contacts_processed INTEGER,
    contacts_checksum TEXT,
    rules_checksum TEXT,
    -- the checksum of every plan-deciding configuration value of the run
    -- (store.PlanIdentity), with rules_checksum the identity of its settings
    config_checksum TEXT,
    rows_inserted INTEGER,
    rows_updated INTEGER,
    rows_deleted INTEGER,
    rows_unchanged INTEGER,
    rows_conflicting INTEGER,
    -- rows the sending system took over during the run
    rows_taken INTEGER,
    -- contacts that no longer exist and whose planned rows the run deleted
    contacts_deleted INTEGER,
    error_message TEXT,
    -- the run lock: a running run renews lease_until (UTC) while it works;
    -- owner is "host pid", so that a crashed run's lock is recognised
    lease_until TEXT,
    owner TEXT,
    -- the per-day volume of the plan a completed run committed (JSON, see
    -- store.PlanLoad); kept on the latest completed run only
    plan_load TEXT
);
