package kernels

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestExpEdges checks Exp where a polynomial exp goes wrong: the ends of
// the float32 range (exp(88.5) is finite although 2^round(88.5·log2e) is
// not), subnormal results, infinities and NaN. Each value sits at its own
// index of a ragged slice, so lanes and the scalar tail both see it.
func TestExpEdges(t *testing.T) {
	inf := float32(math.Inf(1))
	edges := []float32{-inf, -1e30, -200, -104, -103, -100, -95, -87.5, -87.3, -1e-30, 0,
		1e-30, 1, 10, 80, 88, 88.5, 88.7, 88.72, 88.73, 89, 200, 1e30, inf}
	forEachTier(t, func(t *testing.T) {
		for shift := range 5 {
			x := make([]float32, len(edges)+shift)
			copy(x[shift:], edges)
			got := make([]float32, len(x))
			Exp(got, x)
			for i, v := range x[shift:] {
				g, want := got[shift+i], math.Exp(float64(v))
				switch {
				case want > math.MaxFloat32:
					assert.Equal(t, inf, g, "exp(%g)", v)
				case want < math.SmallestNonzeroFloat32/2:
					assert.Zero(t, g, "exp(%g)", v)
				case want < 0x1p-126:
					// Subnormal: "0 or a subnormal" (Exp's contract), and
					// when a subnormal, within two of its steps.
					assert.True(t, g == 0 || math.Abs(float64(g)-want) <= 2*math.SmallestNonzeroFloat32,
						"exp(%g) = %g, want %g", v, g, want)
				default:
					assert.LessOrEqual(t, ulps(g, float32(want)), 2.0, "exp(%g) = %g, want %g", v, g, want)
				}
			}
		}
		nan := []float32{float32(math.NaN())}
		Exp(nan, nan)
		assert.True(t, math.IsNaN(float64(nan[0])), "exp(NaN) = %g", nan[0])
	})
}
