package model

import (
	"fmt"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/quant"
)

// Matrix is one stored weight matrix, row-major [Rows][Cols] with one row
// per output feature (y = W·x), in the form the checkpoint keeps it:
// exactly one of F32 (F16 and BF16 widened at load), Int8 (int8 blocks,
// GGUF's Q8_0) and Blocks (the other GGUF block types, as the file stores
// them) is set.
type Matrix struct {
	Rows, Cols int
	F32        []float32
	Int8       *quant.Matrix
	Blocks     *quant.BlockMatrix
}

// F32Matrix wraps a row-major rows×cols fp32 matrix.
func F32Matrix(w []float32, rows, cols int) *Matrix {
	return &Matrix{Rows: rows, Cols: cols, F32: w}
}

// Int8Matrix wraps an int8 block matrix.
func Int8Matrix(q *quant.Matrix) *Matrix {
	return &Matrix{Rows: q.Rows, Cols: q.Cols, Int8: q}
}

// BlockMatrix wraps a matrix of GGUF blocks.
func BlockMatrix(b *quant.BlockMatrix) *Matrix {
	return &Matrix{Rows: b.Rows, Cols: b.Cols, Blocks: b}
}

// Type is the matrix's storage type: kernels.F32, kernels.Q8_0 or the
// block type of Blocks.
func (m *Matrix) Type() kernels.WeightType {
	switch {
	case m.Blocks != nil:
		return m.Blocks.Type
	case m.Int8 != nil:
		return kernels.Q8_0
	}
	return kernels.F32
}

// Check reports whether m holds exactly one form of a rows×cols matrix.
func (m *Matrix) Check(rows, cols int) error {
	if m == nil {
		return fmt.Errorf("missing, want %d×%d", rows, cols)
	}
	if m.Rows != rows || m.Cols != cols {
		return fmt.Errorf("is %d×%d, want %d×%d", m.Rows, m.Cols, rows, cols)
	}
	forms := 0
	for _, set := range []bool{m.F32 != nil, m.Int8 != nil, m.Blocks != nil} {
		if set {
			forms++
		}
	}
	if forms > 1 {
		return fmt.Errorf("holds more than one of an fp32, an int8 and a block form")
	}
	switch q, b := m.Int8, m.Blocks; {
	case b != nil:
		if b.Rows != rows || b.Cols != cols || !b.Type.Blocked() || cols%b.Type.BlockLen() != 0 || len(b.Data) != rows*b.Type.RowBytes(cols) {
			return fmt.Errorf("%s blocks hold %d bytes, want %d×%d", b.Type, len(b.Data), rows, cols)
		}
	case q != nil:
		if q.Rows != rows || q.Cols != cols || len(q.Q) != rows*cols || len(q.Scales)*32 != rows*cols {
			return fmt.Errorf("int8 blocks hold %d values and %d scales, want %d×%d", len(q.Q), len(q.Scales), rows, cols)
		}
	case len(m.F32) != rows*cols:
		return fmt.Errorf("holds %d values, want %d×%d", len(m.F32), rows, cols)
	}
	return nil
}

// RowRange returns rows [r0, r1) of m, sharing its memory: GPT-2's fused
// query/key/value matrix is three row ranges.
func (m *Matrix) RowRange(r0, r1 int) *Matrix {
	if m.Blocks != nil {
		return BlockMatrix(m.Blocks.RowRange(r0, r1))
	}
	if m.Int8 != nil {
		return Int8Matrix(m.Int8.RowRange(r0, r1))
	}
	return F32Matrix(m.F32[r0*m.Cols:r1*m.Cols:r1*m.Cols], r1-r0, m.Cols)
}

// Row writes row i, as fp32, into dst[:Cols]: an embedding lookup.
func (m *Matrix) Row(i int, dst []float32) {
	if m.Blocks != nil {
		m.Blocks.Row(i, dst)
		return
	}
	if m.Int8 != nil {
		m.Int8.Row(i, dst)
		return
	}
	copy(dst[:m.Cols], m.F32[i*m.Cols:(i+1)*m.Cols])
}

// Norm is a normalization's parameters over the feature axis: a LayerNorm
// has a gain and a bias, an RMSNorm a gain only (Bias nil).
type Norm struct {
	Gain, Bias []float32 // [d]
}

// Layer is one transformer block's parameters, named for what they do in
// every family. Biases are nil where the checkpoint has none.
type Layer struct {
	AttnNorm Norm // before attention (pre-norm) or after its residual (post-norm)
	// Q is [n_head·head_dim][d]; K and V are [n_kv_head·head_dim][d]; head
	// h is rows h·head_dim..(h+1)·head_dim−1 of each, with RoPE's pairs in
	// rotate-half order when the architecture rotates half.
	Q, K, V             *Matrix
	QBias, KBias, VBias []float32
	O                   *Matrix   // [d][n_head·head_dim]: the attention output projection
	OBias               []float32 // [d]

	MLPNorm Norm
	// Gate is nil for a GELU MLP, Down(GELU(Up·x)); a SwiGLU MLP is
	// Down(SiLU(Gate·x) ⊙ Up·x). Gate and Up are [d_ff][d], Down [d][d_ff].
	Gate, Up, Down             *Matrix
	GateBias, UpBias, DownBias []float32
}

// Weights is a model's parameters in goformer's run-time layout.
type Weights struct {
	TokenEmbedding    *Matrix   // [vocab][d]
	PositionEmbedding []float32 // [n_positions][d]; nil unless learned positions
	Layers            []Layer
	FinalNorm         Norm    // nil gain without a final norm
	Output            *Matrix // [vocab][d]; nil when tied to TokenEmbedding
}
