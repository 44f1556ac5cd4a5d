package quant

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/kernels"
)

// BlockMatrix is a row-major Rows×Cols matrix of a blocked weight type
// (kernels.WeightType.Blocked: Q4_0 … Q6_K, IQ4_NL, IQ4_XS) kept as the GGUF
// file stores it: each row is Cols/BlockLen whole blocks, one after
// another; or, for Q4_0x8 and Q5_0x8 (Interleaved), the same blocks with
// each group of eight rows stored field by field. Nothing is expanded at
// load, so a decode step reads exactly the file's bytes.
type BlockMatrix struct {
	Type       kernels.WeightType
	Rows, Cols int
	Data       []byte // Rows·Type.RowBytes(Cols) bytes
}

// FromBlocks wraps GGUF data of type t as a rows×cols BlockMatrix, sharing
// its memory. A block whose fp16 scale (d, m or dmin) is NaN or infinite is
// an error naming its row and block: every value of the block would be NaN
// or infinite, and a matrix product spreads that to every output.
func FromBlocks(t kernels.WeightType, data []byte, rows, cols int) (*BlockMatrix, error) {
	f := FormatOf(t)
	if f == nil || !t.Blocked() {
		return nil, fmt.Errorf("quant: %s is not a block format goformer multiplies", t)
	}
	if rows < 0 || cols < 0 {
		return nil, fmt.Errorf("quant: negative shape %d×%d", rows, cols)
	}
	if cols%t.BlockLen() != 0 {
		return nil, fmt.Errorf("quant: %s rows of %d values are not whole blocks of %d", t, cols, t.BlockLen())
	}
	rb := t.RowBytes(cols)
	if len(data) != rows*rb {
		return nil, fmt.Errorf("quant: %s data of %d bytes for a %d×%d matrix, want %d", t, len(data), rows, cols, rows*rb)
	}
	bb, perRow := t.BlockBytes(), cols/t.BlockLen()
	for b := range rows * perRow {
		for _, off := range f.Scales {
			if d := fp16(data[b*bb+off:]); math.IsNaN(float64(d)) || math.IsInf(float64(d), 0) {
				return nil, fmt.Errorf("quant: %s block %d of row %d has scale %v", t, b%perRow, b/perRow, d)
			}
		}
	}
	return &BlockMatrix{Type: t, Rows: rows, Cols: cols, Data: data}, nil
}

// Bytes is the size of the matrix's blocks: what a product reads.
func (m *BlockMatrix) Bytes() int { return len(m.Data) }

// Shape is the matrix's rows and columns.
func (m *BlockMatrix) Shape() (rows, cols int) { return m.Rows, m.Cols }

// WeightType is the matrix's block type, m.Type.
func (m *BlockMatrix) WeightType() kernels.WeightType { return m.Type }

// Row writes row i, dequantized as ggml dequantizes it, into dst[:Cols]:
// the embedding lookup of token i. An index out of range is a bug and
// panics.
func (m *BlockMatrix) Row(i int, dst []float32) {
	if i < 0 || i >= m.Rows {
		panic(fmt.Sprintf("quant.BlockMatrix.Row: row %d of %d", i, m.Rows))
	}
	rb := m.Type.RowBytes(m.Cols)
	row := m.Data[i*rb : (i+1)*rb]
	if m.Type.Plain() != m.Type {
		plain := make([]byte, rb) // tests only: the runtime keeps token tables plain
		kernels.PlainRow(m.Type, plain, m.Data, m.Cols, m.Rows, i)
		row = plain
	}
	if err := FormatOf(m.Type.Plain()).DequantizeRows(dst[:m.Cols], row); err != nil {
		panic(err) // the shapes were checked by FromBlocks
	}
}

// Interleaved returns m in the interleaved form of its type
// (kernels.InterleaveRows: Q4_0x8 for Q4_0), written into data
// (len(m.Data) bytes, apart from m's; nil: a new allocation), where the
// active tier multiplies that form faster (kernels.PrefersInterleaved) and
// m has a group of eight rows; otherwise m itself, and data is left alone.
// The products give the same results bit for bit either way.
func (m *BlockMatrix) Interleaved(data []byte) *BlockMatrix {
	if m.Rows < 8 || !kernels.PrefersInterleaved(m.Type) {
		return m
	}
	if data == nil {
		data = make([]byte, len(m.Data))
	}
	if len(data) != len(m.Data) {
		panic(fmt.Sprintf("quant.BlockMatrix.Interleaved: %d bytes for %d", len(data), len(m.Data)))
	}
	kernels.InterleaveRows(m.Type, data, m.Data, m.Cols, m.Rows)
	return &BlockMatrix{Type: m.Type.Interleaved(), Rows: m.Rows, Cols: m.Cols, Data: data}
}

// RowRange returns rows [r0, r1) of m, sharing its memory.
func (m *BlockMatrix) RowRange(r0, r1 int) *BlockMatrix {
	if r0 < 0 || r1 < r0 || r1 > m.Rows {
		panic(fmt.Sprintf("quant.BlockMatrix.RowRange: rows [%d, %d) of %d", r0, r1, m.Rows))
	}
	if m.Type.Plain() != m.Type && (r0%8 != 0 || r1%8 != 0 && r1 != m.Rows) {
		panic(fmt.Sprintf("quant.BlockMatrix.RowRange: rows [%d, %d) of an interleaved %s matrix of %d cut a group of eight", r0, r1, m.Type, m.Rows))
	}
	rb := m.Type.RowBytes(m.Cols)
	return &BlockMatrix{Type: m.Type, Rows: r1 - r0, Cols: m.Cols, Data: m.Data[r0*rb : r1*rb : r1*rb]}
}

// MatVec computes y[:Rows] = M·x for x of length Cols: x is quantized on
// the fly to the int8 form the type multiplies (kernels.QuantizeActivations:
// Q8_0 blocks of 32 for the types of 32, Q8_K blocks of 256 for the
// K-quants), then multiplied by every row (kernels.QuantMatVec). x must be
// finite.
func (m *BlockMatrix) MatVec(y, x []float32, s *Scratch) {
	if len(x) != m.Cols {
		panic(fmt.Sprintf("quant.BlockMatrix.MatVec: len(x) = %d, want %d columns", len(x), m.Cols))
	}
	s.grow(1, m.Cols)
	ns, nsum := m.Type.ActivationLens(m.Cols)
	kernels.QuantizeActivations(m.Type, s.xq[:m.Cols], s.xs[:ns], s.xsum[:nsum], x)
	kernels.QuantMatVec(m.Type, y, m.Data, s.xq, s.xs, s.xsum, m.Cols, m.Rows)
}

// MatMul computes c[:rows*Rows] = A·Mᵀ + bias for the row-major rows×Cols
// matrix a: each row is quantized as MatVec quantizes x, then
// kernels.QuantMatMul multiplies them by every row of M. Row i of c equals
// MatVec of row i of a (plus the bias) bit for bit. bias may be nil. s
// grows to rows×Cols values on the first call that needs it. a must be
// finite.
func (m *BlockMatrix) MatMul(c, a []float32, rows int, bias []float32, s *Scratch) {
	if rows < 0 || len(a) != rows*m.Cols {
		panic(fmt.Sprintf("quant.BlockMatrix.MatMul: len(a) = %d, want %d rows of %d columns", len(a), rows, m.Cols))
	}
	if len(c) < rows*m.Rows {
		panic(fmt.Sprintf("quant.BlockMatrix.MatMul: len(c) = %d, want %d rows of %d", len(c), rows, m.Rows))
	}
	if bias != nil && len(bias) != m.Rows {
		panic(fmt.Sprintf("quant.BlockMatrix.MatMul: len(bias) = %d, want %d", len(bias), m.Rows))
	}
	s.grow(rows, m.Cols)
	n := rows * m.Cols
	ns, nsum := m.Type.ActivationLens(n)
	kernels.QuantizeActivations(m.Type, s.xq[:n], s.xs[:ns], s.xsum[:nsum], a)
	kernels.QuantMatMul(m.Type, c, s.xq, s.xs, s.xsum, m.Data, bias, rows, m.Cols, m.Rows)
}
