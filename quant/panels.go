package quant

import (
	"fmt"

	"github.com/goformer/goformer/kernels"
)

// PanelMatrix is a Matrix packed once, at load, into the panels of
// kernels.Q8Panels, the layout the AVX-512 VNNI tier multiplies fastest
// (sixteen rows in the lanes of a register): the same values, the same
// products with activations quantized as Matrix quantizes them, each
// output the block chain of kernels.Q8Panels. MatMul's rows equal MatVec's
// bit for bit. Its rows are read back one at a time only for checks, so a
// token table stays a Matrix.
type PanelMatrix struct {
	P *kernels.Q8Panels
}

// PanelBytes is the length of the data Panels writes for m.
func (m *Matrix) PanelBytes() int { return kernels.Q8PanelBytes(m.Rows, m.Cols) }

// Panels returns m packed into panels, written into data (length
// PanelBytes; nil: a new allocation). Only where the active tier
// multiplies that form faster (kernels.PrefersQ8Panels) is it worth it:
// elsewhere its products run the Go twin.
func (m *Matrix) Panels(data []byte) *PanelMatrix {
	return &PanelMatrix{P: kernels.PackQ8Panels(data, m.Q, m.Scales, m.Rows, m.Cols)}
}

// Shape is the matrix's rows and columns.
func (m *PanelMatrix) Shape() (rows, cols int) { return m.P.Rows, m.P.Cols }

// WeightType is kernels.Q8_0: the values are Matrix's.
func (m *PanelMatrix) WeightType() kernels.WeightType { return kernels.Q8_0 }

// Bytes is the size of the packed values and scales (the last panel's
// padding included): what a product reads.
func (m *PanelMatrix) Bytes() int { return m.P.Bytes() }

// Row writes row i, dequantized, into dst[:Cols], as Matrix.Row does.
func (m *PanelMatrix) Row(i int, dst []float32) { m.P.Row(i, dst) }

// MatVec computes y[:Rows] = M·x for x of length Cols, x quantized to int8
// blocks on the fly (kernels.Q8Quantize) as Matrix.MatVec quantizes it.
// x must be finite.
func (m *PanelMatrix) MatVec(y, x []float32, s *Scratch) {
	rows, cols := m.Shape()
	if len(x) != cols {
		panic(fmt.Sprintf("quant.PanelMatrix.MatVec: len(x) = %d, want %d columns", len(x), cols))
	}
	xq, xs := s.quantize8(x, 1, cols)
	m.P.MatVec(y[:rows], xq, xs, &s.panels)
}

// MatMul computes c[:rows*Rows] = A·Mᵀ + bias for the row-major rows×Cols
// matrix a, each row quantized as MatVec quantizes x: row i of c equals
// MatVec of row i of a (plus the bias) bit for bit. bias may be nil. s
// grows on the first call that needs it; a must be finite.
func (m *PanelMatrix) MatMul(c, a []float32, rows int, bias []float32, s *Scratch) {
	n, cols := m.Shape()
	if rows < 0 || len(a) != rows*cols {
		panic(fmt.Sprintf("quant.PanelMatrix.MatMul: len(a) = %d, want %d rows of %d columns", len(a), rows, cols))
	}
	if bias != nil && len(bias) != n {
		panic(fmt.Sprintf("quant.PanelMatrix.MatMul: len(bias) = %d, want %d", len(bias), n))
	}
	aq, as := s.quantize8(a, rows, cols)
	m.P.MatMul(c[:rows*n], aq, as, bias, rows, &s.panels)
}

// MatVecTwoPass computes y[:Rows] = M·x with two-pass activations (see
// twoPass).
func (m *PanelMatrix) MatVecTwoPass(y, x []float32, s *Scratch) {
	twoPass(y[:m.P.Rows], x, kernels.Q8_0, s, func(out, v []float32) { m.MatVec(out, v, s) })
}

// MatMulTwoPass computes c[:rows*Rows] = A·Mᵀ + bias with two-pass
// activations, each row bit for bit MatVecTwoPass of that row of a, then
// the bias.
func (m *PanelMatrix) MatMulTwoPass(c, a []float32, rows int, bias []float32, s *Scratch) {
	twoPassRows("quant.PanelMatrix.MatMulTwoPass", c, a, rows, m.P.Rows, bias, kernels.Q8_0, s, m.MatMul)
}
