package dsl_test

import (
	"testing"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
	"github.com/emailsched/emailsched/dsl"
	"github.com/emailsched/emailsched/rules"
)

// BenchmarkApplyConditional measures applying a rule that depends on the
// contact: one evaluation of "contact.age >= 76 ? year_round() :
// no_exclusion()" per contact.
func BenchmarkApplyConditional(b *testing.B) {
	set, err := dsl.Load("b.rules", []byte("FL: contact.age >= 76 ? year_round() : no_exclusion()\n"))
	if err != nil {
		b.Fatal(err)
	}
	fl := emailsched.MustState("FL")
	today := datecalc.MustNew(2025, 6, 1)
	c := &emailsched.Contact{ID: 1, Birthday: datecalc.MustNew(1945, 3, 10)}
	b.ReportAllocs()
	for b.Loop() {
		a := set.Apply(c, fl, today)
		if a.Err() != nil {
			b.Fatal(a.Err())
		}
	}
}

// BenchmarkApplyDefault compares the embedded default rules (all static)
// with the Go-built rules.Default: Apply and one Excluded per contact, as
// the scheduler does. They should cost the same.
func BenchmarkApplyDefault(b *testing.B) {
	ca := emailsched.MustState("CA")
	today := datecalc.MustNew(2025, 6, 1)
	c := &emailsched.Contact{ID: 1, Birthday: datecalc.MustNew(1945, 3, 10)}
	for _, bb := range []struct {
		name string
		set  *rules.Set
	}{{"dsl", dsl.Default()}, {"go", rules.Default()}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a := bb.set.Apply(c, ca, today)
				a.Excluded(today)
			}
		})
	}
}

// BenchmarkApplyConditionalParallel evaluates from every P at once, so the
// VM pool is exercised.
func BenchmarkApplyConditionalParallel(b *testing.B) {
	set, err := dsl.Load("b.rules", []byte("FL: contact.age >= 76 ? year_round() : no_exclusion()\n"))
	if err != nil {
		b.Fatal(err)
	}
	fl := emailsched.MustState("FL")
	today := datecalc.MustNew(2025, 6, 1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c := &emailsched.Contact{ID: 1, Birthday: datecalc.MustNew(1945, 3, 10)}
		for pb.Next() {
			set.Apply(c, fl, today)
		}
	})
}

func BenchmarkLoadDefault(b *testing.B) {
	src := []byte("CA: birthday_window(30, 60)\nNV: birthday_window(0, 60).from_month_start()\nFL: contact.age >= 76 ? year_round() : no_exclusion()\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dsl.Load("b.rules", src); err != nil {
			b.Fatal(err)
		}
	}
}
