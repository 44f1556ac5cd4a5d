package kernels

import (
	"math"
	"testing"

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
			x := randVec(uint64(1000+i), n, 1)
			for j := range x {
				x[j] -= 200
			}
			g := guardedCopy(x, i%4)
			Softmax(g.data)
			g.check(t)
			if err := relL2(g.data, softmax64(x)); err > softmaxTol {
				t.Fatalf("n=%d: relative L2 error %.3g", n, err)
			}
		}
	})
}
