//go:build windows

package embeddb

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLock takes an exclusive lock on f (LockFileEx) without waiting; busy says another process
// holds it. Windows releases it when the process ends, as flock does on Unix.
func tryLock(f *os.File) (busy bool, err error) {
	ol := new(windows.Overlapped)
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	return errors.Is(err, windows.ERROR_LOCK_VIOLATION), err
}
