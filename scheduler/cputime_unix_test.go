//go:build unix

package scheduler_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) of the process so far: benchmarks
// report it next to wall time because the development machine is shared.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
