package kernels

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
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
			x := randVec(uint64(700+i), n, 8)
			g := newGuarded(n, i%4)
			GELU(g.data, x)
			g.check(t)
			want := gelu64(x)
			if d := maxAbsDiff(g.data, want); d > geluTolAbs {
				t.Fatalf("n=%d: max abs error %.3g", n, d)
			}
			assert.LessOrEqual(t, relL2(g.data, want), geluTolL2)
		}
		// Far tails: GELU(x) → x for large x and → 0 for very negative x.
		// A polynomial or exp-based tanh must saturate, not overflow to NaN.
		x := []float32{-1e4, -100, -20, -10, 10, 20, 100, 1e4}
		GELU(x, x)
		assert.InDeltaSlice(t, []float32{0, 0, 0, 0, 10, 20, 100, 1e4}, x, 1e-6)
	})
}

func TestAddScaleDotAxpy(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, n := range ragged() {
			a, b := randVec(uint64(800+i), n, 1), randVec(uint64(900+i), n, 1)

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
}
