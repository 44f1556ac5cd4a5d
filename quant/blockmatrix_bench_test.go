package quant

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
)

// BenchmarkQuantMatVec measures the blocked GEMV on one thread, every type
// on every tier: GB/s is the weight bytes a decode step streams (x and y
// stay in L1), GOP/s counts a multiply and an add per weight. The
// activations are quantized once, outside the loop.
func BenchmarkQuantMatVec(b *testing.B) {
	saved := kernels.ISA()
	defer func() { _ = kernels.SetISA(saved) }()
	defer kernels.SetThreads(0)
	kernels.SetThreads(1)
	for _, typ := range benchTypes() {
		f := FormatOf(typ.Plain())
		for _, isa := range kernels.ISAs() {
			for _, s := range [][2]int{{4096, 4096}, {1024, 4096}} {
				rows, cols := s[0], s[1]
				w := benchBlocks(f, typ, rows, cols)
				x := quantizeFor(typ, testkit.RandF32(2, cols, 1), 1)
				y := make([]float32, rows)
				b.Run(fmt.Sprintf("%s/%s/%dx%d", typ, isa, rows, cols), func(b *testing.B) {
					if err := kernels.SetISA(isa); err != nil {
						b.Fatal(err)
					}
					for b.Loop() {
						kernels.QuantMatVec(typ, y, w, x.q, x.s, x.sum, cols, rows)
					}
					sec := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(float64(len(w))/sec/1e9, "GB/s")
					b.ReportMetric(2*float64(rows*cols)/sec/1e9, "GOP/s")
				})
			}
		}
	}
}

// BenchmarkQuantMatMul measures the blocked GEMM of a 64-token prefill on
// one thread.
func BenchmarkQuantMatMul(b *testing.B) {
	saved := kernels.ISA()
	defer func() { _ = kernels.SetISA(saved) }()
	defer kernels.SetThreads(0)
	kernels.SetThreads(1)
	for _, typ := range benchTypes() {
		f := FormatOf(typ.Plain())
		for _, isa := range kernels.ISAs() {
			const m, rows, cols = 64, 1024, 4096
			w := benchBlocks(f, typ, rows, cols)
			a := quantizeFor(typ, testkit.RandF32(2, m*cols, 1), m)
			c := make([]float32, m*rows)
			b.Run(fmt.Sprintf("%s/%s/%dx%dx%d", typ, isa, m, rows, cols), func(b *testing.B) {
				if err := kernels.SetISA(isa); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					kernels.QuantMatMul(typ, c, a.q, a.s, a.sum, w, nil, m, cols, rows)
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(m*rows*cols)/sec/1e9, "GOP/s")
			})
		}
	}
}

// benchTypes are the blocked types in ggml order, then the interleaved
// forms of Q4_0 and Q5_0.
func benchTypes() []kernels.WeightType {
	var ts []kernels.WeightType
	for _, f := range blockedFormats() {
		ts = append(ts, f.Type)
	}
	return append(ts, kernels.Q4_0x8, kernels.Q5_0x8)
}

// benchBlocks is a random rows×cols matrix of typ (of f's blocks,
// interleaved if typ is).
func benchBlocks(f *BlockFormat, typ kernels.WeightType, rows, cols int) []byte {
	w := randomBlocks(f, rows*cols/f.BlockLen(), 1)
	if typ.Plain() == typ {
		return w
	}
	iw := make([]byte, len(w))
	kernels.InterleaveRows(typ.Plain(), iw, w, cols, rows)
	return iw
}
