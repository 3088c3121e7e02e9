// Package configfile reads the configuration file of a scheduler run: every
// plan parameter (time zone, send time, timing offsets, AEP
// dates, pre-window buffer, priorities, follow-ups, frequency limit, load
// balancing) and the settings of a run on an organisation database (database
// path, rules, write batch size, backups), in YAML or JSON (JSON is YAML).
//
// # Use
//
//	f, err := configfile.Load(ctx, "scheduler.yaml") // a missing key means its default
//	if err != nil {
//		log.Fatal(err) // every problem, each with file:line:col and what is allowed
//	}
//	set, err := f.LoadRules(ctx) // f.Rules, or the embedded default rules
//	...
//	cfg := f.Scheduler
//	cfg.Rules = set
//	s, err := scheduler.New(cfg)
//
// # The file
//
// Keys are lower-case with underscores; sections group related keys. Every
// key is optional and a null value (an empty "key:") means its default, so an
// empty file is a complete configuration. testdata/scheduler.yaml at the root
// of the module lists every key with its default and what it means:
//
//	time_zone: America/Chicago        # IANA name; "today" is the date there
//	send_time: "08:30"                # HH:MM, 24 h, local time
//	database: ""                      # the organisation database (SQLite file)
//	rules: ""                         # a .rules file or a directory of them; "" = the default rules
//	pre_window_buffer: null           # 0-366 days; null = the rules files' own (60 in the default rules)
//	atomic: false                     # true: a run is one transaction
//	bulk_writes: false                # true: a large change is written in bulk, in one transaction
//	batch_contacts: 1000              # 1-1000000: contacts per write transaction when not atomic
//	aep_dates: ["09-15"]              # one or more MM-DD; each contact gets one (stable hash)
//	timing:
//	  birthday_days_before: 14        # 0-365
//	  effective_date_days_before: 30  # 0-365
//	  catch_up_spread_days: 7         # 1-90
//	priorities:                       # 0-1000, lower is more important
//	  birthday: 10
//	  effective_date: 10
//	  aep: 20
//	  post_window: 30
//	follow_ups:
//	  enabled: true
//	  delay_days: 2                   # 0-60
//	  lookback_days: 35               # 1-365
//	frequency_limit:
//	  enabled: true
//	  max_emails: 2                   # 1-100
//	  period_days: 14                 # 1-365
//	load_balancing:
//	  enabled: true
//	  daily_cap_percentage: 0.07      # (0, 1]: a share of the valid contacts
//	  ed_soft_limit: 15               # 1-1000000000
//	  ed_smoothing_window_days: 2     # 1-30
//	  overage_threshold: 1.2          # 1-10
//	  overflow_horizon_days: 30       # 1-365
//	backup:
//	  dir: ""                         # "" = a "backups" directory beside the database
//	  retention_days: 7               # 0-3650; 0 keeps every backup
//
// Load resolves the relative paths of database, rules and backup.dir against
// the directory of the file, so a configuration can sit next to its database
// and rules; Parse, which has no directory, leaves them as written.
//
// # Errors
//
// Unknown keys, duplicate keys, values of the wrong type and values out of
// range are all reported at once, as Problems: each names the file, line and
// column, the key, what is allowed and what was found, and shows the line with
// a caret under the fault:
//
//	scheduler.yaml:4:25: timing.birthday_days_before must be an integer from 0 to 365, found 400
//	    4 |   birthday_days_before: 400
//	      |                         ^
//
// # The pre-window buffer
//
// The rules package offers no way to change the buffer of a loaded rule set,
// so LoadRules applies pre_window_buffer itself: on rules files it removes
// their pre_window_buffer setting lines (keeping every other line where it was,
// so diagnostics still point at the right place) and adds the configured value
// as one more source named after the configuration file; on the embedded
// default rules, whose rules are all static, it rebuilds the set with the new
// buffer. Windows with their own buffer (w.buffer(days)) keep it. Either way
// the set's checksum changes, so a plan records that it was made with another
// buffer.
package configfile
