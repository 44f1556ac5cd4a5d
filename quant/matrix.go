package quant

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/kernels"
)

// Matrix is a row-major Rows×Cols matrix in int8 blocks: value (i, c) is
// Scales[i*Cols/32 + c/32] · Q[i*Cols+c]. Cols is a multiple of
// kernels.Q8Block, so no block straddles two rows.
type Matrix struct {
	Rows, Cols int
	Q          []int8    // Rows*Cols values
	Scales     []float32 // Rows*Cols/32 scales, one per block
}

// QuantizeMatrix quantizes the row-major rows×cols float32 matrix w,
// block by block as kernels.Q8Quantize does (and as ggml's Q8_0 does).
func QuantizeMatrix(w []float32, rows, cols int) (*Matrix, error) {
	if err := checkShape(rows, cols); err != nil {
		return nil, err
	}
	if len(w) != rows*cols {
		return nil, fmt.Errorf("quant: %d values for a %d×%d matrix, want %d", len(w), rows, cols, rows*cols)
	}
	for i, v := range w {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("quant: value %v at row %d, column %d cannot be quantized", v, i/cols, i%cols)
		}
	}
	m := newMatrix(rows, cols)
	kernels.Q8Quantize(m.Q, m.Scales, w)
	return m, nil
}

func newMatrix(rows, cols int) *Matrix {
	return &Matrix{
		Rows: rows, Cols: cols,
		Q:      make([]int8, rows*cols),
		Scales: make([]float32, rows*cols/kernels.Q8Block),
	}
}

func checkShape(rows, cols int) error {
	if rows < 0 || cols < 0 {
		return fmt.Errorf("quant: negative shape %d×%d", rows, cols)
	}
	if cols%kernels.Q8Block != 0 {
		return fmt.Errorf("quant: %d columns is not a multiple of the block size %d", cols, kernels.Q8Block)
	}
	return nil
}

// Row writes row i, dequantized, into dst[:Cols]: the embedding lookup of
// token i. The caller checks i against the vocabulary; an index out of range
// is a bug and panics.
func (m *Matrix) Row(i int, dst []float32) {
	if i < 0 || i >= m.Rows {
		panic(fmt.Sprintf("quant.Matrix.Row: row %d of %d", i, m.Rows))
	}
	nb := m.Cols / kernels.Q8Block
	kernels.Q8Dequantize(dst[:m.Cols], m.Q[i*m.Cols:(i+1)*m.Cols], m.Scales[i*nb:(i+1)*nb])
}

// Scratch holds the quantized copy of the vector MatVec multiplies, so that
// a decode step allocates nothing. One Scratch serves any matrix of at most
// the number of columns it was made for; it is not safe for concurrent use.
type Scratch struct {
	xq []int8
	xs []float32
}

// NewScratch returns a Scratch for matrices of up to cols columns.
func NewScratch(cols int) *Scratch {
	return &Scratch{xq: make([]int8, cols), xs: make([]float32, cols/kernels.Q8Block)}
}

// MatVec computes y[:Rows] = M·x for x of length Cols: x is quantized to
// int8 blocks on the fly (kernels.Q8Quantize), then multiplied by every row
// (kernels.Q8MatVec). Against the float32 product this adds the rounding of
// both operands, about 0.3–0.5% relative per factor for typical values (see
// TestMatVecAccuracy). x must be finite.
func (m *Matrix) MatVec(y, x []float32, s *Scratch) {
	if len(x) != m.Cols {
		panic(fmt.Sprintf("quant.Matrix.MatVec: len(x) = %d, want %d columns", len(x), m.Cols))
	}
	if len(s.xq) < m.Cols {
		panic(fmt.Sprintf("quant.Matrix.MatVec: scratch for %d columns, need %d", len(s.xq), m.Cols))
	}
	nb := m.Cols / kernels.Q8Block
	kernels.Q8Quantize(s.xq[:m.Cols], s.xs[:nb], x)
	kernels.Q8MatVec(y, m.Q, m.Scales, s.xq, s.xs, m.Cols, m.Rows)
}
