package policy

import (
	"fmt"
	"os"
	"runtime/metrics"
	"time"
)

// watchMemory exits the process with exitMemory when the memory it holds from the Go runtime
// grows by more than budget bytes from now, checked every 5 ms: the portable bound of a
// sandbox child (Linux adds a hard address-space limit). It returns a function that stops it.
func watchMemory(budget int64) func() {
	sample := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	held := func() int64 {
		metrics.Read(sample)
		return int64(sample[0].Value.Uint64()) - int64(sample[1].Value.Uint64())
	}
	base := held()
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if used := held() - base; used > budget {
				fmt.Fprintf(os.Stderr, "%s: %d MiB held, budget %d MiB\n", memoryMessage, used>>20, budget>>20)
				os.Exit(exitMemory)
			}
		}
	}()
	return func() { close(stop) }
}
