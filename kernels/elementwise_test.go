package kernels

import (
	"math"
	"slices"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// geluTol: GELU's output is within a few ulps of the float64 formula when
// tanh is computed to float32 precision; 1e-6 absolute on inputs in [-8, 8]
// (outputs up to 8) and 1e-5 relative L2 are both far tighter than a wrong
// constant or a lost tail.
const (
	geluTolAbs = 1e-6 * 8
	geluTolL2  = 1e-5
)

func TestGELU(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, n := range ragged() {
			x := testkit.RandF32(uint64(700+i), n, 8)
			g := newGuarded(n, i%4)
			GELU(g.data, x)
			g.check(t)
			want := gelu64(x)
			if d := maxAbsDiff(g.data, want); d > geluTolAbs {
				t.Fatalf("n=%d: max abs error %.3g", n, d)
			}
			assert.LessOrEqual(t, testkit.RelL2(g.data, want), geluTolL2)
		}
		// Far tails: GELU(x) → x for large x and → 0 for very negative x.
		// A polynomial or exp-based tanh must saturate, not overflow to NaN.
		x := []float32{-1e4, -100, -20, -10, 10, 20, 100, 1e4}
		GELU(x, x)
		assert.InDeltaSlice(t, []float32{0, 0, 0, 0, 10, 20, 100, 1e4}, x, 1e-6)
	})
}

// swigluTolUlp bounds SwiGLU's error against the float64 formula, in units
// of the float32 spacing at the exact result. The generic tier rounds once
// (0.5 ulp); the SIMD tiers add exp's error (2 ulp at most, 1 measured, and
// damped by the division: the relative change of out is at most that of
// e^(-gate)) to three roundings, the add, the divide and the multiply.
// Measured maxima, on 2²⁰ gates in [-88.72, 88.72] (TestSwiGLUAccuracy) and on
// the ragged random rows (TestSwiGLU): avx2 2.60 and 2.30 ulp, natively on an
// AMD EPYC and under qemu -cpu Haswell; neon the same, under qemu's default
// CPU and cortex-a53; generic 0.50. avx512 has not been measured (no AVX-512
// CPU at hand); its exp differs only in scaling by 2ⁿ with one VSCALEFPS,
// exact wherever AVX2's two power-of-two multiplies are. 3 leaves 0.4 ulp of
// margin; a 0.16% error in one exp coefficient (p3) measured 23 ulp.
const swigluTolUlp = 3

// swigluErr is the error of got as SwiGLU(g, u), whose exact value is want,
// in ulps (swigluTolUlp); +Inf marks a result that is wrong in kind (NaN, a
// lost sign, a finite value for an infinite one). Where the kernels' doc
// allows ±0 (e^(-g) overflows float32) or the result is no normal float32,
// any value of the right sign no larger than the exact one counts as 0 ulp.
func swigluErr(got, g float32, want float64) float64 {
	w := float32(want)
	switch {
	case math.IsNaN(want) || math.IsNaN(float64(got)):
		if math.IsNaN(want) && math.IsNaN(float64(got)) {
			return 0
		}
		return math.Inf(1)
	case math.Signbit(float64(got)) != math.Signbit(want):
		return math.Inf(1)
	case math.IsInf(float64(w), 0) || want == 0:
		if got == w {
			return 0
		}
		return math.Inf(1)
	case -float64(g) > math.Log(math.MaxFloat32) || math.Abs(want) < 0x1p-126:
		if math.Abs(float64(got)) <= math.Abs(float64(w)) {
			return 0
		}
	}
	a := float32(math.Abs(want))
	return math.Abs(float64(got)-want) / float64(math.Nextafter32(a, float32(math.Inf(1)))-a)
}

// TestSwiGLU runs every length 0..80 and long ragged ones (Llama-family
// hidden and intermediate widths, one with a tail), with all three slices at
// different misalignments, out poisoned and guarded, and out aliasing gate
// and then up.
func TestSwiGLU(t *testing.T) {
	lengths := append(ragged(), 1536, 4864+3)
	forEachTier(t, func(t *testing.T) {
		var worst float64
		for i, n := range lengths {
			gate := guardedCopy(testkit.RandF32(uint64(1100+i), n, 12), (i+1)%4)
			up := guardedCopy(testkit.RandF32(uint64(1200+i), n, 4), (i+2)%4)
			gate0, up0 := slices.Clone(gate.data), slices.Clone(up.data)
			want := swiglu64(gate.data, up.data)

			out := newGuarded(n, i%4)
			SwiGLU(out.data, gate.data, up.data)
			out.check(t)
			require.Equal(t, gate0, gate.data, "n=%d: gate was written", n)
			require.Equal(t, up0, up.data, "n=%d: up was written", n)
			for j, w := range want {
				e := swigluErr(out.data[j], gate.data[j], w)
				if e > swigluTolUlp {
					t.Fatalf("n=%d: element %d is %v for gate %v, up %v: %.3g ulp from %v",
						n, j, out.data[j], gate.data[j], up.data[j], e, w)
				}
				worst = max(worst, e)
			}

			// Aliased, the result must be the same bits: each vector's
			// inputs are read before its output is stored.
			g := guardedCopy(gate.data, (i+1)%4)
			SwiGLU(g.data, g.data, up.data)
			g.check(t)
			assert.Equal(t, out.data, g.data, "n=%d: out == gate", n)
			u := guardedCopy(up.data, (i+2)%4)
			SwiGLU(u.data, gate.data, u.data)
			u.check(t)
			assert.Equal(t, out.data, u.data, "n=%d: out == up", n)
		}
		t.Logf("%s SwiGLU on ragged lengths, gate in [-12, 12]: max error %.2f ulp", ISA(), worst)
	})
}

func TestAddScaleDotAxpy(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, n := range ragged() {
			a, b := testkit.RandF32(uint64(800+i), n, 1), testkit.RandF32(uint64(900+i), n, 1)

			dst := newGuarded(n, i%4)
			Add(dst.data, a, b)
			dst.check(t)
			for j := range a {
				if dst.data[j] != a[j]+b[j] {
					t.Fatalf("Add n=%d: element %d is %v, want %v", n, j, dst.data[j], a[j]+b[j])
				}
			}

			s := guardedCopy(a, i%3)
			Scale(s.data, -1.75)
			s.check(t)
			for j := range a {
				if s.data[j] != a[j]*-1.75 {
					t.Fatalf("Scale n=%d: element %d", n, j)
				}
			}

			var want float64
			for j := range a {
				want += float64(a[j]) * float64(b[j])
			}
			got := Dot(a, b)
			assert.InDelta(t, want, got, 1e-6*math.Sqrt(float64(n)+1), "Dot n=%d", n)

			y := guardedCopy(b, i%5)
			Axpy(y.data, 0.3, a)
			y.check(t)
			wantY := make([]float64, n)
			for j := range a {
				wantY[j] = float64(b[j]) + 0.3*float64(a[j])
			}
			assert.LessOrEqual(t, maxAbsDiff(y.data, wantY), 3e-7, "Axpy n=%d", n)
		}
	})
}

func TestElementwisePanics(t *testing.T) {
	assert.PanicsWithValue(t, "kernels.Dot: len(a) = 3 != len(b) = 2", func() { Dot(make([]float32, 3), make([]float32, 2)) })
	assert.PanicsWithValue(t, "kernels.Add: len(dst) = 2 != len(b) = 3",
		func() { Add(make([]float32, 2), make([]float32, 2), make([]float32, 3)) })
	assert.PanicsWithValue(t, "kernels.Axpy: len(y) = 1 != len(x) = 2", func() { Axpy(make([]float32, 1), 1, make([]float32, 2)) })
	assert.PanicsWithValue(t, "kernels.GELU: len(out) = 1 != len(x) = 2", func() { GELU(make([]float32, 1), make([]float32, 2)) })
	assert.PanicsWithValue(t, "kernels.SwiGLU: len(out) = 1 != len(gate) = 2",
		func() { SwiGLU(make([]float32, 1), make([]float32, 2), make([]float32, 1)) })
	assert.PanicsWithValue(t, "kernels.SwiGLU: len(out) = 2 != len(up) = 3",
		func() { SwiGLU(make([]float32, 2), make([]float32, 2), make([]float32, 3)) })
}
