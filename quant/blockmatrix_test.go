package quant

import (
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
)

// forEachISA runs f once per kernel tier this CPU can run, generic
// included, with that tier selected.
func forEachISA(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := kernels.ISA()
	defer func() { require.NoError(t, kernels.SetISA(saved)) }()
	for _, isa := range kernels.ISAs() {
		require.NoError(t, kernels.SetISA(isa))
		t.Run(isa, f)
	}
}

// blockedFormats lists the formats of the blocked types, in ggml order.
func blockedFormats() []*BlockFormat {
	var fs []*BlockFormat
	for _, f := range BlockFormats {
		if f.Type.Blocked() {
			fs = append(fs, f)
		}
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].GGMLType < fs[j].GGMLType })
	return fs
}

// activations are rows quantized for a blocked type, with their meaning
// in float64 (scale·value).
type activations struct {
	q    []int8
	s    []float32
	sum  []int16
	f64  []float64
	rows int
}

func quantizeFor(typ kernels.WeightType, x []float32, rows int) activations {
	ns, nsum := typ.ActivationLens(len(x))
	a := activations{q: make([]int8, len(x)), s: make([]float32, ns), sum: make([]int16, nsum), f64: make([]float64, len(x)), rows: rows}
	kernels.QuantizeActivations(typ, a.q, a.s, a.sum, x)
	bl := len(x) / ns
	for i, v := range a.q {
		a.f64[i] = float64(a.s[i/bl]) * float64(v)
	}
	return a
}

// blockMatVec64 is W·x in float64 from W's values as ggml dequantizes them
// (quant's reference dequantizers, bit-exact with gguf-py) and x's
// quantized values: the definition every tier's kernels must meet. bound
// is Σ|w_i·x_i| per row, the scale the float32 rounding error is relative
// to.
func blockMatVec64(f *BlockFormat, w []byte, x []float64, k, n int) (y, bound []float64) {
	vals := make([]float32, n*k)
	if err := f.DequantizeRows(vals, w[:n*f.Type.RowBytes(k)]); err != nil {
		panic(err)
	}
	y, bound = make([]float64, n), make([]float64, n)
	for j := range n {
		for i, v := range vals[j*k : (j+1)*k] {
			y[j] += float64(v) * x[i]
			bound[j] += math.Abs(float64(v) * x[i])
		}
	}
	return y, bound
}

// quantMatVecTol bounds |kernel − float64| / Σ|w·x| per row. The integer
// sums are exact; the kernels' float32 scaling rounds each block's terms a
// few times (about 6e-8 each), the reference's dequantized values carry
// ggml's own float32 roundings of d·scale·q − dmin·min, and the float32
// sum over k/BlockLen blocks adds its own. Measured on these inputs: at
// most ~5e-7; a lost block or a wrong scale is off by 1e-2 or more.
const quantMatVecTol = 4e-6

type blockShape struct{ blocks, n int }

// blockShapes are ragged: row counts around every SIMD row group, rows of
// one block up to 12 (3072 values for the K-quants).
func blockShapes() []blockShape {
	var ss []blockShape
	for n := 1; n <= 19; n++ {
		ss = append(ss, blockShape{1 + n%4, n})
	}
	return append(ss, blockShape{12, 7}, blockShape{3, 67}, blockShape{24, 5}, blockShape{8, 33})
}

func TestQuantMatVecMatchesDequantized(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		for _, f := range blockedFormats() {
			var worst float64
			for i, s := range blockShapes() {
				k := s.blocks * f.BlockLen()
				buf := make([]byte, 1+s.n*f.Type.RowBytes(k))
				w := buf[1:] // never aligned
				copy(w, randomBlocks(f, s.n*s.blocks, uint64(40+i)))
				x := quantizeFor(f.Type, testkit.RandF32(uint64(70+i), k, 3), 1)
				x.q = append(make([]int8, 3+i%5), x.q...)[3+i%5:] // unaligned
				want, bound := blockMatVec64(f, w, x.f64, k, s.n)
				y := poisoned(s.n + 2)
				kernels.QuantMatVec(f.Type, y[1:s.n+1], w, x.q, x.s, x.sum, k, s.n)
				assert.True(t, math.IsNaN(float64(y[0])) && math.IsNaN(float64(y[s.n+1])), "%s: wrote outside y", f.Name())
				for j, v := range y[1 : s.n+1] {
					if bound[j] == 0 { // zero scales: exactly zero
						require.Zero(t, v, "%s k=%d n=%d row %d", f.Name(), k, s.n, j)
						continue
					}
					e := math.Abs(float64(v)-want[j]) / bound[j]
					worst = max(worst, e)
					require.LessOrEqual(t, e, quantMatVecTol, "%s k=%d n=%d row %d: %g, float64 %g", f.Name(), k, s.n, j, v, want[j])
				}
			}
			t.Logf("%s: max |Δ|/Σ|w·x| %.2g", f.Name(), worst)
		}
	})
}

// poisoned returns n NaNs: a kernel that skips an output leaves one.
func poisoned(n int) []float32 {
	y := make([]float32, n)
	for i := range y {
		y[i] = float32(math.NaN())
	}
	return y
}

// TestQuantMatMulRowsEqualMatVec: every row of the GEMM is the GEMV of
// that row bit for bit, on every tier, for row counts around every tile
// height, with and without a bias, one thread or many.
func TestQuantMatMulRowsEqualMatVec(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		for _, f := range blockedFormats() {
			// {1,32,300} to {17,32,70} are large enough to split across
			// threads; 9 to 27 rows are tiles of sixteen and eight rows and
			// rows left over.
			for i, s := range []struct{ m, blocks, n int }{{1, 2, 5}, {2, 1, 9}, {3, 3, 17}, {4, 1, 4}, {5, 2, 33}, {7, 4, 6}, {9, 1, 70}, {13, 3, 40}, {1, 32, 300}, {4, 32, 100}, {17, 32, 70}, {27, 2, 19}} {
				if f.BlockLen() == QK && s.blocks == 32 {
					s.blocks = 4
				}
				k := s.blocks * f.BlockLen()
				w := randomBlocks(f, s.n*s.blocks, uint64(90+i))
				a := quantizeFor(f.Type, testkit.RandF32(uint64(95+i), s.m*k, 2), s.m)
				var bias []float32
				if i%2 == 0 {
					bias = testkit.RandF32(uint64(99+i), s.n, 1)
				}
				c := poisoned(s.m*s.n + 1)
				kernels.QuantMatMul(f.Type, c, a.q, a.s, a.sum, w, bias, s.m, k, s.n)
				assert.True(t, math.IsNaN(float64(c[s.m*s.n])), "wrote past c")
				ns, nsum := f.Type.ActivationLens(k)
				y := make([]float32, s.n)
				for r := range s.m {
					kernels.QuantMatVec(f.Type, y, w, a.q[r*k:], a.s[r*ns:], a.sum[r*nsum:], k, s.n)
					if bias != nil {
						kernels.Add(y, y, bias)
					}
					require.Equal(t, y, c[r*s.n:(r+1)*s.n], "%s %d×%d×%d: row %d", f.Name(), s.m, k, s.n, r)
				}
			}
		}
	})
}

// TestQuantMatMulAllocatesNothing: the packed rows of A the eight-row
// tiles read come from a pool, so a prefill or a batch of eight sequences
// allocates nothing once warm.
func TestQuantMatMulAllocatesNothing(t *testing.T) {
	for _, f := range []*BlockFormat{FormatOf(kernels.Q4_0), FormatOf(kernels.Q5_0)} {
		const m, n = 17, 24
		k := 3 * f.BlockLen()
		w := randomBlocks(f, n*3, 7)
		a := quantizeFor(f.Type, testkit.RandF32(8, m*k, 2), m)
		c := make([]float32, m*n)
		kernels.QuantMatMul(f.Type, c, a.q, a.s, a.sum, w, nil, m, k, n)
		assert.Zero(t, testing.AllocsPerRun(10, func() { kernels.QuantMatMul(f.Type, c, a.q, a.s, a.sum, w, nil, m, k, n) }), f.Name())
	}
}

func TestQuantizeActivations(t *testing.T) {
	x := testkit.RandF32(5, 2*QK, 4)
	x[17] = 9 // the extreme of the first Q8_K block and of its third block of 32
	forEachISA(t, func(t *testing.T) {
		for _, typ := range []kernels.WeightType{kernels.Q4_0, kernels.Q4_K} {
			a := quantizeFor(typ, x, 1)
			bl, sl := QK, 16
			if typ.Activation() == kernels.Q8_0 {
				bl, sl = 32, 32
			}
			for b := range len(x) / bl {
				var amax float32
				for _, v := range x[b*bl : (b+1)*bl] {
					amax = max(amax, float32(math.Abs(float64(v))))
				}
				d := amax / 127
				assert.Equal(t, d, a.s[b], "%s scale %d", typ, b)
				for i := b * bl; i < (b+1)*bl; i++ {
					assert.InDelta(t, float64(x[i]), a.f64[i], 0.5001*float64(d), "%s value %d", typ, i)
				}
			}
			assert.Equal(t, int8(127), a.q[17])
			for s := range a.sum {
				var sum int16
				for _, v := range a.q[s*sl : (s+1)*sl] {
					sum += int16(v)
				}
				assert.Equal(t, sum, a.sum[s], "%s sum %d", typ, s)
			}
		}
	})
}

// TestBlockMatrixEndToEnd quantizes nothing itself: it multiplies random
// blocks through BlockMatrix.MatVec and MatMul and checks them against the
// float64 product of the dequantized matrix and the unquantized x, the
// error a user sees: the activations' rounding to 8 bits is all of it.
func TestBlockMatrixEndToEnd(t *testing.T) {
	for _, f := range blockedFormats() {
		const rows, blocks = 37, 3
		k := blocks * f.BlockLen()
		m, err := FromBlocks(f.Type, randomBlocks(f, rows*blocks, 3), rows, k)
		require.NoError(t, err)
		x := testkit.RandF32(4, 2*k, 1)
		y := poisoned(2 * rows)
		s := NewScratch(k)
		m.MatVec(y[:rows], x[:k], s)
		m.MatMul(y, x, 2, nil, s)
		w := make([]float32, rows*k)
		require.NoError(t, f.DequantizeRows(w, m.Data))
		row := make([]float32, k)
		for r := 0; r < 2; r++ {
			var num, den float64
			for j := range rows {
				var want float64
				for i := range k {
					want += float64(w[j*k+i]) * float64(x[r*k+i])
				}
				num += (float64(y[r*rows+j]) - want) * (float64(y[r*rows+j]) - want)
				den += want * want
			}
			rel := math.Sqrt(num / den)
			if r == 0 {
				t.Logf("%s: relative L2 error against exact dequantize-then-float64 %.3g", f.Name(), rel)
			}
			assert.Less(t, rel, 0.03, "%s row %d", f.Name(), r)
			assert.Greater(t, rel, 1e-5, "%s row %d: the activations' rounding must show", f.Name(), r)
		}
		m.Row(5, row)
		assert.Equal(t, w[5*k:6*k], row)
	}
}

func TestFromBlocksErrors(t *testing.T) {
	f := FormatOf(kernels.Q4_K)
	good := randomBlocks(f, 4, 1)
	_, err := FromBlocks(kernels.Q4_K, good, 2, 300)
	assert.EqualError(t, err, "quant: Q4_K rows of 300 values are not whole blocks of 256")
	_, err = FromBlocks(kernels.Q4_K, good[:500], 2, 512)
	assert.EqualError(t, err, "quant: Q4_K data of 500 bytes for a 2×512 matrix, want 576")
	_, err = FromBlocks(kernels.Q8_0, make([]byte, 34), 1, 32)
	assert.EqualError(t, err, "quant: Q8_0 is not a block format goformer multiplies")
	for _, h := range []uint16{0x7C00, 0xFC00, 0x7E00} { // +Inf, -Inf, NaN
		bad := append([]byte(nil), good...)
		bad[3*144+2], bad[3*144+3] = byte(h), byte(h>>8) // dmin of block 1 of row 1
		_, err = FromBlocks(kernels.Q4_K, bad, 2, 512)
		assert.ErrorContains(t, err, "quant: Q4_K block 1 of row 1 has scale ")
	}
}

func ExampleBlockMatrix() {
	// One Q4_0 row of 32 values: d = 0.5, every nibble 9, so every value
	// is (9 − 8)·0.5 = 0.5.
	blk := make([]byte, 18)
	blk[0], blk[1] = 0x00, 0x38 // fp16 0.5
	for i := 2; i < 18; i++ {
		blk[i] = 0x99
	}
	m, _ := FromBlocks(kernels.Q4_0, blk, 1, 32)
	x := make([]float32, 32)
	for i := range x {
		x[i] = 2
	}
	y := make([]float32, 1)
	m.MatVec(y, x, NewScratch(32))
	fmt.Println(y[0]) // 32 · 0.5 · 2
	// Output: 32
}
