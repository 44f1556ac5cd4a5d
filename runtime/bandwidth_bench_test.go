package runtime

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/kernels"
)

// BenchmarkReadBandwidth measures the memory bandwidth a decode step is
// bound by: kernels.Dot of a 512 MiB buffer with itself (one stream, ten
// times the L3 of the machines we measure) on 1 and 2 threads, each thread
// reading its own contiguous half, from the Go heap (4 KiB pages where the
// kernel gives no huge pages unasked) and from memory advised to use huge
// pages, as the weights and KV caches are (hugePageFloats). Decode tokens/s can never exceed this GB/s
// divided by the bytes of weights a token reads.
func BenchmarkReadBandwidth(b *testing.B) {
	const size = 512 << 20
	n := size / 4
	buffers := map[string][]float32{"heap": make([]float32, n)}
	if hugePages {
		buffers["huge-pages"] = hugePageFloats(n)
	}
	for _, name := range []string{"heap", "huge-pages"} {
		buf := buffers[name]
		if buf == nil {
			continue
		}
		for i := range buf {
			buf[i] = float32(i%1000) * 1e-3
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", name, threads), func(b *testing.B) {
				kernels.SetThreads(threads)
				defer kernels.SetThreads(0)
				part := n / threads
				var sink [2]float32
				for b.Loop() {
					kernels.Parallel(threads, func(lo, hi int) {
						for p := lo; p < hi; p++ {
							s := buf[p*part : (p+1)*part]
							sink[p] = kernels.Dot(s, s)
						}
					})
				}
				b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()*1e-9, "GB/s")
			})
		}
	}
}
