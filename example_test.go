package emailsched_test

import (
	"fmt"
	"time"

	"github.com/emailsched/emailsched"
	"github.com/emailsched/emailsched/datecalc"
)

func ExampleParseState() {
	s, ok := emailsched.ParseState(" ca ")
	fmt.Println(s, ok)
	_, ok = emailsched.ParseState("CAL")
	fmt.Println(ok)
	// Output:
	// CA true
	// false
}

func ExampleMustState() {
	fmt.Println(emailsched.MustState("ny").Valid(), emailsched.NoState.Valid())
	// Output: true false
}

func ExampleParseEmailType() {
	// History rows written by older systems use upper-case names.
	for _, stored := range []string{"birthday", "BIRTHDAY", "POST_WINDOW_EFFECTIVE_DATE", "SCHEDULED_RATE_INCREASE", "campaign_spring_2025"} {
		t, err := emailsched.ParseEmailType(stored)
		fmt.Println(t, err)
	}
	_, err := emailsched.ParseEmailType("newsletter")
	fmt.Println(err)
	// Output:
	// birthday <nil>
	// birthday <nil>
	// post_window <nil>
	// campaign_rate_increase <nil>
	// campaign_spring_2025 <nil>
	// emailsched: invalid email type "newsletter"
}

func ExampleCampaignEmailType() {
	t, err := emailsched.CampaignEmailType("rate_increase")
	fmt.Println(t, err)
	name, ok := t.Campaign()
	fmt.Println(name, ok)
	_, err = emailsched.CampaignEmailType("Rate Increase")
	fmt.Println(err)
	// Output:
	// campaign_rate_increase <nil>
	// rate_increase true
	// emailsched: invalid email type: campaign type name "Rate Increase" must be 1-64 of a-z, 0-9, _ and start with a letter
}

func ExampleParseStatus() {
	s, ok := emailsched.ParseStatus(" Delivered ")
	fmt.Printf("%q %v\n", s, ok)
	_, ok = emailsched.ParseStatus("")
	fmt.Println(ok)
	// Output:
	// "delivered" true
	// false
}

func ExampleStatus_Committed() {
	for _, s := range []emailsched.Status{
		emailsched.StatusPreScheduled, emailsched.StatusSkipped,
		emailsched.StatusScheduled, emailsched.StatusSent, "failed",
	} {
		fmt.Printf("%-13s planned=%-5v committed=%v\n", s, s.IsPlanned(), s.Committed())
	}
	// Output:
	// pre-scheduled planned=true  committed=false
	// skipped       planned=true  committed=false
	// scheduled     planned=false committed=true
	// sent          planned=false committed=true
	// failed        planned=false committed=false
}

func ExampleExclusionReason() {
	r := emailsched.ExclusionReason(emailsched.MustState("CA"), "birthday")
	fmt.Println(r)
	fmt.Println(r.Kind())
	fmt.Println(emailsched.YearRoundReason(emailsched.MustState("NY")))
	// Output:
	// exclusion_window:CA:birthday
	// exclusion_window
	// year_round:NY
}

func ExampleEmail_SameContent() {
	a := emailsched.Email{ID: 1, ContactID: 42, Type: emailsched.TypeBirthday,
		Date: datecalc.MustNew(2025, time.March, 3), Status: emailsched.StatusPreScheduled, RunID: "run-1"}
	b := a
	b.ID, b.RunID = 0, "run-2" // not stored content
	fmt.Println(a.SameContent(&b))
	b.Date = b.Date.AddDays(1)
	fmt.Println(a.SameContent(&b))
	// Output:
	// true
	// false
}

func ExampleCampaignInstance_ActiveOn() {
	ci := emailsched.CampaignInstance{Start: datecalc.MustNew(2025, time.March, 1)} // no end
	fmt.Println(ci.ActiveOn(datecalc.MustNew(2025, time.February, 28)))
	fmt.Println(ci.ActiveOn(datecalc.MustNew(2025, time.March, 1)))
	fmt.Println(ci.ActiveOn(datecalc.MustNew(2030, time.January, 1)))
	// Output:
	// false
	// true
	// true
}
