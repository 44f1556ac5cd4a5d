package runtime

import (
	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/quant"
)

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

// q8ScoreBlock is the number of table rows scored against every hidden
// state of a batch before moving on: their int8 values (q8ScoreBlock·d bytes,
// 96 KiB for GPT-2) stay in L2 while the states pass over them, so the
// table streams from memory once per batch, not once per state.
const q8ScoreBlock = 128

func (t *q8Table) scores(dst, h []float32, n int, sc *quant.Scratch) {
	m := t.m
	if n == 1 {
		m.MatVec(dst, h[:m.Cols], sc)
		return
	}
	nb := m.Cols / kernels.Q8Block
	for v0 := 0; v0 < m.Rows; v0 += q8ScoreBlock {
		v1 := min(v0+q8ScoreBlock, m.Rows)
		block := quant.Matrix{Rows: v1 - v0, Cols: m.Cols, Q: m.Q[v0*m.Cols : v1*m.Cols], Scales: m.Scales[v0*nb : v1*nb]}
		for r := range n {
			// Quantizing the state again for each block costs d values
			// against q8ScoreBlock·d multiply-adds.
			block.MatVec(dst[r*m.Rows+v0:r*m.Rows+v1], h[r*m.Cols:(r+1)*m.Cols], sc)
		}
	}
}

func (t *q8Table) bytes() int { return len(t.m.Q) + 4*len(t.m.Scales) }
