package quant

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuantizeMatrixRoundTrip(t *testing.T) {
	const rows, cols = 37, 96
	w := testkit.RandF32(1, rows*cols, 2)
	m, err := QuantizeMatrix(w, rows, cols)
	require.NoError(t, err)
	row := make([]float32, cols)
	for i := range rows {
		m.Row(i, row)
		for c, v := range row {
			// Each value is off by at most half a step d = amax/127 of its
			// block (plus float32 rounding of d·q, far below 1e-4·d).
			var amax float64
			for _, u := range w[i*cols+c/32*32 : i*cols+c/32*32+32] {
				amax = math.Max(amax, math.Abs(float64(u)))
			}
			d := amax / 127
			require.LessOrEqual(t, math.Abs(float64(v)-float64(w[i*cols+c])), 0.5001*d, "row %d col %d", i, c)
		}
	}
}

func TestQuantizeMatrixErrors(t *testing.T) {
	_, err := QuantizeMatrix(make([]float32, 40), 1, 40)
	assert.EqualError(t, err, "quant: 40 columns is not a multiple of the block size 32")
	_, err = QuantizeMatrix(make([]float32, 64), 3, 32)
	assert.EqualError(t, err, "quant: 64 values for a 3×32 matrix, want 96")
	w := make([]float32, 64)
	w[45] = float32(math.Inf(-1))
	_, err = QuantizeMatrix(w, 2, 32)
	assert.EqualError(t, err, "quant: value -Inf at row 1, column 13 cannot be quantized")
}

// TestMatVecAccuracy compares the quantized product with the float64 product
// of the original float32 values. Rounding to a step d = amax/127 leaves
// uniform noise of rms d/√12 per value; for values spread uniformly
// (amax/rms = √3) that is √3/(127·√12) = 1/254 ≈ 0.39% of the rms per
// factor, and √2·0.39% ≈ 0.56% relative L2 for the product of two
// independently rounded factors. The bound is 1%.
func TestMatVecAccuracy(t *testing.T) {
	const rows, cols = 501, 768
	w := testkit.RandF32(2, rows*cols, 0.05)
	x := testkit.RandF32(3, cols, 4)
	m, err := QuantizeMatrix(w, rows, cols)
	require.NoError(t, err)
	y := make([]float32, rows+3)
	for i := range y {
		y[i] = float32(math.NaN())
	}
	m.MatVec(y, x, NewScratch(cols))
	var num, den float64
	for j := range rows {
		var want float64
		for c := range cols {
			want += float64(w[j*cols+c]) * float64(x[c])
		}
		num += (float64(y[j]) - want) * (float64(y[j]) - want)
		den += want * want
	}
	rel := math.Sqrt(num / den)
	t.Logf("relative L2 error of the int8 product: %.3g", rel)
	assert.Less(t, rel, 0.01)
	assert.Greater(t, rel, 1e-4, "quantization noise must show")
	for _, v := range y[rows:] {
		assert.True(t, math.IsNaN(float64(v)), "MatVec wrote past Rows")
	}
}

func TestMatVecAllocatesNothing(t *testing.T) {
	m, err := QuantizeMatrix(testkit.RandF32(4, 64*128, 1), 64, 128)
	require.NoError(t, err)
	x, y, s := testkit.RandF32(5, 128, 1), make([]float32, 64), NewScratch(128)
	assert.Zero(t, testing.AllocsPerRun(10, func() { m.MatVec(y, x, s) }))
}

// q8_0Block encodes one GGUF Q8_0 block.
func q8_0Block(scale uint16, q []int8) []byte {
	b := binary.LittleEndian.AppendUint16(nil, scale)
	for _, v := range q {
		b = append(b, byte(v))
	}
	return b
}

func TestFromQ8_0(t *testing.T) {
	q := make([]int8, 4*32)
	for i := range q {
		q[i] = int8(i*37 - 128) // every residue, -128 included
	}
	// fp16 scales: 1, 0.5, the smallest subnormal 2⁻²⁴, and -2.
	scales := []uint16{0x3c00, 0x3800, 0x0001, 0xc000}
	want := []float32{1, 0.5, 0x1p-24, -2}
	var data []byte
	for b := range 4 {
		data = append(data, q8_0Block(scales[b], q[32*b:32*b+32])...)
	}
	m, err := FromQ8_0(data, 2, 64)
	require.NoError(t, err)
	assert.Equal(t, q, m.Q, "int8 values are kept as they are")
	assert.Equal(t, want, m.Scales)
	row := make([]float32, 64)
	m.Row(1, row)
	for c, v := range row {
		require.Equal(t, want[2+c/32]*float32(q[64+c]), v)
	}
}

func TestFromQ8_0Errors(t *testing.T) {
	_, err := FromQ8_0(make([]byte, 33), 1, 32)
	assert.EqualError(t, err, "quant: Q8_0 data of 33 bytes for a 1×32 matrix, want 34 (1 blocks of 34)")
	data := append(q8_0Block(0x3c00, make([]int8, 32)), q8_0Block(0x7e00, make([]int8, 32))...)
	_, err = FromQ8_0(data, 2, 32)
	assert.EqualError(t, err, "quant: Q8_0 block 0 of row 1 has scale NaN")
	_, err = FromQ8_0(nil, 1, 31)
	assert.EqualError(t, err, "quant: 31 columns is not a multiple of the block size 32")
}

// TestFloat16To32 checks all 65,536 half-precision values against the
// formula (-1)^s · 2^(e-15) · (1 + f/1024), or f·2⁻²⁴ when e = 0.
func TestFloat16To32(t *testing.T) {
	for h := range 1 << 16 {
		s, e, f := h>>15, (h>>10)&0x1f, h&0x3ff
		got := kernels.Float16ToFloat32(uint16(h))
		var want float64
		switch {
		case e == 0x1f && f != 0:
			require.True(t, math.IsNaN(float64(got)), "%#04x", h)
			continue
		case e == 0x1f:
			want = math.Inf(1)
		case e == 0:
			want = math.Ldexp(float64(f), -24)
		default:
			want = math.Ldexp(1+float64(f)/1024, e-15)
		}
		if s == 1 {
			want = -want
		}
		require.Equal(t, want, float64(got), "%#04x", h)
		require.Equal(t, s == 1, math.Signbit(float64(got)), "sign of %#04x", h)
	}
}

func ExampleMatrix() {
	// A tied embedding of 3 tokens × 32 dimensions: token 1 is all 0.5.
	w := make([]float32, 3*32)
	for c := range 32 {
		w[c], w[32+c], w[64+c] = 1, 0.5, -1
	}
	m, _ := QuantizeMatrix(w, 3, 32)
	emb := make([]float32, 32)
	m.Row(1, emb) // the input lookup
	logits := make([]float32, 3)
	m.MatVec(logits, emb, NewScratch(32)) // the output logits
	fmt.Println(emb[0], logits)
	// Output: 0.5 [16 8 -16]
}

// TestMatMulMatchesMatVec: every row of the int8 GEMM is the int8 GEMV of
// that row plus the bias, bit for bit, on every tier; the scratch grows once.
func TestMatMulMatchesMatVec(t *testing.T) {
	const rows, cols, tokens = 67, 96, 9
	m, err := QuantizeMatrix(testkit.RandF32(6, rows*cols, 0.1), rows, cols)
	require.NoError(t, err)
	a, bias := testkit.RandF32(7, tokens*cols, 3), testkit.RandF32(8, rows, 1)
	saved := kernels.ISA()
	defer func() { require.NoError(t, kernels.SetISA(saved)) }()
	for _, isa := range kernels.ISAs() {
		require.NoError(t, kernels.SetISA(isa))
		s := NewScratch(cols)
		c := make([]float32, tokens*rows+5)
		for i := range c {
			c[i] = float32(math.NaN())
		}
		m.MatMul(c[:tokens*rows], a, tokens, bias, s)
		y := make([]float32, rows)
		for i := range tokens {
			m.MatVec(y, a[i*cols:(i+1)*cols], s)
			for j := range y {
				y[j] += bias[j]
			}
			require.Equal(t, y, c[i*rows:(i+1)*rows], "%s: token %d", isa, i)
		}
		for _, v := range c[tokens*rows:] {
			assert.True(t, math.IsNaN(float64(v)), "%s: MatMul wrote past its rows", isa)
		}
		assert.Zero(t, testing.AllocsPerRun(5, func() { m.MatMul(c[:tokens*rows], a, tokens, bias, s) }), isa)
		assert.Zero(t, testing.AllocsPerRun(5, func() { m.MatMul(c[:4*rows], a[:4*cols], 4, nil, s) }), isa)
	}
	assert.PanicsWithValue(t, "quant.Matrix.MatMul: len(a) = 96, want 2 rows of 96 columns", func() {
		m.MatMul(make([]float32, 2*rows), a[:cols], 2, nil, NewScratch(cols))
	})
}
