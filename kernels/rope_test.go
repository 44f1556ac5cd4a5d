package kernels

import (
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rope64 rotates the pairs of x by pos·theta^(−2k/r) in float64, from the
// textbook definition: pair k is (x[2k], x[2k+1]) interleaved and
// (x[k], x[k+r/2]) rotate-half.
func rope64(x []float32, pos int, theta float64, interleaved bool) []float64 {
	r := len(x)
	out := make([]float64, r)
	for k := 0; k < r/2; k++ {
		a, b := k, k+r/2
		if interleaved {
			a, b = 2*k, 2*k+1
		}
		angle := float64(pos) / math.Pow(theta, float64(2*k)/float64(r))
		c, s := math.Cos(angle), math.Sin(angle)
		out[a] = float64(x[a])*c - float64(x[b])*s
		out[b] = float64(x[b])*c + float64(x[a])*s
	}
	return out
}

// ropeTol: each output is two float32 products of values ≤ 2 with table
// entries rounded to float32, summed: a few ulps of 2.
const ropeTol = 1e-6

func TestRoPE(t *testing.T) {
	var dims []int
	for r := 0; r <= 80; r += 2 {
		dims = append(dims, r)
	}
	dims = append(dims, 96, 126, 128, 130, 256, 258)
	forEachTier(t, func(t *testing.T) {
		for _, interleaved := range []bool{false, true} {
			for i, r := range dims {
				for _, pos := range []int{0, 1, 37, 4095, 1_000_003} {
					for _, theta := range []float64{10000, 500000} {
						x := testkit.RandF32(uint64(1000+i), r, 2)
						cos, sin := make([]float32, r), make([]float32, r)
						RoPETable(cos, sin, pos, RoPEFrequencies(theta, r), interleaved)
						g := guardedCopy(x, i%5)
						RoPE(g.data, cos, sin, interleaved)
						g.check(t)
						want := rope64(x, pos, theta, interleaved)
						if d := maxAbsDiff(g.data, want); d > ropeTol {
							t.Fatalf("interleaved %v r=%d pos=%d theta=%g: max abs error %.3g", interleaved, r, pos, theta, d)
						}
					}
				}
			}
		}
	})
}

// TestRoPEConventionsDiffer: the two pairings are different rotations, or
// the test above could not tell a swapped flag.
func TestRoPEConventionsDiffer(t *testing.T) {
	x := testkit.RandF32(5, 64, 1)
	a, b := rope64(x, 9, 10000, false), rope64(x, 9, 10000, true)
	var diff float64
	for i := range a {
		diff = max(diff, math.Abs(a[i]-b[i]))
	}
	assert.Greater(t, diff, 0.1)
}

func TestRoPETable(t *testing.T) {
	cos, sin := make([]float32, 8), make([]float32, 8)
	RoPETable(cos, sin, 3, RoPEFrequencies(10000, 8), true)
	// Pair 0 turns by 3 radians, pair 1 by 3/10000^(1/4) = 0.3.
	assert.InDeltaSlice(t, []float32{float32(math.Cos(3)), float32(math.Cos(3)), float32(math.Cos(0.3)), float32(math.Cos(0.3))}, cos[:4], 1e-7)
	assert.InDeltaSlice(t, []float32{float32(-math.Sin(3)), float32(math.Sin(3)), float32(-math.Sin(0.3)), float32(math.Sin(0.3))}, sin[:4], 1e-7)
	RoPETable(cos, sin, 3, RoPEFrequencies(10000, 8), false)
	assert.InDelta(t, math.Cos(0.3), cos[1], 1e-7)
	assert.InDelta(t, math.Cos(0.3), cos[5], 1e-7)
	assert.InDelta(t, -math.Sin(0.3), sin[1], 1e-7)
	assert.InDelta(t, math.Sin(0.3), sin[5], 1e-7)
}

func TestRoPEPanics(t *testing.T) {
	require.PanicsWithValue(t, "kernels.RoPE: len(x) = 3 is odd", func() { RoPE(make([]float32, 3), make([]float32, 3), make([]float32, 3), false) })
	require.PanicsWithValue(t, "kernels.RoPE: len(cos) = 2 != len(x) = 4", func() { RoPE(make([]float32, 4), make([]float32, 2), make([]float32, 4), true) })
}
