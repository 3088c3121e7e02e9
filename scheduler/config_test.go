package scheduler

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/rules"
)

func TestConfigDefaults(t *testing.T) {
	s, err := Config{}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	bday, ed, aep := s.event(emailsched.TypeBirthday), s.event(emailsched.TypeEffectiveDate), s.event(emailsched.TypeAEP)
	if s.loc.String() != "America/Chicago" || s.sendTime != "08:30" || bday.before != 14 || ed.before != 30 || aep.before != 0 ||
		s.catchUp != 7 || bday.priority != 10 || ed.priority != 10 || aep.priority != 20 || s.prioPostWindow != 30 ||
		len(s.aep) != 1 || s.aep[0] != (MonthDay{time.September, 15}) || s.rules == nil || s.log == nil || s.clock == nil {
		t.Errorf("defaults not applied: %+v", s)
	}
}

func TestConfigExplicitZeroes(t *testing.T) {
	s, err := Config{BirthdayDaysBefore: Int(0), EffectiveDateDaysBefore: Int(0), BirthdayPriority: Int(0)}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if bday, ed := s.event(emailsched.TypeBirthday), s.event(emailsched.TypeEffectiveDate); bday.before != 0 || ed.before != 0 || bday.priority != 0 {
		t.Errorf("explicit zeroes replaced by defaults: %+v", s)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"send time", Config{SendTime: "8:30"}, []string{`SendTime is "8:30", must be "HH:MM" from "00:00" to "23:59"`}},
		{"send time range", Config{SendTime: "24:00"}, []string{"SendTime"}},
		{"birthday offset", Config{BirthdayDaysBefore: Int(-1)}, []string{"BirthdayDaysBefore is -1, must be 0-365"}},
		{"ed offset", Config{EffectiveDateDaysBefore: Int(400)}, []string{"EffectiveDateDaysBefore is 400, must be 0-365"}},
		{"priority", Config{AEPPriority: Int(1001)}, []string{"AEPPriority is 1001, must be 0-1000"}},
		{"aep", Config{AEPDates: []MonthDay{{time.February, 30}}}, []string{"AEPDates[0] is 2-30"}},
		{"aep month", Config{AEPDates: []MonthDay{{13, 1}}}, []string{"AEPDates[0] is 13-1"}},
		{"catch up", Config{CatchUpSpreadDays: Int(91)}, []string{"CatchUpSpreadDays is 91, must be 1-90"}},
		{"workers", Config{Workers: Int(300)}, []string{"Workers is 300, must be 1-256"}},
		{"several at once", Config{CatchUpSpreadDays: Int(-1), PostWindowPriority: Int(-5)},
			[]string{"CatchUpSpreadDays is -1", "PostWindowPriority is -5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New: err = %v, want ErrInvalidConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestMonthDayIn(t *testing.T) {
	md := MonthDay{time.February, 29}
	if got := md.In(2024); got != datecalc.MustNew(2024, 2, 29) {
		t.Errorf("leap year: %v", got)
	}
	if got := md.In(2025); got != datecalc.MustNew(2025, 2, 28) {
		t.Errorf("common year: %v", got)
	}
	if md.String() != "02-29" {
		t.Errorf("String = %q", md.String())
	}
}

func TestToday(t *testing.T) {
	// 03:00 UTC on March 10 is still March 9 in Chicago.
	clock := func() time.Time { return time.Date(2025, 3, 10, 3, 0, 0, 0, time.UTC) }
	s, err := New(Config{Clock: clock, Rules: rules.Default()})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Today(); got != datecalc.MustNew(2025, 3, 9) {
		t.Errorf("Today = %v, want 2025-03-09", got)
	}
}

func TestDefaultRunID(t *testing.T) {
	id := defaultRunID(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	if !strings.HasPrefix(id, "run-20250102T030405-") || len(id) != len("run-20250102T030405-")+8 {
		t.Errorf("run id %q", id)
	}
	if id == defaultRunID(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Error("two run ids of the same second are equal")
	}
}
