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
	apply(y, x, bias []float32, t int, sc *scratch)
	bytes() int
}

// scratch is the working memory a pass lends its linears and its output
// head, allocated once per Session or Batch (the model is shared).
type scratch struct {
	q *quant.Scratch // the activation rows quantized for int8 and blocked matrices
	// parts holds a stackedLinear's part outputs for several rows,
	// [rows][widest part]; nil when the model has no stacked linear.
	parts []float32
	// row holds the token table row quantTable.rescore scores (cols ≥ d).
	row []float32
}

// newScratch sizes a scratch for passes of up to rows rows whose linears
// read at most cols values and whose stacked parts have at most part rows.
func newScratch(rows, cols, part int) scratch {
	return scratch{q: quant.NewScratchRows(rows, cols), parts: make([]float32, rows*part), row: make([]float32, cols)}
}

// f32Linear is an fp32 matrix packed at load into the GEMM's panels: one
// kernels.Panels product for all t rows, whose rows equal a single row's
// bit for bit.
type f32Linear struct{ p *kernels.Panels }

func (l *f32Linear) apply(y, x, bias []float32, t int, _ *scratch) {
	l.p.MatMul(y[:t*l.p.Rows], x[:t*l.p.Cols], t, bias)
}

func (l *f32Linear) bytes() int { return l.p.Bytes() }

// quantMatrix is a matrix the quantized kernels multiply: int8 blocks
// (quant.Matrix, GGUF's Q8_0 or goformer's own int8 weights) or a GGUF
// block type kept as the file stores it (quant.BlockMatrix). Each row of
// x is quantized on the fly to the int8 form the type multiplies (Q8_0
// blocks of 32 for the types of 32, Q8_K blocks of 256 for the K-quants),
// as llama.cpp does; MatMul's rows equal MatVec's bit for bit.
type quantMatrix interface {
	Shape() (rows, cols int)
	WeightType() kernels.WeightType
	Bytes() int
	Row(i int, dst []float32)
	MatVec(y, x []float32, s *quant.Scratch)
	MatMul(c, a []float32, rows int, bias []float32, s *quant.Scratch)
	// The same with two-pass activations (TwoPassActivations).
	MatVecTwoPass(y, x []float32, s *quant.Scratch)
	MatMulTwoPass(c, a []float32, rows int, bias []float32, s *quant.Scratch)
}

// quantLinear is a quantized matrix of any type: one GEMV for a single row
// (decode), one GEMM for several, so a token's result does not depend on
// how many rows its pass has. twoPass multiplies the activations' residual
// too (TwoPassActivations).
type quantLinear struct {
	m       quantMatrix
	twoPass bool
}

func (l *quantLinear) apply(y, x, bias []float32, t int, sc *scratch) {
	out, in := l.m.Shape()
	switch {
	case t > 1 && l.twoPass:
		l.m.MatMulTwoPass(y[:t*out], x[:t*in], t, bias, sc.q)
		return
	case t > 1:
		l.m.MatMul(y[:t*out], x[:t*in], t, bias, sc.q)
		return
	case l.twoPass:
		l.m.MatVecTwoPass(y[:out], x[:in], sc.q)
	default:
		l.m.MatVec(y[:out], x[:in], sc.q)
	}
	if bias != nil {
		kernels.Add(y[:out], y[:out], bias)
	}
}

func (l *quantLinear) bytes() int { return l.m.Bytes() }

// stackedLinear is matrices of one width but different types stacked by
// rows, [part 0 | part 1 | …]: a fused query/key/value whose value matrix
// a Q4_K_M file keeps in Q6_K, say. Each part computes its own rows as it
// would alone; several rows of x go through one GEMM per part into the
// scratch, then into place.
type stackedLinear struct {
	parts []linear
	rows  []int // each part's output rows
	out   int   // their sum
}

func (l *stackedLinear) apply(y, x, bias []float32, t int, sc *scratch) {
	off := 0
	for p, part := range l.parts {
		r := l.rows[p]
		var b []float32
		if bias != nil {
			b = bias[off : off+r]
		}
		if t == 1 {
			part.apply(y[off:off+r], x, b, 1, sc)
		} else {
			tmp := sc.parts[:t*r]
			part.apply(tmp, x, b, t, sc)
			for i := range t {
				copy(y[i*l.out+off:i*l.out+off+r], tmp[i*r:(i+1)*r])
			}
		}
		off += r
	}
}

func (l *stackedLinear) bytes() int {
	n := 0
	for _, p := range l.parts {
		n += p.bytes()
	}
	return n
}

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
