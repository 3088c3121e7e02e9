package sqlitefixture

// The shapes Full and Old (Production is the schema file of production.go):
// an old shape with contacts and email_schedules only (email_schedules
// without scheduler_run_id, catchup_note and metadata), and a full shape
// that adds do_not_communicate, the campaign, tracking and event tables and
// a scheduler_checkpoints table of an older system. Both were made up
// before a production schema was at hand; they stay for the tests written
// against them. Date columns of email_schedules are declared DATE/DATETIME,
// which makes the driver read them as times unless an adapter casts them.

const oldContacts = `CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    current_carrier TEXT,
    plan_type TEXT,
    effective_date TEXT,
    birth_date TEXT,
    tobacco_user BOOLEAN,
    gender TEXT,
    state TEXT,
    zip_code TEXT,
    phone_number TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    status TEXT`

const oldSchedules = `CREATE TABLE email_schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL,
    email_type TEXT NOT NULL,
    scheduled_send_date DATE NOT NULL,
    scheduled_send_time TIME DEFAULT '08:30:00',
    status TEXT NOT NULL DEFAULT 'pre-scheduled',
    skip_reason TEXT,
    priority INTEGER DEFAULT 10,
    campaign_instance_id INTEGER,
    email_template TEXT,
    sms_template TEXT,
    event_year INTEGER,
    event_month INTEGER,
    event_day INTEGER,
    batch_id TEXT,
    actual_send_datetime DATETIME,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP`

const fullSchedulesExtra = `,
    scheduler_run_id TEXT,
    catchup_note TEXT,
    metadata TEXT`

var fullTables = []string{
	`CREATE TABLE campaign_types (
    name TEXT PRIMARY KEY,
    respect_exclusion_windows BOOLEAN DEFAULT TRUE,
    enable_followups BOOLEAN DEFAULT TRUE,
    days_before_event INTEGER DEFAULT 0,
    target_all_contacts BOOLEAN DEFAULT FALSE,
    priority INTEGER DEFAULT 10,
    active BOOLEAN DEFAULT TRUE,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE TABLE campaign_instances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_type TEXT NOT NULL,
    instance_name TEXT NOT NULL,
    email_template TEXT,
    sms_template TEXT,
    active_start_date DATE,
    active_end_date DATE,
    metadata TEXT,
    target_states TEXT,
    target_carriers TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE TABLE contact_campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER NOT NULL,
    campaign_instance_id INTEGER NOT NULL,
    trigger_date DATE,
    status TEXT DEFAULT 'pending',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE TABLE tracking_clicks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER,
    message_id TEXT,
    url TEXT,
    clicked_at DATETIME DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE TABLE contact_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER,
    event_type TEXT NOT NULL,
    metadata TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP)`,
	`CREATE TABLE scheduler_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_timestamp DATETIME NOT NULL,
    checkpoint_type TEXT,
    contacts_checksum TEXT,
    schedules_before_checksum TEXT,
    schedules_after_checksum TEXT,
    contacts_processed INTEGER,
    emails_scheduled INTEGER,
    emails_skipped INTEGER,
    status TEXT NOT NULL,
    error_message TEXT,
    completed_at DATETIME)`,
}

// productionIndexes is the index set of Options.ProductionIndexes: ten
// indexes on email_schedules, like production's, and a few on the other
// tables.
var productionIndexes = []string{
	`CREATE INDEX idx_schedules_contact ON email_schedules(contact_id)`,
	`CREATE INDEX idx_schedules_status ON email_schedules(status)`,
	`CREATE INDEX idx_schedules_send_date ON email_schedules(scheduled_send_date)`,
	`CREATE INDEX idx_schedules_status_date ON email_schedules(status, scheduled_send_date)`,
	`CREATE INDEX idx_schedules_type ON email_schedules(email_type)`,
	`CREATE INDEX idx_schedules_campaign ON email_schedules(campaign_instance_id)`,
	`CREATE INDEX idx_schedules_run ON email_schedules(scheduler_run_id)`,
	`CREATE INDEX idx_schedules_batch ON email_schedules(batch_id)`,
	`CREATE INDEX idx_schedules_contact_type ON email_schedules(contact_id, email_type)`,
	`CREATE INDEX idx_schedules_event_year ON email_schedules(event_year)`,
	`CREATE INDEX idx_contacts_email ON contacts(email)`,
	`CREATE INDEX idx_contacts_state ON contacts(state)`,
}

var productionFullIndexes = []string{
	`CREATE INDEX idx_contact_campaigns_contact ON contact_campaigns(contact_id)`,
	`CREATE INDEX idx_tracking_clicks_contact ON tracking_clicks(contact_id)`,
	`CREATE INDEX idx_contact_events_contact ON contact_events(contact_id, event_type)`,
}

const (
	uniqueEventYearIndex = `CREATE UNIQUE INDEX idx_schedules_unique_event ON email_schedules(contact_id, email_type, event_year)`
	uniqueSendDateIndex  = `CREATE UNIQUE INDEX idx_schedules_unique_date ON email_schedules(contact_id, email_type, scheduled_send_date)`
)
