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

// Scratch holds the quantized copy of the vector MatVec multiplies (or of
// the rows MatMul multiplies), so that a decode step allocates nothing. One
// Scratch serves any matrix, int8 or blocked, of at most the number of
// values it was made for; MatMul grows it when a call needs more. It is not
// safe for concurrent use.
type Scratch struct {
	xq   []int8
	xs   []float32 // a scale per 32 values: Q8_0's blocks, more than Q8_K needs
	xsum []int16   // a sum per 16 values: Q8_K's, more than Q8_0 needs
	x16  []int16   // the int16 activations of MatVec16 and MatMul16 (Reserve16)
	// The two-pass products' residual activations and second product
	// (twoPass), grown on first use.
	residual, second []float32
	// The activations of PanelMatrix products, laid out for their tiles.
	panels kernels.Q8PanelBuffer
}

// NewScratch returns a Scratch for matrices of up to cols columns.
func NewScratch(cols int) *Scratch {
	return NewScratchRows(1, cols)
}

// NewScratchRows returns a Scratch for MatMul on up to rows rows of up to
// cols columns (a prefill of rows tokens), which then allocates nothing.
func NewScratchRows(rows, cols int) *Scratch {
	n := rows * cols
	return &Scratch{xq: make([]int8, n), xs: make([]float32, n/kernels.Q8Block), xsum: make([]int16, n/16)}
}

// grow makes room for rows rows of cols values.
func (s *Scratch) grow(rows, cols int) {
	if len(s.xq) < rows*cols {
		x16, residual, second, panels := s.x16, s.residual, s.second, s.panels
		*s = *NewScratchRows(rows, cols)
		s.x16, s.residual, s.second, s.panels = x16, residual, second, panels
	}
}

// Reserve16 makes room for MatVec16 and MatMul16 on up to rows rows of up
// to cols values, so that they allocate nothing. The int16 buffer is apart
// from the int8 one because only an output projection needs it.
func (s *Scratch) Reserve16(rows, cols int) {
	s.grow(rows, cols)
	if len(s.x16) < rows*cols {
		s.x16 = make([]int16, rows*cols)
	}
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
	xq, xs := s.quantize8(x, 1, m.Cols)
	kernels.Q8MatVec(y, m.Q, m.Scales, xq, xs, m.Cols, m.Rows)
}

// quantize8 quantizes the rows×cols values x into s's int8 blocks
// (kernels.Q8Quantize), growing s when they need more room, and returns
// the values and scales.
func (s *Scratch) quantize8(x []float32, rows, cols int) ([]int8, []float32) {
	s.grow(rows, cols)
	n := rows * cols
	xq, xs := s.xq[:n], s.xs[:n/kernels.Q8Block]
	kernels.Q8Quantize(xq, xs, x)
	return xq, xs
}

// MatMul computes c[:m*Rows] = A·Mᵀ + bias for the row-major m×Cols matrix
// a, the int8 form of a linear layer applied to m tokens: each row of a is
// quantized to int8 blocks (kernels.Q8Quantize), then kernels.Q8MatMul
// multiplies them by every row of M, reading each block of M once per few
// rows of a rather than once per row. Row i of c equals MatVec of row i of
// a (plus the bias) bit for bit. bias may be nil; otherwise it holds Rows
// values. s grows to m×Cols values on the first call that needs it (an
// allocation); after that, calls of at most that size allocate nothing.
// a must be finite.
func (m *Matrix) MatMul(c, a []float32, rows int, bias []float32, s *Scratch) {
	if rows < 0 || len(a) != rows*m.Cols {
		panic(fmt.Sprintf("quant.Matrix.MatMul: len(a) = %d, want %d rows of %d columns", len(a), rows, m.Cols))
	}
	if len(c) < rows*m.Rows {
		panic(fmt.Sprintf("quant.Matrix.MatMul: len(c) = %d, want %d rows of %d", len(c), rows, m.Rows))
	}
	if bias != nil && len(bias) != m.Rows {
		panic(fmt.Sprintf("quant.Matrix.MatMul: len(bias) = %d, want %d", len(bias), m.Rows))
	}
	aq, as := s.quantize8(a, rows, m.Cols)
	kernels.Q8MatMul(c, aq, as, m.Q, m.Scales, bias, rows, m.Cols, m.Rows)
}

// MatVec16 computes y[:Rows] = M·x as MatVec does, but with x quantized to
// int16 blocks (kernels.Q16Quantize) and multiplied by kernels.Q8MatVec16:
// it reads the same int8 rows, and the activations' rounding, 258 times
// finer than int8's, all but vanishes next to the rows' own. It is the
// logits product of an int8 token table (TestTiedInt8Logits in runtime).
// s grows on the first call that needs it unless Reserve16 made room.
func (m *Matrix) MatVec16(y, x []float32, s *Scratch) {
	if len(x) != m.Cols {
		panic(fmt.Sprintf("quant.Matrix.MatVec16: len(x) = %d, want %d columns", len(x), m.Cols))
	}
	s.Reserve16(1, m.Cols)
	nb := m.Cols / kernels.Q8Block
	kernels.Q16Quantize(s.x16[:m.Cols], s.xs[:nb], x)
	kernels.Q8MatVec16(y, m.Q, m.Scales, s.x16, s.xs, m.Cols, m.Rows)
}

// MatMul16 computes c[:rows*Rows] = A·Mᵀ for the row-major rows×Cols
// matrix a, each row as MatVec16 computes it, bit for bit
// (kernels.Q8MatMul16), reading M from memory once per call.
func (m *Matrix) MatMul16(c, a []float32, rows int, s *Scratch) {
	if rows < 0 || len(a) != rows*m.Cols {
		panic(fmt.Sprintf("quant.Matrix.MatMul16: len(a) = %d, want %d rows of %d columns", len(a), rows, m.Cols))
	}
	s.Reserve16(rows, m.Cols)
	n, nb := rows*m.Cols, rows*m.Cols/kernels.Q8Block
	kernels.Q16Quantize(s.x16[:n], s.xs[:nb], a)
	kernels.Q8MatMul16(c, s.x16, s.xs, m.Q, m.Scales, rows, m.Cols, m.Rows)
}

// Shape is the matrix's rows and columns.
func (m *Matrix) Shape() (rows, cols int) { return m.Rows, m.Cols }

// WeightType is kernels.Q8_0: every Matrix is int8 blocks of 32.
func (m *Matrix) WeightType() kernels.WeightType { return kernels.Q8_0 }

// Bytes is the size of the values and scales: what a product reads.
func (m *Matrix) Bytes() int { return len(m.Q) + 4*len(m.Scales) }

// RowRange returns rows [r0, r1) of m, sharing its memory.
func (m *Matrix) RowRange(r0, r1 int) *Matrix {
	if r0 < 0 || r1 < r0 || r1 > m.Rows {
		panic(fmt.Sprintf("quant.Matrix.RowRange: rows [%d, %d) of %d", r0, r1, m.Rows))
	}
	nb := m.Cols / kernels.Q8Block
	return &Matrix{Rows: r1 - r0, Cols: m.Cols,
		Q:      m.Q[r0*m.Cols : r1*m.Cols : r1*m.Cols],
		Scales: m.Scales[r0*nb : r1*nb : r1*nb]}
}
