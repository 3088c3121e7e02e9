package loadbalance

import (
	"time"

	"github.com/emailsched/emailsched/datecalc"
)

// d is datecalc.MustNew shorthand for test tables.
func d(y int, m time.Month, day int) datecalc.Date { return datecalc.MustNew(y, m, day) }
