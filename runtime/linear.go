package runtime

import (
	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/quant"
)

// A linear is a layer's weight matrix W, [out][in], in whatever form the
// checkpoint keeps it. apply computes, for t rows of x,
//
//	for i := range t {
//		for o := range out {
//			y[i*out+o] = bias[o] + Σ_k x[i*in+k]·W[o][k]
//		}
//	}
//
// bias may be nil. The forward pass calls apply at every matrix, so adding
// a weight type is adding a linear.
type linear interface {
	apply(y, x, bias []float32, t int, sc *quant.Scratch)
	bytes() int
}

// f32Linear is an fp32 matrix: one kernels.MatMul for all t rows.
type f32Linear struct {
	w       []float32
	out, in int
}

func (l *f32Linear) apply(y, x, bias []float32, t int, _ *quant.Scratch) {
	kernels.MatMul(y[:t*l.out], x[:t*l.in], l.w, bias, t, l.in, l.out)
}

func (l *f32Linear) bytes() int { return 4 * len(l.w) }

// q8Linear is an int8 block matrix (GGUF Q8_0). Each row of x is quantized
// to int8 blocks, as llama.cpp does for Q8_0 weights, then multiplied: one
// GEMV for a single row (decode), one int8 GEMM (quant.Matrix.MatMul) for
// several, whose rows equal the GEMV's bit for bit, so a token's result
// does not depend on how many rows its pass has.
type q8Linear struct{ m *quant.Matrix }

func (l *q8Linear) apply(y, x, bias []float32, t int, sc *quant.Scratch) {
	out, in := l.m.Rows, l.m.Cols
	if t > 1 {
		l.m.MatMul(y[:t*out], x[:t*in], t, bias, sc)
		return
	}
	for i := range t {
		row := y[i*out : (i+1)*out]
		l.m.MatVec(row, x[i*in:(i+1)*in], sc)
		if bias != nil {
			kernels.Add(row, row, bias)
		}
	}
}

func (l *q8Linear) bytes() int { return len(l.m.Q) + 4*len(l.m.Scales) }

// layerLinears are one block's matrices in run-time form, with the biases
// that go with them. The query, key and value matrices are one fused
// linear, [q | k | v] rows, and a SwiGLU MLP's gate and up are another,
// [gate | up]: one kernel call each instead of three and two, and each
// output element is computed exactly as its part alone would be
// (TestFusedLinearsMatchTheirParts).
type layerLinears struct {
	qkv     linear    // [n_head·hd + 2·n_kv_head·hd][d]
	qkvBias []float32 // nil without biases
	out     linear    // [d][n_head·hd]
	up      linear    // GELU: [d_ff][d]; SwiGLU: [gate | up], [2·d_ff][d]
	upBias  []float32
	down    linear // [d][d_ff]
}
