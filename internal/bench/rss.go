package bench

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// resetPeakRSS resets the kernel's record of this process's peak resident set (Linux: writing
// 5 to /proc/self/clear_refs), so that a later peakRSSMB(true) covers what came after.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSSMB returns the peak resident set of this process in MiB: since the last reset when
// sinceReset (VmHWM, Linux only), else over its whole life (getrusage).
func peakRSSMB(sinceReset bool) float64 {
	if sinceReset {
		f, err := os.Open("/proc/self/status")
		if err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
					kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
					if err == nil {
						return kb / 1024
					}
				}
			}
		}
	}
	return lifetimePeakRSSKB() / 1024
}
