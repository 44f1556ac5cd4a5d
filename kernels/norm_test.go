package kernels

import (
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
)

// normTol: the mean, variance and scale are float32 sums over d values; the
// relative error of each output is a few times 6e-8·√d, far below 1e-5.
const normTol = 1e-5

func normSizes() (ds []int) {
	for d := 1; d <= 80; d++ {
		ds = append(ds, d)
	}
	return append(ds, 96, 255, 768, 1024, 1600, 50257)
}

func TestLayerNorm(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, d := range normSizes() {
			rows := 1 + i%3
			// An offset far from zero catches a one-pass variance that cancels.
			x := testkit.RandF32(uint64(200+i), rows*d, 3)
			for j := range x {
				x[j] += 5
			}
			gain, bias := testkit.RandF32(uint64(300+i), d, 2), testkit.RandF32(uint64(400+i), d, 1)
			out := newGuarded(rows*d, i%4)
			LayerNorm(out.data, x, gain, bias, 1e-5)
			out.check(t)
			// With a handful of features two values can nearly coincide, and
			// x−mean then loses digits to the rounding of the float32 mean
			// whatever the order of operations.
			tol := normTol
			if d < 8 {
				tol = 2e-4
			}
			if err := testkit.RelL2(out.data, layerNorm64(x, gain, bias, 1e-5)); err > tol {
				t.Fatalf("d=%d rows=%d: relative L2 error %.3g", d, rows, err)
			}
			// In place.
			y := append([]float32(nil), x...)
			LayerNorm(y, y, gain, bias, 1e-5)
			assert.Less(t, testkit.RelL2(y, layerNorm64(x, gain, bias, 1e-5)), tol)
		}
	})
}

// TestLayerNormFeatureAxis: each row is normalized on its own. Scaling one
// row must not change another, which a norm over positions would.
func TestLayerNormFeatureAxis(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		d := 37
		x := testkit.RandF32(5, 2*d, 1)
		gain, bias := testkit.RandF32(6, d, 1), testkit.RandF32(7, d, 1)
		a := make([]float32, 2*d)
		LayerNorm(a, x, gain, bias, 1e-5)
		for i := d; i < 2*d; i++ {
			x[i] *= 100
		}
		b := make([]float32, 2*d)
		LayerNorm(b, x, gain, bias, 1e-5)
		assert.Equal(t, a[:d], b[:d])
	})
}

func TestRMSNorm(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, d := range normSizes() {
			rows := 1 + i%3
			x := testkit.RandF32(uint64(500+i), rows*d, 3)
			gain := testkit.RandF32(uint64(600+i), d, 2)
			out := newGuarded(rows*d, i%4)
			RMSNorm(out.data, x, gain, 1e-6)
			out.check(t)
			if err := testkit.RelL2(out.data, rmsNorm64(x, gain, 1e-6)); err > normTol {
				t.Fatalf("d=%d rows=%d: relative L2 error %.3g", d, rows, err)
			}
		}
	})
}

func TestNormPanics(t *testing.T) {
	g := make([]float32, 4)
	assert.PanicsWithValue(t, "kernels.LayerNorm: len(x) is not a multiple of len(gain)",
		func() { LayerNorm(make([]float32, 6), make([]float32, 6), g, g, 1e-5) })
	assert.PanicsWithValue(t, "kernels.RMSNorm: len(out) = 4 != len(x) = 8",
		func() { RMSNorm(make([]float32, 4), make([]float32, 8), g, 1e-5) })
	assert.PanicsWithValue(t, "kernels.LayerNorm: len(gain) = 4 != len(bias) = 3",
		func() { LayerNorm(g, g, g, g[:3], 1e-5) })
}
