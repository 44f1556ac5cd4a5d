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

func (t *q8Table) scores(dst, h []float32, sc *quant.Scratch) { t.m.MatVec(dst, h, sc) }

func (t *q8Table) bytes() int { return len(t.m.Q) + 4*len(t.m.Scales) }
