package storetest_test

import (
	"fmt"

	"github.com/emailsched/emailsched/store/demodata"
)

func ExampleGenerate() {
	for _, c := range demodata.Generate(demodata.GenOptions{Seed: 1, Contacts: 3}) {
		fmt.Println(c.ID, c.State, c.ZIP, c.Birthday, c.EffectiveDate, len(c.History))
	}
	// Output:
	// 1 TX 76475 1941-08-17 2011-03-01 0
	// 2  14629 1961-03-15 2022-05-01 0
	// 3 IN 47860-5814 1946-02-19 2010-10-23 0
}

// GenerateSeq streams contacts from one reused buffer: millions of them
// cost no more memory than one.
func ExampleGenerateSeq() {
	n, history := 0, 0
	for c := range demodata.GenerateSeq(demodata.GenOptions{Seed: 1, Contacts: 10_000}) {
		n++
		if len(c.History) > 0 {
			history++
		}
	}
	fmt.Println(n, "contacts,", history, "with history")
	// Output:
	// 10000 contacts, 3008 with history
}

func ExampleDemoCampaigns() {
	today := demodata.DefaultToday
	c := demodata.DemoCampaigns(today)
	for _, in := range c.Instances {
		fmt.Println(in.ID, in.Type, in.Name, in.ActiveOn(today))
	}
	// Output:
	// 1 rate_increase Rate increase 2025 true
	// 2 rate_increase Humana rate increase true
	// 3 regulatory_notice Privacy notice false
	// 4 promotion Spring review true
	// 5 promotion Winter review false
}
