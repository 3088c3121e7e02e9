package scheduler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/store"
	"github.com/emailsched/emailsched/store/memory"
)

// volumeSource is a source with a fixed stored volume and load.
type volumeSource struct {
	store.ContactSource
	vols            []store.TypeVolume
	load            store.PlanLoad
	hasLoad         bool
	volErr, loadErr error
}

func (v volumeSource) PlannedVolume(context.Context, datecalc.Date, datecalc.Date) ([]store.TypeVolume, error) {
	return v.vols, v.volErr
}

func (v volumeSource) StoredLoad(context.Context) (store.PlanLoad, bool, error) {
	return v.load, v.hasLoad, v.loadErr
}

func TestUpcoming(t *testing.T) {
	ctx := context.Background()
	today := d(2025, 3, 3)
	m, err := memory.New(demoContacts(), emailsched.Campaigns{})
	if err != nil {
		t.Fatal(err)
	}
	s := newTestScheduler(t, Config{})
	if _, err := s.RunAt(ctx, today, m, m); err != nil {
		t.Fatal(err)
	}
	up, err := s.UpcomingAt(ctx, today, m, 366)
	if err != nil {
		t.Fatal(err)
	}
	// The memory store counts what its plan holds, day by day.
	want := map[datecalc.Date]int{}
	for _, e := range m.Plan() {
		if e.Status == emailsched.StatusPreScheduled && !e.Date.Before(today) && !e.Date.After(today.AddDays(365)) {
			want[e.Date]++
		}
	}
	total := 0
	for _, day := range up.Days {
		n := 0
		for _, k := range day.ByType {
			n += k
		}
		if day.Total != want[day.Date] || n != day.Total {
			t.Errorf("%s: total %d, by type %v; the plan holds %d", day.Date, day.Total, day.ByType, want[day.Date])
		}
		total += day.Total
	}
	if len(up.Days) != 366 || total == 0 || up.Limits.Cap != 1 || up.PlanDate != today || up.ValidContacts != 4 {
		t.Errorf("upcoming: %d days, %d emails, limits %+v, plan of %s, %d valid", len(up.Days), total, up.Limits, up.PlanDate, up.ValidContacts)
	}
	if _, err := s.UpcomingAt(ctx, today, m, 0); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("0 days: %v", err)
	}
	if _, err := s.UpcomingAt(ctx, today, m, MaxUpcomingDays+1); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("too many days: %v", err)
	}
	if _, err := s.Upcoming(ctx, volumeSource{}, 7); err != nil {
		t.Errorf("Upcoming from today: %v", err)
	}
	type plain struct{ store.ContactSource }
	if _, err := s.UpcomingAt(ctx, today, plain{m}, 7); !errors.Is(err, ErrNoVolume) {
		t.Errorf("a source without volumes: %v", err)
	}
	boom := errors.New("boom")
	if _, err := s.UpcomingAt(ctx, today, volumeSource{volErr: boom}, 7); !errors.Is(err, boom) {
		t.Errorf("volume error: %v", err)
	}
	if _, err := s.UpcomingAt(ctx, today, volumeSource{loadErr: boom}, 7); !errors.Is(err, boom) {
		t.Errorf("load error: %v", err)
	}
}

func TestUpcomingText(t *testing.T) {
	ctx := context.Background()
	today := d(2025, 3, 3)
	s := newTestScheduler(t, Config{})
	src := volumeSource{
		vols: []store.TypeVolume{
			{Date: today, Type: emailsched.TypeBirthday, Emails: 9},
			{Date: today, Type: emailsched.TypeEffectiveDate, Emails: 2},
			{Date: today.AddDays(1), Type: emailsched.TypeEffectiveDate, Emails: 5},
			{Date: today.AddDays(9), Type: emailsched.TypeAEP, Emails: 1}, // outside: ignored
		},
		load: store.PlanLoad{Today: today, ValidContacts: 100}, hasLoad: true,
	}
	up, err := s.UpcomingAt(ctx, today, src, 2)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := up.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	// Cap ceil(7 % of 100) = 7, threshold 8, soft limit min(15, ceil(2.1)) = 3.
	want := `Emails the stored plan sends, 2025-03-03 to 2025-03-04
Daily cap 7, threshold 8, effective-date soft limit 3 (the plan of 2025-03-03, 100 valid contacts)

date          total  birthday  effective_date
2025-03-03      11*         9               2
2025-03-04       5          0              5+
* above the daily cap
+ more effective-date emails than the soft limit (smoothing moves them only to neighbouring days with room)
`
	if got := b.String(); got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
	up, _ = s.UpcomingAt(ctx, today, volumeSource{}, 1)
	b.Reset()
	_ = up.WriteText(&b)
	if !strings.Contains(b.String(), "Daily cap unknown") {
		t.Errorf("without a load:\n%s", b.String())
	}
}
