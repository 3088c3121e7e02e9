package configfile

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/emailsched/emailsched/rules"
	"github.com/emailsched/emailsched/scheduler"
)

// value is a checked value of one key.
type value struct {
	i     int
	f     float64
	b     bool
	s     string
	dates []scheduler.MonthDay
}

// field is one key of the file: its declaration (kind, default, range,
// meaning), where it goes in a File and how to read it back. The keys of
// the scheduler's parameters come from scheduler.Params; the file's own
// keys (fileParams) are declared here, in the same form.
type field struct {
	scheduler.Param
	// isString: a free text (KindTimeOfDay with no check), for the file's
	// paths.
	isString bool
	set      func(*File, value)
	get      func(*File) any
}

// fileParams are the keys of the configuration file that are not the
// scheduler's parameters: where things are, how a run writes, backups. The
// top ones come before the scheduler's first section in the reference
// file; the backup ones after its last.
var (
	fileTop = []field{
		textField("database", "", "The organisation database (SQLite). The -db flag of the command overrides it.",
			func(f *File) *string { return &f.Database }),
		textField("rules", "", `The exclusion rules: a .rules file, or a directory whose *.rules files are loaded together `+
			`as one set. "" means the default rules built into the program (testdata/rules/default.rules). The -rules flag `+
			`overrides it.`, func(f *File) *string { return &f.Rules }),
		{Param: scheduler.Param{Key: "pre_window_buffer", Kind: scheduler.KindInt, Default: nil, Min: 0, Max: rules.MaxWindowDays,
			Plan: true, Doc: "Days every exclusion window starts earlier than its statutory window. null keeps the " +
				"pre_window_buffer of the rules files (60 in the default rules); a number replaces it for every window " +
				"that does not set its own buffer."},
			set: func(f *File, v value) { f.PreWindowBuffer = &v.i },
			get: func(f *File) any {
				if f.PreWindowBuffer == nil {
					return nil
				}
				return *f.PreWindowBuffer
			}},
		{Param: scheduler.Param{Key: "atomic", Kind: scheduler.KindBool, Default: false,
			Doc: "How a run writes to the database. A run reads and plans every contact first, then writes its " +
				"changes. false: in short transactions of whole contacts (at most batch_contacts contacts and about " +
				"200 ms each), so that the sending system, which cannot write while a transaction is open, waits " +
				"little; after an interruption every contact has its complete old or its complete new plan, and " +
				"running again finishes the job. true: the whole run is one transaction, so an interrupted or failed " +
				"run leaves the previous plan entirely intact, but the sending system waits while all of it is " +
				"written. The -atomic flag of the command overrides it."},
			set: func(f *File, v value) { f.Atomic = v.b }, get: func(f *File) any { return f.Atomic }},
		{Param: scheduler.Param{Key: "bulk_writes", Kind: scheduler.KindBool, Default: false,
			Doc: "true: a run whose changes turn out to be a large share of the plan's table (at least half its rows: " +
				"a first run, or new rules that re-plan most emails) writes them in one transaction, dropping the " +
				"table's secondary indexes and creating them again, exactly as they were, before the commit: " +
				"several times faster, but the sending system waits while it is written. For onboarding outside its " +
				"busy hours. An atomic run writes in bulk anyway. The -bulk flag of the command overrides it."},
			set: func(f *File, v value) { f.BulkWrites = v.b }, get: func(f *File) any { return f.BulkWrites }},
		{Param: scheduler.Param{Key: "batch_contacts", Kind: scheduler.KindInt, Default: 1000, Min: 1, Max: 1_000_000,
			Doc: "The most contacts one write transaction carries when a run is not atomic. The -batch flag of the " +
				"command overrides it."},
			set: func(f *File, v value) { f.BatchContacts = v.i }, get: func(f *File) any { return f.BatchContacts }},
	}
	fileBackup = []field{
		textField("backup.dir", "", `Online backups of the database, taken before a run changes anything (the -backup `+
			`flag of the command), go into this directory; "" means a directory "backups" beside the database.`,
			func(f *File) *string { return &f.Backup.Dir }),
		{Param: scheduler.Param{Key: "backup.retention_days", Kind: scheduler.KindInt, Default: 7, Min: 0, Max: 3650,
			Doc: "Backups older than this many days are deleted after each backup; 0 keeps every backup."},
			set: func(f *File, v value) { f.Backup.RetentionDays = v.i }, get: func(f *File) any { return f.Backup.RetentionDays }},
	}
)

func textField(key, def, doc string, at func(*File) *string) field {
	return field{Param: scheduler.Param{Key: key, Kind: scheduler.KindTimeOfDay, Default: def, Doc: doc}, isString: true,
		set: func(f *File, v value) { *at(f) = v.s }, get: func(f *File) any { return *at(f) }}
}

// sections say what each section of the file is about, for the reference
// file.
var sections = map[string]string{
	"timing":          "When the anniversary emails are planned.",
	"priorities":      "Priorities of the anniversary emails, 0-1000: a lower number is more important. They decide which emails the frequency limit skips and which emails load balancing moves first. Campaign priorities come from the campaign types in the database.",
	"follow_ups":      "Follow-ups to emails that were sent or delivered.",
	"frequency_limit": "How many emails a contact gets.",
	"load_balancing":  "Spreading the daily volume, after all per-contact decisions: an email is never moved into an exclusion window or past its event.",
	"backup":          "Online backups before a run.",
}

// schema lists every key of the file, in the order of the reference file:
// the file's top keys, the scheduler's parameters, the backup keys.
var schema = func() []field {
	var top, rest []field
	for _, p := range scheduler.Params() {
		if p.Key == "" {
			continue
		}
		fd := schedulerField(p)
		if strings.Contains(p.Key, ".") {
			rest = append(rest, fd)
		} else {
			top = append(top, fd)
		}
	}
	// time_zone and send_time first, then where things are, then the
	// scheduler's other top keys and its sections.
	out := append([]field{}, top[:2]...)
	out = append(out, fileTop...)
	out = append(out, top[2:]...)
	out = append(out, rest...)
	return append(out, fileBackup...)
}()

// schedulerField is the key of a scheduler parameter: its value goes to
// the Config field the parameter names, in File.Scheduler.
func schedulerField(p scheduler.Param) field {
	at := func(f *File) reflect.Value { return reflect.ValueOf(&f.Scheduler).Elem().FieldByName(p.Field) }
	fd := field{Param: p}
	fd.get = func(f *File) any { return f.Scheduler.ParamValue(p) }
	switch p.Kind {
	case scheduler.KindInt:
		fd.set = func(f *File, v value) { at(f).Set(reflect.ValueOf(scheduler.Int(v.i))) }
	case scheduler.KindNumber:
		fd.set = func(f *File, v value) { at(f).Set(reflect.ValueOf(scheduler.Float(v.f))) }
	case scheduler.KindBool:
		fd.set = func(f *File, v value) { at(f).SetBool(v.b != p.Inverted) }
	case scheduler.KindTimeZone:
		fd.set = func(f *File, v value) {
			loc, _ := time.LoadLocation(v.s) // checked by check
			at(f).Set(reflect.ValueOf(loc))
		}
	case scheduler.KindTimeOfDay:
		fd.set = func(f *File, v value) { at(f).SetString(v.s) }
	case scheduler.KindMonthDays:
		fd.set = func(f *File, v value) { at(f).Set(reflect.ValueOf(v.dates)) }
	case scheduler.KindMonthDay:
		fd.set = func(f *File, v value) { md := v.dates[0]; at(f).Set(reflect.ValueOf(&md)) }
	default:
		panic(fmt.Sprintf("configfile: parameter %s of an unknown kind", p.Key)) // a new kind needs its reader here
	}
	return fd
}

// check says what is wrong with a text value of fd ("" when it is fine).
func (fd field) check(s string) string {
	switch {
	case fd.isString:
		return ""
	case fd.Kind == scheduler.KindTimeZone:
		if _, err := time.LoadLocation(s); err != nil || s == "" || s == "Local" {
			return `must be an IANA time zone name (such as "America/Chicago")`
		}
	case fd.Kind == scheduler.KindTimeOfDay:
		if t, err := time.Parse("15:04", s); err != nil || t.Format("15:04") != s {
			return `must be a time of day "HH:MM" from "00:00" to "23:59"`
		}
	}
	return ""
}

// fieldByKey returns the schema entry of a dotted key.
func fieldByKey(key string) (field, bool) {
	for _, fd := range schema {
		if fd.Key == key {
			return fd, true
		}
	}
	return field{}, false
}

// isSection reports whether key names a section (a mapping of keys).
func isSection(key string) bool {
	return len(keysIn(key+".")) > 0
}

// keysIn lists the keys directly inside the section prefix ("" for the
// top level, "timing." for a section), in schema order.
func keysIn(prefix string) []string {
	var out []string
	for _, fd := range schema {
		rest, ok := strings.CutPrefix(fd.Key, prefix)
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, ".")
		if len(out) == 0 || out[len(out)-1] != name {
			out = append(out, name)
		}
	}
	return out
}
