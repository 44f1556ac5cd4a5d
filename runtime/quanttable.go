package runtime

import "github.com/goformer/goformer/quant"

// quantTable is a token table of any quantized type (quantMatrix): the
// input lookup dequantizes one row (as ggml does, for a GGUF block type),
// and the output scores quantize the hidden state on the fly and run the
// type's products against every row. One matrix serves both sides of a
// tied model.
type quantTable struct{ m quantMatrix }

// newQ8Table quantizes an fp32 [rows][d] table to int8 blocks. d must be
// a multiple of 32.
func newQ8Table(w []float32, rows, d int) (*quantTable, error) {
	m, err := quant.QuantizeMatrix(w, rows, d)
	if err != nil {
		return nil, err
	}
	return &quantTable{m: m}, nil
}

func (t *quantTable) lookup(dst []float32, id int) { t.m.Row(id, dst) }

// scores runs one GEMV for a single state (a session's decode) and the
// GEMM for several (a batch's decode): it multiplies panels of the table
// that stay in L2 by every state, so the table streams from memory once
// per batch, not once per state, and each state's scores are the GEMV's
// bit for bit.
//
// An int8 table (quant.Matrix) multiplies int16 activations instead
// (MatVec16, MatMul16): the same bytes read, and the per-prompt perplexity
// within 0.3% of the fp32 table's where int8 activations moved it by up to
// 0.8% (TestTiedInt8Logits).
func (t *quantTable) scores(dst, h []float32, n int, sc *scratch) {
	rows, d := t.m.Shape()
	if q, ok := t.m.(*quant.Matrix); ok {
		if n == 1 {
			q.MatVec16(dst, h[:d], sc.q)
		} else {
			q.MatMul16(dst[:n*rows], h[:n*d], n, sc.q)
		}
		return
	}
	if n == 1 {
		t.m.MatVec(dst, h[:d], sc.q)
		return
	}
	t.m.MatMul(dst[:n*rows], h[:n*d], n, nil, sc.q)
}

func (t *quantTable) bytes() int { return t.m.Bytes() }
