//go:build unix

package bench

import "syscall"

// lifetimePeakRSSKB is the peak resident set of this process over its whole life, in
// kilobytes (getrusage; kilobytes on Linux).
func lifetimePeakRSSKB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss)
}
