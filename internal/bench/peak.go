package bench

// ResetPeakRSS resets the record of this process's peak resident set (Linux), so that
// PeakRSSMB measures what comes after; benchmarks outside this package use it.
func ResetPeakRSS() { resetPeakRSS() }

// PeakRSSMB is this process's peak resident set in MiB since ResetPeakRSS (Linux), else over its
// whole life.
func PeakRSSMB() float64 { return peakRSSMB(true) }
