package kernels

import (
	"fmt"
	"github.com/goformer/goformer/internal/testkit"
	"testing"
)

// The row-kernel benchmarks report GB/s of the memory traffic each kernel
// really makes per call, every pass counted, so the figure compares directly
// with the machine's L1/L2 read bandwidth (/work/shared/TOOLCHAIN.md):
//
//	Softmax    5·4n bytes: max pass reads x, exp pass reads and writes x, scale pass reads and writes x
//	LayerNorm  6·4d bytes for one row: mean and variance passes read x, the last reads x, gain, bias and writes out
//	GELU       2·4n bytes: reads x, writes out
//	SwiGLU     3·4n bytes: reads gate and up, writes out
//	Dot        2·4n bytes: reads a and b
//	RoPE       4·4n bytes: reads x, cos and sin, writes x

// benchTiers runs bench once per tier and size as {tier}/{n}, reporting
// bytesPerOp(n)·N/elapsed as GB/s. setup returns the kernel call for size n.
func benchTiers(b *testing.B, sizes []int, bytesPerOp func(n int) int, setup func(n int) func()) {
	saved := active
	defer func() { active = saved }()
	for _, tier := range tiers {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/%d", tier.name, n), func(b *testing.B) {
				active = tier
				call := setup(n)
				for b.Loop() {
					call()
				}
				b.ReportMetric(float64(bytesPerOp(n))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

var rowSizes = []int{768, 3072, 50257}

func BenchmarkSoftmax(b *testing.B) {
	benchTiers(b, rowSizes, func(n int) int { return 5 * 4 * n }, func(n int) func() {
		// Softmax of a distribution is again one, with no subnormals: the
		// input can be reused across iterations.
		x := testkit.RandF32(1, n, 8)
		return func() { Softmax(x) }
	})
}

func BenchmarkLayerNorm(b *testing.B) {
	benchTiers(b, rowSizes, func(n int) int { return 6 * 4 * n }, func(n int) func() {
		x, gain, bias := testkit.RandF32(2, n, 3), testkit.RandF32(3, n, 1), testkit.RandF32(4, n, 1)
		out := make([]float32, n)
		return func() { LayerNorm(out, x, gain, bias, 1e-5) }
	})
}

func BenchmarkGELU(b *testing.B) {
	benchTiers(b, []int{3072}, func(n int) int { return 2 * 4 * n }, func(n int) func() {
		x, out := testkit.RandF32(5, n, 4), make([]float32, n)
		return func() { GELU(out, x) }
	})
}

// BenchmarkSwiGLU runs two MLP widths: GPT-2's 3072, as GELU, and 8192 (Llama 3.2 1B).
func BenchmarkSwiGLU(b *testing.B) {
	benchTiers(b, []int{3072, 8192}, func(n int) int { return 3 * 4 * n }, func(n int) func() {
		gate, up, out := testkit.RandF32(9, n, 4), testkit.RandF32(10, n, 2), make([]float32, n)
		return func() { SwiGLU(out, gate, up) }
	})
}

var dotSink float32

func BenchmarkDot(b *testing.B) {
	benchTiers(b, []int{3072}, func(n int) int { return 2 * 4 * n }, func(n int) func() {
		x, y := testkit.RandF32(6, n, 1), testkit.RandF32(7, n, 1)
		return func() { dotSink = Dot(x, y) }
	})
}

// BenchmarkRoPE rotates one head of 64 and one of 128 (the usual head
// dimensions), rotation tables at a large position.
func BenchmarkRoPE(b *testing.B) {
	for _, interleaved := range []bool{false, true} {
		b.Run(fmt.Sprintf("interleaved=%v", interleaved), func(b *testing.B) {
			benchTiers(b, []int{64, 128}, func(n int) int { return 4 * 4 * n }, func(n int) func() {
				// A rotation keeps x's norm: the input can be reused.
				x, cos, sin := testkit.RandF32(8, n, 1), make([]float32, n), make([]float32, n)
				RoPETable(cos, sin, 100_000, RoPEFrequencies(10000, len(cos)), interleaved)
				return func() { RoPE(x, cos, sin, interleaved) }
			})
		})
	}
}
