package kernels

import (
	"fmt"
	"github.com/goformer/goformer/internal/testkit"
	"testing"
)

// oneThread runs the rest of a benchmark on one thread, so that the
// per-kernel benchmarks keep measuring a single core (BenchmarkParallel
// measures the split).
func oneThread(b *testing.B) {
	saved := threads.Load()
	SetThreads(1)
	b.Cleanup(func() { threads.Store(saved) })
}

// BenchmarkParallel runs the split kernels on the best tier with 1 and 2
// threads: GOP/s counts 2·M·K·N operations per call, and the 2-thread run
// reports its speed-up over the 1-thread run just before it.
func BenchmarkParallel(b *testing.B) {
	savedThreads := threads.Load()
	defer threads.Store(savedThreads)
	type kernel struct {
		name    string
		m, k, n int
		run     func()
	}
	var ks []kernel
	for _, s := range []mmShape{{1, 768, 3072}, {1, 768, 50257}, {512, 768, 3072}} {
		a, w, bias := testkit.RandF32(1, s.m*s.k, 1), testkit.RandF32(2, s.n*s.k, 1), testkit.RandF32(3, s.n, 1)
		c := make([]float32, s.m*s.n)
		ks = append(ks, kernel{"MatMul", s.m, s.k, s.n, func() { MatMul(c, a, w, bias, s.m, s.k, s.n) }})
	}
	for _, s := range []q8MMShape{{1, 768, 3072}, {1, 768, 50257}} {
		aq, as, wq, ws, _ := q8MatMulInputs(1, s)
		y := make([]float32, s.n)
		ks = append(ks, kernel{"Q8MatVec", 1, s.k, s.n, func() { Q8MatVec(y, wq, ws, aq, as, s.k, s.n) }})
	}
	for _, s := range []q8MMShape{{512, 768, 2304}, {512, 768, 3072}, {512, 3072, 768}} {
		aq, as, wq, ws, bias := q8MatMulInputs(2, s)
		c := make([]float32, s.m*s.n)
		ks = append(ks, kernel{"Q8MatMul", s.m, s.k, s.n, func() { Q8MatMul(c, aq, as, wq, ws, bias, s.m, s.k, s.n) }})
	}
	for _, kn := range ks {
		var oneThread float64 // seconds per call on one thread
		for _, n := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/%s/%dx%dx%d/threads=%d", ISA(), kn.name, kn.m, kn.k, kn.n, n), func(b *testing.B) {
				SetThreads(n)
				kn.run() // start workers, fill scratch pools
				b.ResetTimer()
				for b.Loop() {
					kn.run()
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(kn.m*kn.k*kn.n)/sec/1e9, "GOP/s")
				if n == 1 {
					oneThread = sec
				} else if oneThread > 0 {
					b.ReportMetric(oneThread/sec, "speedup")
				}
			})
		}
	}
}
