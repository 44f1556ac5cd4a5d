package runtime

import (
	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/quant"
)

// quantTable is a token table of any quantized type (quantMatrix): the
// input lookup dequantizes one row (as ggml does, for a GGUF block type),
// and the output scores quantize the hidden state on the fly and run the
// type's products against every row. One matrix serves both sides of a
// tied model.
type quantTable struct {
	m quantMatrix
	// residual is, for an int8 table goformer quantized itself from fp32
	// rows (newQ8Table), what that rounding took from each row, in int8
	// again (quant.Matrix.Residual): m plus residual is the fp32 table to
	// ~1/250 of m's error. The lookup adds it, and scores re-scores the
	// best candidates with it; the product over every row reads m alone,
	// so a decode step reads the same bytes. nil for a checkpoint's own
	// blocks, whose rows are the weights.
	residual *quant.Matrix
	// twoPass multiplies a block type's rows by two-pass activations
	// (TwoPassActivations); int8 rows always take int16 ones.
	twoPass bool
}

// rescored is how many of a state's highest int8 scores scores recomputes
// from the two layers. Measured on gpt2-mini and llama-mini (TestTiedInt8Logits):
// without it 6 of llama-mini's 307 greedy choices differ from the fp32
// table's (near-ties the rows' rounding reorders); with 4 or more none do.
const rescored = 8

// newQ8Table quantizes an fp32 [rows][d] table to int8 blocks and keeps
// their residual. d must be a multiple of 32.
func newQ8Table(w []float32, rows, d int) (*quantTable, error) {
	m, err := quant.QuantizeMatrix(w, rows, d)
	if err != nil {
		return nil, err
	}
	return &quantTable{m: m, residual: m.Residual(w)}, nil
}

func (t *quantTable) lookup(dst []float32, id int) {
	t.m.Row(id, dst)
	if t.residual != nil {
		t.residual.AddRow(id, dst)
	}
}

// scores runs one GEMV for a single state (a session's decode) and the
// GEMM for several (a batch's decode): it multiplies panels of the table
// that stay in L2 by every state, so the table streams from memory once
// per batch, not once per state, and each state's scores are the GEMV's
// bit for bit.
//
// An int8 table (quant.Matrix) multiplies int16 activations instead
// (MatVec16, MatMul16): the same bytes read, and the activations' rounding
// all but gone. What remains is the rows' own rounding, up to 2e-2 in
// log p on the fixtures: with a residual, each state's rescored (8)
// highest scores are recomputed in fp32 from both layers, so greedy
// choices and the likeliest tokens' log-probs carry ~1/250 of it (a token
// sampled from further down, or a ninth top log-prob, keeps the first
// layer's score; Score rescores every token it scores).
func (t *quantTable) scores(dst, h []float32, n int, sc *scratch) {
	rows, d := t.m.Shape()
	if q, ok := t.m.(*quant.Matrix); ok {
		if n == 1 {
			q.MatVec16(dst, h[:d], sc.q)
		} else {
			q.MatMul16(dst[:n*rows], h[:n*d], n, sc.q)
		}
		t.rescoreHighest(dst, h, n, sc)
		return
	}
	switch {
	case n == 1 && t.twoPass:
		t.m.MatVecTwoPass(dst, h[:d], sc.q)
	case n == 1:
		t.m.MatVec(dst, h[:d], sc.q)
	case t.twoPass:
		t.m.MatMulTwoPass(dst[:n*rows], h[:n*d], n, nil, sc.q)
	default:
		t.m.MatMul(dst[:n*rows], h[:n*d], n, nil, sc.q)
	}
}

// rescoreHighest recomputes the rescored highest scores of each of the n
// states from both layers of their rows, where the table has a residual.
func (t *quantTable) rescoreHighest(dst, h []float32, n int, sc *scratch) {
	if t.residual == nil {
		return
	}
	rows, d := t.m.Shape()
	for r := range n {
		s, x := dst[r*rows:(r+1)*rows], h[r*d:(r+1)*d]
		var top [rescored]int32
		for _, v := range top[:highest(top[:], s)] {
			t.rescore(s, x, int(v), sc)
		}
	}
}

// rescore recomputes dst[id], the score of the state h against row id,
// in fp32 from both layers of the row; without a residual it leaves it.
func (t *quantTable) rescore(dst, h []float32, id int, sc *scratch) {
	if t.residual == nil {
		return
	}
	row := sc.row[:len(h)]
	t.lookup(row, id)
	dst[id] = kernels.Dot(row, h)
}

func (t *quantTable) bytes() int { return t.m.Bytes() }

// highest writes into top the indices of the len(top) largest values of s
// (all of them if s is shorter), largest first, the lower index first
// among equals, and returns how many it wrote; NaNs are passed over. One
// pass with no buffer the size of s, in which nearly every value costs one
// comparison with the smallest kept: 0.7 ns a value on a Zen 3 core
// (BenchmarkHighest), 36 µs for GPT-2's vocabulary against the 1.7 ms of
// its int8 logits GEMV.
func highest(top []int32, s []float32) int {
	n, i := 0, 0
	for ; i < len(s) && n < len(top); i++ {
		if v := s[i]; v == v {
			insertTop(top, n, s, i)
			n++
		}
	}
	if n < len(top) {
		return n
	}
	last := len(top) - 1
	floor := s[top[last]]
	for ; i < len(s); i++ {
		if v := s[i]; v > floor {
			insertTop(top, last, s, i)
			floor = s[top[last]]
		}
	}
	return n
}

// insertTop puts index i into top[:j+1], sorted by s descending, moving the
// smaller entries of top[:j] down one (top[j] is dropped).
func insertTop(top []int32, j int, s []float32, i int) {
	v := s[i]
	for j > 0 && v > s[top[j-1]] {
		top[j] = top[j-1]
		j--
	}
	top[j] = int32(i)
}
