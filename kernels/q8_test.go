package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// q8MatVecTol is the relative L2 error allowed for Q8MatVec against the
// float64 reference built from the same int8 values and scales. The integer
// block sums are exact on every tier, so the error is only float32 rounding:
// each block term ws·xs·dot takes two roundings (the int32→float32
// conversion is exact below 2²⁴), and the sum over k/32 blocks (split into
// lanes by the SIMD tiers) adds about 6e-8·√(k/32), under 1e-6 for k = 3072.
// 2e-6 leaves room for that; a lost block or a wrong sign is off by far more.
const q8MatVecTol = 2e-6

// randInt8 returns n int8 values uniform in [lo, hi] from a seeded generator.
func randInt8(seed uint64, n, lo, hi int) []int8 {
	rng := rand.New(rand.NewPCG(seed, 0x243f6a8885a308d3))
	v := make([]int8, n)
	for i := range v {
		v[i] = int8(lo + rng.IntN(hi-lo+1))
	}
	return v
}

// int8At copies src (int8 or int16 codes) into a larger buffer at an odd
// offset, so SIMD loads cannot rely on alignment.
func int8At[T int8 | int16](src []T, misalign int) []T {
	buf := make([]T, len(src)+misalign+64)
	copy(buf[misalign:], src)
	return buf[misalign : misalign+len(src) : misalign+len(src)]
}

// q8MatVec64 is Q8MatVec's meaning in float64 (and Q8MatVec16's, for
// int16 xq): exact integer block sums scaled by the float32 scales.
func q8MatVec64[X int8 | int16](wq []int8, ws []float32, xq []X, xs []float32, k, n int) []float64 {
	nb := k / 32
	y := make([]float64, n)
	for j := range n {
		for b := range nb {
			var dot int64
			for i := range 32 {
				dot += int64(wq[j*k+32*b+i]) * int64(xq[32*b+i])
			}
			y[j] += float64(ws[j*nb+b]) * float64(xs[b]) * float64(dot)
		}
	}
	return y
}

type q8Shape struct{ k, n int }

func q8Shapes(short bool) []q8Shape {
	var shapes []q8Shape
	for k := 32; k <= 3072; k += 32 {
		shapes = append(shapes, q8Shape{k, 1 + (k/32*7)%23})
	}
	for n := 0; n <= 40; n++ {
		shapes = append(shapes, q8Shape{32 * (1 + n%5), n})
	}
	shapes = append(shapes, q8Shape{0, 3}, q8Shape{768, 2304}, q8Shape{96, 1001}, q8Shape{3072, 67})
	if !short {
		shapes = append(shapes, q8Shape{768, 50257})
	}
	return shapes
}

func TestQ8MatVec(t *testing.T) {
	shapes := q8Shapes(testing.Short())
	forEachTier(t, func(t *testing.T) {
		for i, s := range shapes {
			nb := s.k / 32
			// The whole int8 range for W, -128 included; [-127, 127] for x.
			wq := int8At(randInt8(uint64(4*i+1), s.n*s.k, -128, 127), i%7)
			xq := int8At(randInt8(uint64(4*i+2), s.k, -127, 127), (i+3)%5)
			ws := guardedCopy(testkit.RandF32(uint64(4*i+3), s.n*nb, 0.01), i%3).data
			xs := guardedCopy(testkit.RandF32(uint64(4*i+4), nb, 0.05), (i+1)%3).data
			y := newGuarded(s.n, i%4)
			Q8MatVec(y.data, wq, ws, xq, xs, s.k, s.n)
			y.check(t)
			want := q8MatVec64(wq, ws, xq, xs, s.k, s.n)
			if err := testkit.RelL2(y.data, want); err > q8MatVecTol {
				t.Fatalf("k=%d n=%d: relative L2 error %.3g > %g", s.k, s.n, err, q8MatVecTol)
			}
		}
	})
}

// TestQ8MatVecExact uses unit scales, so y is the integer dot product itself:
// below 2²⁴ every tier must get it exactly, whatever its summation order.
// This pins the integer path (the u8×s8 tricks and -128 in W) bit for bit.
func TestQ8MatVecExact(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, k := range []int{32, 64, 96, 160, 256, 736, 768} {
			n := 1 + i*3
			nb := k / 32
			wq := randInt8(uint64(100+i), n*k, -128, 127)
			xq := randInt8(uint64(200+i), k, -127, 127)
			if i == 0 {
				// The extremes: every product is -128·-127 or 127·127.
				for p := range wq {
					wq[p] = -128
				}
				for p := range xq {
					xq[p] = -127
				}
			}
			ws, xs := make([]float32, n*nb), make([]float32, nb)
			for p := range ws {
				ws[p] = 1
			}
			for p := range xs {
				xs[p] = 1
			}
			y := newGuarded(n, 1)
			Q8MatVec(y.data, wq, ws, xq, xs, k, n)
			y.check(t)
			for j, w := range q8MatVec64(wq, ws, xq, xs, k, n) {
				require.Equal(t, float32(w), y.data[j], "k=%d row %d", k, j)
			}
		}
	})
}

func TestQ8MatVecPanics(t *testing.T) {
	wq, xq := make([]int8, 64), make([]int8, 32)
	ws, xs, y := make([]float32, 2), make([]float32, 1), make([]float32, 2)
	assert.PanicsWithValue(t, "kernels.Q8MatVec: k = 33 is not a multiple of 32", func() { Q8MatVec(y, wq, ws, xq, xs, 33, 1) })
	assert.PanicsWithValue(t, "kernels.Q8MatVec: negative shape 32×-1", func() { Q8MatVec(y, wq, ws, xq, xs, 32, -1) })
	assert.PanicsWithValue(t, "kernels.Q8MatVec: len(wq) = 64, need 96", func() { Q8MatVec(y, wq, ws, xq, xs, 32, 3) })
	assert.PanicsWithValue(t, "kernels.Q8MatVec: len(ws) = 2, need 3", func() { Q8MatVec(y, make([]int8, 96), ws, xq, xs, 32, 3) })
	assert.PanicsWithValue(t, "kernels.Q8MatVec: len(xq) = 32, need 64", func() { Q8MatVec(y, wq, ws, xq, xs, 64, 1) })
	assert.PanicsWithValue(t, "kernels.Q8MatVec: len(xs) = 1, need 2", func() { Q8MatVec(y, wq, ws, make([]int8, 64), xs, 64, 1) })
	assert.PanicsWithValue(t, "kernels.Q8MatVec: len(y) = 2, need 3", func() { Q8MatVec(y, make([]int8, 96), make([]float32, 3), xq, xs, 32, 3) })
}

// q8QuantizeRef is ggml's quantize_row_q8_0_ref with a float32 scale, written
// independently of the generic twin: rounding half away from zero as
// floor(|v| + 0.5) in float64, where the sum is exact.
func q8QuantizeRef(x []float32) ([]int8, []float32) {
	q, s := make([]int8, len(x)), make([]float32, len(x)/32)
	for b := range s {
		var amax float32
		for _, v := range x[32*b : 32*b+32] {
			if v < 0 {
				v = -v
			}
			if v > amax {
				amax = v
			}
		}
		d := amax / 127
		if d < 0x1p-126 {
			continue // a zero block: scale 0, values 0
		}
		id := 1 / d
		for i, v := range x[32*b : 32*b+32] {
			p := float64(v * id)
			r := math.Floor(math.Abs(p) + 0.5)
			q[32*b+i] = int8(math.Copysign(r, p))
		}
		s[b] = d
	}
	return q, s
}

// q8QuantizeInputs returns test rows: random ones of many lengths, and
// crafted blocks with exact ties, a zero block, a denormal block and the
// values just below a tie.
func q8QuantizeInputs() [][]float32 {
	var rows [][]float32
	for i, nb := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 24, 33, 96} {
		rows = append(rows, testkit.RandF32(uint64(300+i), 32*nb, float32(1+i*7)))
	}
	ties := make([]float32, 96)
	ties[0] = 127 // amax 127: d = 1, so x·id = x and halves are exact ties
	for i := 1; i < 32; i++ {
		ties[i] = float32(i%9-4) + 0.5*float32(1-2*(i%2))
	}
	ties[5] = 0.49999997 // rounds to 0, where trunc(v+0.5) would give 1
	ties[6] = -0.49999997
	// ties[32:64] stays zero: an all-zero block.
	for i := 64; i < 96; i++ {
		ties[i] = 1e-40 * float32(i-80) // denormal: amax/127 < 2⁻¹²⁶
	}
	rows = append(rows, ties)
	return rows
}

func TestQ8Quantize(t *testing.T) {
	inputs := q8QuantizeInputs()
	forEachTier(t, func(t *testing.T) {
		for i, x := range inputs {
			wantQ, wantS := q8QuantizeRef(x)
			gx := guardedCopy(x, i%5).data
			xq := make([]int8, len(x)+40)
			for p := range xq {
				xq[p] = 99 // poison: never a quantized value here
			}
			xs := newGuarded(len(x)/32, (i+1)%3)
			Q8Quantize(xq[i%7:i%7+len(x)], xs.data, gx)
			xs.check(t)
			require.Equal(t, wantS, xs.data, "scales of row %d (len %d)", i, len(x))
			require.Equal(t, wantQ, xq[i%7:i%7+len(x)], "values of row %d (len %d)", i, len(x))
			for p, v := range xq {
				if p < i%7 || p >= i%7+len(x) {
					require.Equal(t, int8(99), v, "byte %d outside the output was written", p)
				}
			}
		}
	})
}

func TestQ8QuantizeTies(t *testing.T) {
	x := make([]float32, 32)
	x[0], x[1], x[2], x[3], x[4] = 127, 2.5, -3.5, 0.5, -0.5
	xq, xs := make([]int8, 32), make([]float32, 1)
	forEachTier(t, func(t *testing.T) {
		Q8Quantize(xq, xs, x)
		assert.Equal(t, float32(1), xs[0])
		assert.Equal(t, []int8{127, 3, -4, 1, -1}, xq[:5], "half away from zero, like roundf")
	})
}

func TestQ8QuantizePanics(t *testing.T) {
	assert.PanicsWithValue(t, "kernels.Q8Quantize: len(x) = 33 is not a multiple of 32", func() {
		Q8Quantize(make([]int8, 64), make([]float32, 2), make([]float32, 33))
	})
	assert.PanicsWithValue(t, "kernels.Q8Quantize: len(xq) = 31, need 32", func() {
		Q8Quantize(make([]int8, 31), make([]float32, 1), make([]float32, 32))
	})
	assert.PanicsWithValue(t, "kernels.Q8Quantize: len(xs) = 1, need 2", func() {
		Q8Quantize(make([]int8, 64), make([]float32, 1), make([]float32, 64))
	})
}

// TestQ8EndToEnd quantizes a random f32 matrix and vector and compares the
// product with the float64 product of the originals. Rounding to a step
// d = amax/127 leaves uniform noise of rms d/√12 per value; for values spread
// uniformly (amax/rms = √3) that is 1/254 ≈ 0.39% of the rms per factor, and
// √2·0.39% ≈ 0.56% relative L2 for the product (measured: 0.51–0.60%). The
// bound 1% allows for the spread of a finite sample; a kernel bug is off by
// far more.
func TestQ8EndToEnd(t *testing.T) {
	const tol = 0.01
	forEachTier(t, func(t *testing.T) {
		for i, s := range []q8Shape{{768, 300}, {96, 513}, {3072, 40}} {
			w := testkit.RandF32(uint64(500+i), s.n*s.k, 0.1)
			x := testkit.RandF32(uint64(600+i), s.k, 3)
			wq, ws := make([]int8, len(w)), make([]float32, len(w)/32)
			Q8Quantize(wq, ws, w)
			xq, xs := make([]int8, len(x)), make([]float32, len(x)/32)
			Q8Quantize(xq, xs, x)
			y := make([]float32, s.n)
			Q8MatVec(y, wq, ws, xq, xs, s.k, s.n)
			err := testkit.RelL2(y, matMul64(x, w, nil, 1, s.k, s.n))
			t.Logf("k=%d n=%d: relative L2 error %.3g", s.k, s.n, err)
			assert.Less(t, err, tol, "k=%d n=%d", s.k, s.n)
			assert.Greater(t, err, 1e-4, "k=%d n=%d: quantization must show", s.k, s.n)
		}
	})
}

func TestQ8Dequantize(t *testing.T) {
	q := randInt8(7, 96, -128, 127)
	s := testkit.RandF32(8, 3, 0.5)
	dst := newGuarded(96, 3)
	Q8Dequantize(dst.data, q, s)
	dst.check(t)
	for i, v := range dst.data {
		require.Equal(t, s[i/32]*float32(q[i]), v)
	}
	assert.PanicsWithValue(t, "kernels.Q8Dequantize: len(q) = 96, need 128", func() {
		Q8Dequantize(make([]float32, 128), q, make([]float32, 4))
	})
}

func ExampleQ8MatVec() {
	// A 2×32 int8 matrix against a quantized vector of 32 ones.
	x := make([]float32, 32)
	for i := range x {
		x[i] = 1
	}
	xq, xs := make([]int8, 32), make([]float32, 1)
	Q8Quantize(xq, xs, x) // xq = 127, xs = 1/127
	wq := make([]int8, 64)
	wq[0], wq[32] = 2, -3
	ws := []float32{0.5, 1}
	y := make([]float32, 2)
	Q8MatVec(y, wq, ws, xq, xs, 32, 2)
	fmt.Println(xq[0], y)
	// Output: 127 [1 -3]
}

func BenchmarkQ8MatVec(b *testing.B) {
	saved := active
	defer func() { active = saved }()
	oneThread(b)
	for _, tier := range tiers {
		active = tier
		for _, s := range []q8Shape{{768, 50257}, {576, 50257}, {768, 3072}, {96, 50257}} {
			nb := s.k / 32
			wq := randInt8(1, s.n*s.k, -127, 127)
			ws := testkit.RandF32(2, s.n*nb, 0.01)
			xq := randInt8(3, s.k, -127, 127)
			xs := testkit.RandF32(4, nb, 0.05)
			y := make([]float32, s.n)
			b.Run(fmt.Sprintf("%s/%dx%d", tier.name, s.k, s.n), func(b *testing.B) {
				for b.Loop() {
					Q8MatVec(y, wq, ws, xq, xs, s.k, s.n)
				}
				// One op is a multiply or an add: 2 per int8 product. The
				// bytes are what a decode step streams: W's int8 values and
				// scales (x and y stay in L1).
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(s.n*s.k)/sec/1e9, "GOP/s")
				b.ReportMetric(float64(s.n*s.k+4*s.n*nb)/sec/1e9, "GB/s")
			})
		}
	}
}

func BenchmarkQ8Quantize(b *testing.B) {
	saved := active
	defer func() { active = saved }()
	for _, tier := range tiers {
		active = tier
		x := testkit.RandF32(1, 768, 2)
		xq, xs := make([]int8, 768), make([]float32, 24)
		b.Run(tier.name+"/768", func(b *testing.B) {
			b.SetBytes(4 * 768)
			for b.Loop() {
				Q8Quantize(xq, xs, x)
			}
		})
	}
}
