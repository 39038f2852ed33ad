//go:build !unix

package bench

// lifetimePeakRSSKB is not measured outside Unix (no getrusage): 0.
func lifetimePeakRSSKB() float64 { return 0 }
