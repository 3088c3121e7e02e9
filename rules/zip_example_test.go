package rules_test

import (
	"fmt"

	"github.com/emailsched/emailsched/rules"
)

func ExampleStateFromZIP() {
	for _, zip := range []string{"90210", " 10001-0001 ", "969501234", "96799", "85128", "00100", "ABCDE"} {
		s, ok := rules.StateFromZIP(zip)
		fmt.Printf("%q %q %v\n", zip, s, ok)
	}
	// Output:
	// "90210" "CA" true
	// " 10001-0001 " "NY" true
	// "969501234" "MP" true
	// "96799" "AS" true
	// "85128" "AZ" true
	// "00100" "" false
	// "ABCDE" "" false
}
