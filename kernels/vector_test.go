package kernels

import (
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
)

// TestExpRange covers what TestExpAccuracy leaves out: the positive half
// (a sigmoid or SiLU feeds Exp both signs), both ends of the float32 range
// and the special values a clamped range reduction could turn into NaN.
func TestExpRange(t *testing.T) {
	inf := float32(math.Inf(1))
	x := []float32{-inf, -1e30, -1000, -104, -87.5, -87.33, 0, 1, 88.72, 88.7229, 89, 1000, 1e30, inf, float32(math.NaN())}
	grid := make([]float32, 1<<18)
	for i := range grid {
		grid[i] = 88.72 * float32(i) / float32(len(grid)-1)
	}
	forEachTier(t, func(t *testing.T) {
		got := make([]float32, len(x))
		Exp(got, x)
		for i, v := range x {
			want := float32(math.Exp(float64(v)))
			switch {
			case math.IsNaN(float64(v)):
				assert.True(t, math.IsNaN(float64(got[i])), "exp(NaN) = %v", got[i])
			case want < math.SmallestNonzeroFloat32*(1<<23):
				// Below the normal range the doc allows 0 or a subnormal.
				assert.True(t, got[i] >= 0 && got[i] < math.SmallestNonzeroFloat32*(1<<23), "exp(%v) = %v", v, got[i])
			default:
				assert.LessOrEqual(t, ulps(got[i], want), 2.0, "exp(%v) = %v, want %v", v, got[i], want)
			}
		}

		g := make([]float32, len(grid))
		Exp(g, grid)
		var worst float64
		for i, v := range grid {
			worst = max(worst, ulps(g[i], float32(math.Exp(float64(v)))))
		}
		t.Logf("%s exp on [0, 88.72]: max error %.2f ulp", ISA(), worst)
		assert.LessOrEqual(t, worst, 2.0)
	})
}

// TestSoftmaxFarFromZero: logits all near -200 underflow exp unless the
// maximum is subtracted, so a tail lane that leaks a 0 (or anything above
// the true maximum) into the max pass turns the whole row into 0/0.
func TestSoftmaxFarFromZero(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, n := range ragged()[1:] {
			x := testkit.RandF32(uint64(1000+i), n, 1)
			for j := range x {
				x[j] -= 200
			}
			g := guardedCopy(x, i%4)
			Softmax(g.data)
			g.check(t)
			if err := testkit.RelL2(g.data, softmax64(x)); err > softmaxTol {
				t.Fatalf("n=%d: relative L2 error %.3g", n, err)
			}
		}
	})
}

// TestSwiGLUExtremes: SiLU saturates to gate·up for large gate and to ±0 for
// very negative gate, where e^(-gate) overflows to +Inf; neither end may
// become NaN, zeros keep their signs, and NaN propagates from either input.
// -Inf gives NaN, as the defining loop does (-Inf/Inf).
func TestSwiGLUExtremes(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	var gate, up []float32
	for _, g := range []float32{88, -88, 88.72, -88.72, 89, -89, 100, -100, 1e30, -1e30, 0, negZero, 1, -1, inf, -inf, nan} {
		for _, u := range []float32{1.5, -0.75, 1e-30, 0, nan} {
			gate, up = append(gate, g), append(up, u)
		}
	}
	want := swiglu64(gate, up)
	forEachTier(t, func(t *testing.T) {
		// Run each case at every lane and through the scalar tails too.
		for _, off := range []int{0, 1, 5, 13} {
			g := append(make([]float32, off), gate...)
			u := append(make([]float32, off), up...)
			out := make([]float32, len(g))
			SwiGLU(out, g, u)
			for i, w := range want {
				got := out[off+i]
				assert.LessOrEqual(t, swigluErr(got, gate[i], w), float64(swigluTolUlp),
					"SwiGLU(gate %v, up %v) = %v (%#x), want %v", gate[i], up[i], got, math.Float32bits(got), w)
			}
		}
	})
}

// TestSwiGLUAccuracy measures every tier on a dense grid of gate over the
// range where e^(-gate) is finite, with up random, and states the error in
// ulps of the float64 result.
func TestSwiGLUAccuracy(t *testing.T) {
	const points = 1 << 20
	gate := make([]float32, points+3)
	for i := range gate {
		gate[i] = -88.72 + 2*88.72*float32(i)/float32(len(gate)-1)
	}
	up := testkit.RandF32(1300, len(gate), 4)
	want := swiglu64(gate, up)
	out := make([]float32, len(gate))
	forEachTier(t, func(t *testing.T) {
		SwiGLU(out, gate, up)
		var worst float64
		var at float32
		for i, w := range want {
			if e := swigluErr(out[i], gate[i], w); e > worst {
				worst, at = e, gate[i]
			}
		}
		t.Logf("%s SwiGLU on gate in [-88.72, 88.72]: max error %.2f ulp (at gate = %g)", ISA(), worst, at)
		assert.LessOrEqual(t, worst, float64(swigluTolUlp), "max ulp error at gate = %g", at)
	})
}
