package runtime

import "github.com/goformer/goformer/quant"

// q8Table is a token table kept as int8 blocks of 32 with a float32 scale
// each (quant.Matrix): the input lookup dequantizes one row, and the output
// scores quantize the hidden state on the fly and run int8 dot products
// against every row. One matrix serves both sides of a tied model.
type q8Table struct{ m *quant.Matrix }

// newQ8Table quantizes an fp32 [rows][d] table. d must be a multiple of 32.
func newQ8Table(w []float32, rows, d int) (*q8Table, error) {
	m, err := quant.QuantizeMatrix(w, rows, d)
	if err != nil {
		return nil, err
	}
	return &q8Table{m: m}, nil
}

func (t *q8Table) lookup(dst []float32, id int) { t.m.Row(id, dst) }

// scores runs one GEMV for a single state (a session's decode) and the
// int8 GEMM for several (a batch's decode): it multiplies panels of the
// table that stay in L2 by every state, so the table streams from memory
// once per batch, not once per state, and each state's scores are the
// GEMV's bit for bit.
func (t *q8Table) scores(dst, h []float32, n int, sc *scratch) {
	m := t.m
	if n == 1 {
		m.MatVec(dst, h[:m.Cols], sc.q)
		return
	}
	m.MatMul(dst[:n*m.Rows], h[:n*m.Cols], n, nil, sc.q)
}

func (t *q8Table) bytes() int { return len(t.m.Q) + 4*len(t.m.Scales) }

// blockTable is a token table of GGUF blocks (any blocked type): the
// lookup dequantizes one row as ggml does, the scores are the type's GEMV
// (or GEMM, for several states), as for a blockLinear.
type blockTable struct{ m *quant.BlockMatrix }

func (t *blockTable) lookup(dst []float32, id int) { t.m.Row(id, dst) }

func (t *blockTable) scores(dst, h []float32, n int, sc *scratch) {
	m := t.m
	if n == 1 {
		m.MatVec(dst, h[:m.Cols], sc.q)
		return
	}
	m.MatMul(dst[:n*m.Rows], h[:n*m.Cols], n, nil, sc.q)
}

func (t *blockTable) bytes() int { return t.m.Bytes() }
