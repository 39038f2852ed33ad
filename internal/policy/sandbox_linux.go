//go:build linux

package policy

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// limitAddressSpace lets this process's address space grow by at most budget bytes from now
// (RLIMIT_AS): past it every allocation fails and the Go runtime exits with "out of memory",
// however fast a single built-in allocates. The size already mapped (the runtime's reservations,
// the binary) is counted from /proc/self/status.
func limitAddressSpace(budget int64) error {
	vm, err := vmSize()
	if err != nil {
		return err
	}
	lim := uint64(vm + budget)
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: lim, Max: lim})
}

// vmSize is the process's current address space in bytes.
func vmSize() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmSize %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmSize in /proc/self/status")
}
