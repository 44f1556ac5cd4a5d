package quant

import (
	"fmt"

	"github.com/goformer/goformer/kernels"
)

// Residual quantizes what m's int8 rounding took from w, the float32
// matrix m was quantized from (QuantizeMatrix(w, ...)), into int8 blocks
// again: m's value plus the residual's is w to about 1/250 of m's own
// rounding error (each block's error is at most half its step, and the
// residual splits that half step into 127 more). The second layer costs as
// much memory as m but is read only for the few rows a caller asks for
// (AddRow), so a product over every row keeps reading m alone.
func (m *Matrix) Residual(w []float32) *Matrix {
	if len(w) != m.Rows*m.Cols {
		panic(fmt.Sprintf("quant.Matrix.Residual: %d values for a %d×%d matrix", len(w), m.Rows, m.Cols))
	}
	r := newMatrix(m.Rows, m.Cols)
	nb := m.Cols / kernels.Q8Block
	diff := make([]float32, m.Cols)
	for i := range m.Rows {
		m.Row(i, diff)
		for c, v := range w[i*m.Cols : (i+1)*m.Cols] {
			diff[c] = v - diff[c]
		}
		kernels.Q8Quantize(r.Q[i*m.Cols:(i+1)*m.Cols], r.Scales[i*nb:(i+1)*nb], diff)
	}
	return r
}

// AddRow adds row i, dequantized, to dst[:Cols]: the second layer of a
// row Residual made. Each product is rounded to float32 before the sum, so
// the result does not depend on whether the platform fuses them.
func (m *Matrix) AddRow(i int, dst []float32) {
	if i < 0 || i >= m.Rows {
		panic(fmt.Sprintf("quant.Matrix.AddRow: row %d of %d", i, m.Rows))
	}
	q := m.Q[i*m.Cols : (i+1)*m.Cols]
	s := m.Scales[i*m.Cols/kernels.Q8Block : (i+1)*m.Cols/kernels.Q8Block]
	dst = dst[:m.Cols]
	for c, v := range q {
		dst[c] += float32(s[c/kernels.Q8Block] * float32(v))
	}
}
