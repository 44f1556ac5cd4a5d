package kernels

import (
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
)

// softmaxTol: every probability is exp(x−m)/Σ, so the relative error is the
// exp error plus the rounding of the sum; 1e-5 in relative L2 is ample for a
// ≤ 2-ulp exp.
const softmaxTol = 1e-5

func TestSoftmax(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, n := range ragged() {
			for _, scale := range []float32{1, 30} {
				x := testkit.RandF32(uint64(100+i), n, scale)
				g := guardedCopy(x, i%4)
				Softmax(g.data)
				g.check(t)
				want := softmax64(x)
				if err := testkit.RelL2(g.data, want); err > softmaxTol {
					t.Fatalf("n=%d scale=%g: relative L2 error %.3g", n, scale, err)
				}
			}
		}
	})
}

// TestSoftmaxExtremes: a masked-out score of -Inf or a huge logit must give
// exact zeros and a distribution that still sums to one, never NaN.
func TestSoftmaxExtremes(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for _, n := range []int{1, 5, 17, 33, 70} {
			x := testkit.RandF32(7, n, 3)
			x[n/2] = 1e30
			if n > 2 {
				x[0] = float32(math.Inf(-1))
			}
			Softmax(x)
			var sum float64
			for i, v := range x {
				assert.False(t, math.IsNaN(float64(v)), "n=%d i=%d", n, i)
				sum += float64(v)
			}
			assert.InDelta(t, 1, sum, 1e-6)
			assert.InDelta(t, 1, x[n/2], 1e-6)
			if n > 2 {
				assert.Zero(t, x[0])
			}
		}
	})
}

// TestExpAccuracy measures the exp of every tier on a dense grid over
// [-88, 0], the range softmax feeds it, and states its error in ulps of the
// correctly rounded float32 result.
func TestExpAccuracy(t *testing.T) {
	const points = 1 << 20
	x := make([]float32, points+3)
	for i := range x {
		x[i] = -88 * float32(i) / float32(len(x)-1)
	}
	got := make([]float32, len(x))
	forEachTier(t, func(t *testing.T) {
		Exp(got, x)
		var worst float64
		var at float32
		for i, v := range x {
			want := float32(math.Exp(float64(v)))
			if want < math.SmallestNonzeroFloat32*(1<<23) {
				continue // subnormal results have no full-precision ulp
			}
			u := ulps(got[i], want)
			if u > worst {
				worst, at = u, v
			}
		}
		t.Logf("%s exp on [-88, 0]: max error %.2f ulp (at x = %g)", ISA(), worst, at)
		assert.LessOrEqual(t, worst, 2.0, "max ulp error at x = %g", at)
	})
}

func ulps(got, want float32) float64 {
	if got == want {
		return 0
	}
	ulp := math.Nextafter32(want, float32(math.Inf(1))) - want
	return math.Abs(float64(got-want)) / float64(ulp)
}
