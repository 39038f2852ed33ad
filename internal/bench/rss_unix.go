//go:build unix

package bench

import (
	"runtime"
	"syscall"
)

// lifetimePeakRSSKB is the peak resident set of this process over its whole life, in
// kilobytes (getrusage: kilobytes on Linux and the BSDs, bytes on macOS).
func lifetimePeakRSSKB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return float64(ru.Maxrss) / 1024
	}
	return float64(ru.Maxrss)
}
