package kernels

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// threads is the number of goroutines a parallel kernel uses; 0 until the
// first Threads or SetThreads.
var (
	threads     atomic.Int32
	defaultOnce sync.Once
	defaultN    int
)

// Threads reports how many goroutines (the caller's included) a large
// matrix product is split across: the value of SetThreads, by default the
// number of physical cores.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return DefaultThreads()
}

// SetThreads sets how many goroutines large kernels use, the caller's
// included; n ≤ 0 restores the default (DefaultThreads). 1 runs every kernel
// on the calling goroutine. Workers start lazily on the next parallel call.
// It may be called at any time; a kernel already running keeps its split.
func SetThreads(n int) {
	threads.Store(int32(max(0, min(n, maxThreads))))
}

// DefaultThreads is the number of physical cores, hyper-threads not
// counted: two threads of one core share its vector units, and the kernels
// keep those busy. It is read from /proc/cpuinfo on Linux and is
// runtime.NumCPU() elsewhere, never more than GOMAXPROCS.
func DefaultThreads() int {
	defaultOnce.Do(func() {
		defaultN = physicalCores()
		if defaultN <= 0 {
			defaultN = runtime.NumCPU()
		}
		defaultN = max(1, min(defaultN, runtime.GOMAXPROCS(0), maxThreads))
	})
	return defaultN
}

// physicalCores counts the distinct (physical id, core id) pairs of
// /proc/cpuinfo, or returns 0 when it cannot.
func physicalCores() int {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	return countCores(bufio.NewScanner(f))
}

func countCores(sc *bufio.Scanner) int {
	cores := map[[2]string]bool{}
	var phys, core string
	flush := func() {
		if core != "" {
			cores[[2]string{phys, core}] = true
		}
		phys, core = "", ""
	}
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			flush() // a blank line ends one processor's entry
			continue
		}
		switch strings.TrimSpace(key) {
		case "physical id":
			phys = strings.TrimSpace(val)
		case "core id":
			core = strings.TrimSpace(val)
		}
	}
	flush()
	if sc.Err() != nil {
		return 0
	}
	return len(cores)
}
