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

// randInt16 returns n int16 values uniform in [-lim, lim] from a seeded
// generator.
func randInt16(seed uint64, n, lim int) []int16 {
	rng := rand.New(rand.NewPCG(seed, 0x13198a2e03707344))
	v := make([]int16, n)
	for i := range v {
		v[i] = int16(rng.IntN(2*lim+1) - lim)
	}
	return v
}

// q16QuantizeRef is Q16Quantize written independently: rounding half away
// from zero as floor(|v| + 0.5) in float64, where the sum is exact.
func q16QuantizeRef(x []float32) ([]int16, []float32) {
	q, s := make([]int16, len(x)), make([]float32, len(x)/32)
	for b := range s {
		var amax float32
		for _, v := range x[32*b : 32*b+32] {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 32767
		if d < 0x1p-126 {
			continue
		}
		id := 1 / d
		for i, v := range x[32*b : 32*b+32] {
			p := float64(v * id)
			q[32*b+i] = int16(math.Copysign(math.Floor(math.Abs(p)+0.5), p))
		}
		s[b] = d
	}
	return q, s
}

func TestQ16Quantize(t *testing.T) {
	inputs := q8QuantizeInputs()
	ties := make([]float32, 32)
	ties[0] = 32767 // d = 1: halves are exact ties
	for i := 1; i < 32; i++ {
		ties[i] = float32(i*1000-16000) + 0.5*float32(1-2*(i%2))
	}
	inputs = append(inputs, ties)
	for i, x := range inputs {
		wantQ, wantS := q16QuantizeRef(x)
		xq := int8At(make([]int16, len(x)), i%3)
		for p := range xq {
			xq[p] = -32768 // poison: never a code
		}
		xs := newGuarded(len(x)/32, i%4)
		Q16Quantize(xq, xs.data, x)
		xs.check(t)
		require.Equal(t, wantQ, xq, "input %d", i)
		require.Equal(t, wantS, xs.data, "input %d", i)
	}
	assert.PanicsWithValue(t, "kernels.Q16Quantize: len(x) = 33 is not a multiple of 32", func() {
		Q16Quantize(make([]int16, 33), make([]float32, 1), make([]float32, 33))
	})
}

func TestQ8MatVec16(t *testing.T) {
	shapes := q8Shapes(true) // the 50,257-row table costs seconds on generic

	forEachTier(t, func(t *testing.T) {
		for i, s := range shapes {
			nb := s.k / 32
			wq := int8At(randInt8(uint64(4*i+1), s.n*s.k, -128, 127), i%7)
			xq := int8At(randInt16(uint64(4*i+2), s.k, 32767), (i+3)%5)
			ws := guardedCopy(testkit.RandF32(uint64(4*i+3), s.n*nb, 0.01), i%3).data
			xs := guardedCopy(testkit.RandF32(uint64(4*i+4), nb, 0.05), (i+1)%3).data
			y := newGuarded(s.n, i%4)
			Q8MatVec16(y.data, wq, ws, xq, xs, s.k, s.n)
			y.check(t)
			if err := testkit.RelL2(y.data, q8MatVec64(wq, ws, xq, xs, s.k, s.n)); err > q8MatVecTol {
				t.Fatalf("k=%d n=%d: relative L2 error %.3g > %g", s.k, s.n, err, q8MatVecTol)
			}
		}
	})
}

// TestQ8MatVec16Exact uses unit scales and activations small enough that
// every partial sum stays below 2²⁴, so y is the integer dot product
// exactly on every tier: it pins the sign extension and the pair sums,
// -128 in W and ±32767 in x included (on one block).
func TestQ8MatVec16Exact(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, k := range []int{32, 64, 96, 160, 256, 288, 736, 768} {
			n := 1 + i*3
			nb := k / 32
			lim := (1<<24 - 1) / (128 * k)
			wq := randInt8(uint64(100+i), n*k, -128, 127)
			xq := randInt16(uint64(200+i), k, lim)
			if i == 0 {
				for p := range wq {
					wq[p] = -128
				}
				for p := range xq {
					xq[p] = int16(4095 * (1 - 2*(p%2)))
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
			Q8MatVec16(y.data, wq, ws, xq, xs, k, n)
			y.check(t)
			for j, w := range q8MatVec64(wq, ws, xq, xs, k, n) {
				require.Equal(t, float32(w), y.data[j], "k=%d row %d", k, j)
			}
		}
		// The extremes on one block, where the lanes' sums (4·128·32767)
		// still fit 2²⁴ but the whole dot does not: compare in float64.
		wq, xq := make([]int8, 32), make([]int16, 32)
		for p := range wq {
			wq[p], xq[p] = -128, 32767
		}
		y := make([]float32, 1)
		Q8MatVec16(y, wq, []float32{1}, xq, []float32{1}, 32, 1)
		assert.Equal(t, float32(-32*128*32767), y[0])
	})
}

// TestQ8MatMul16MatchesMatVec: every row of the GEMM is the GEMV of that
// row bit for bit, on every tier and thread count, with n across several
// panels and ragged.
func TestQ8MatMul16MatchesMatVec(t *testing.T) {
	shapes := []q8MMShape{{1, 32, 1}, {2, 96, 1301}, {3, 768, 517}, {5, 64, 2 * q8MatMul16Panel}, {7, 288, 1027}, {0, 32, 5}, {4, 0, 3}}
	forEachTier(t, func(t *testing.T) {
		for i, s := range shapes {
			nb := s.k / 32
			wq := int8At(randInt8(uint64(7*i+1), s.n*s.k, -128, 127), i%5)
			aq := int8At(randInt16(uint64(7*i+2), s.m*s.k, 32767), i%3)
			ws := testkit.RandF32(uint64(7*i+3), s.n*nb, 0.01)
			as := testkit.RandF32(uint64(7*i+4), s.m*nb, 0.05)
			var c1 []float32
			for _, th := range []int{1, 2, 3} {
				c := newGuarded(s.m*s.n, i%4)
				withThreads(th, func() { Q8MatMul16(c.data, aq, as, wq, ws, s.m, s.k, s.n) })
				c.check(t)
				if th == 1 {
					c1 = c.data
				} else {
					require.Equal(t, c1, c.data, "%d×%d×%d, %d threads", s.m, s.k, s.n, th)
				}
			}
			for r := range s.m {
				y := newGuarded(s.n, r%3)
				Q8MatVec16(y.data, wq, ws, aq[r*s.k:(r+1)*s.k], as[r*nb:(r+1)*nb], s.k, s.n)
				require.Equal(t, y.data, c1[r*s.n:(r+1)*s.n], "%d×%d×%d row %d", s.m, s.k, s.n, r)
			}
		}
	})
}

func TestQ8MatVec16Panics(t *testing.T) {
	wq, xq := make([]int8, 64), make([]int16, 32)
	ws, xs, y := make([]float32, 2), make([]float32, 1), make([]float32, 2)
	assert.PanicsWithValue(t, "kernels.Q8MatVec16: k = 33 is not a multiple of 32", func() { Q8MatVec16(y, wq, ws, xq, xs, 33, 1) })
	assert.PanicsWithValue(t, "kernels.Q8MatVec16: len(wq) = 64, need 96", func() { Q8MatVec16(y, wq, ws, xq, xs, 32, 3) })
	assert.PanicsWithValue(t, "kernels.Q8MatVec16: len(xq) = 32, need 64", func() { Q8MatVec16(y, wq, ws, xq, xs, 64, 1) })
	assert.PanicsWithValue(t, "kernels.Q8MatMul16: len(c) = 2, need 6", func() {
		Q8MatMul16(y, make([]int16, 64), make([]float32, 2), make([]int8, 96), make([]float32, 3), 2, 32, 3)
	})
}

// TestQ8MatVec16NoAllocs: a decode step's logits allocate nothing, split
// across threads or not.
func TestQ8MatVec16NoAllocs(t *testing.T) {
	k, n := 256, 1027 // just large enough to be split
	wq, xq := randInt8(1, n*k, -128, 127), randInt16(2, k, 32767)
	ws, xs, y := testkit.RandF32(3, n*k/32, 0.01), testkit.RandF32(4, k/32, 0.05), make([]float32, n)
	for _, th := range []int{1, 2} {
		withThreads(th, func() {
			Q8MatVec16(y, wq, ws, xq, xs, k, n)
			assert.Zero(t, testing.AllocsPerRun(5, func() { Q8MatVec16(y, wq, ws, xq, xs, k, n) }), "%d threads", th)
		})
	}
}

// BenchmarkQ8MatVec16 is BenchmarkQ8MatVec with int16 activations, on the
// logits shapes of GPT-2 (768) and SmolLM2 (576): the same bytes streamed.
func BenchmarkQ8MatVec16(b *testing.B) {
	saved := active
	defer func() { active = saved }()
	oneThread(b)
	for _, tier := range tiers {
		active = tier
		for _, s := range []q8Shape{{768, 50257}, {576, 50257}, {768, 3072}} {
			nb := s.k / 32
			wq, ws := randInt8(1, s.n*s.k, -127, 127), testkit.RandF32(2, s.n*nb, 0.01)
			xq, xs := randInt16(3, s.k, 32767), testkit.RandF32(4, nb, 0.05)
			y := make([]float32, s.n)
			b.Run(fmt.Sprintf("%s/%dx%d", tier.name, s.k, s.n), func(b *testing.B) {
				for b.Loop() {
					Q8MatVec16(y, wq, ws, xq, xs, s.k, s.n)
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(s.n*s.k)/sec/1e9, "GOP/s")
				b.ReportMetric(float64(s.n*s.k+4*s.n*nb)/sec/1e9, "GB/s")
			})
		}
	}
}
