//go:build race

package policy

// raceEnabled: the race detector maps terabytes of shadow memory, which an address-space
// limit forbids; a race build's sandbox relies on its memory watchdog alone.
const raceEnabled = true
