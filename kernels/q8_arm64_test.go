//go:build arm64 && !purego

package kernels

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/goformer/goformer/asm"
	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// q8MatVecNEONVariants lists the NEON matrix-vector kernels this CPU can
// run. The tier holds only one of them, so TestQ8MatVec covers the other
// only through this list: the widening kernel runs here on every core, the
// dotprod one where it exists.
func q8MatVecNEONVariants() map[string]func(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, n int) {
	v := map[string]func(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, n int){
		"widening": asm.Q8MatVecNEON,
	}
	if hasDotProd {
		v["sdot"] = asm.Q8MatVecNEONDot
	}
	return v
}

// TestQ8MatVecNEONVariants runs both NEON kernels directly on the shapes
// of TestQ8MatVec (n ≥ 1, k ≥ 32: the kernels' contract), against the
// float64 reference and the generic twin, and with unit scales, where every
// tier must get the integer sums exactly.
func TestQ8MatVecNEONVariants(t *testing.T) {
	shapes := q8Shapes(testing.Short())
	for name, kernel := range q8MatVecNEONVariants() {
		t.Run(name, func(t *testing.T) {
			for i, s := range shapes {
				if s.k == 0 || s.n == 0 {
					continue
				}
				nb := s.k / 32
				wq := int8At(randInt8(uint64(4*i+1), s.n*s.k, -128, 127), i%7)
				xq := int8At(randInt8(uint64(4*i+2), s.k, -127, 127), (i+3)%5)
				ws := guardedCopy(testkit.RandF32(uint64(4*i+3), s.n*nb, 0.01), i%3).data
				xs := guardedCopy(testkit.RandF32(uint64(4*i+4), nb, 0.05), (i+1)%3).data
				y := newGuarded(s.n, i%4)
				kernel(y.data, wq, ws, xq, xs, s.k, s.n)
				y.check(t)
				want := q8MatVec64(wq, ws, xq, xs, s.k, s.n)
				if err := testkit.RelL2(y.data, want); err > q8MatVecTol {
					t.Fatalf("k=%d n=%d: relative L2 error %.3g > %g against float64", s.k, s.n, err, q8MatVecTol)
				}
				twin := make([]float32, s.n)
				q8MatVecGeneric(twin, wq, ws, xq, xs, s.k, s.n)
				twin64 := make([]float64, s.n)
				for j, v := range twin {
					twin64[j] = float64(v)
				}
				if err := testkit.RelL2(y.data, twin64); err > q8MatVecTol {
					t.Fatalf("k=%d n=%d: relative L2 error %.3g > %g against the generic twin", s.k, s.n, err, q8MatVecTol)
				}

				// Unit scales: y is the integer dot product itself.
				for p := range ws {
					ws[p] = 1
				}
				for p := range xs {
					xs[p] = 1
				}
				if i == 0 {
					for p := range wq {
						wq[p] = -128
					}
					for p := range xq {
						xq[p] = -127
					}
				}
				kernel(y.data, wq, ws, xq, xs, s.k, s.n)
				y.check(t)
				for j, w := range q8MatVec64(wq, ws, xq, xs, s.k, s.n) {
					require.Equal(t, float32(w), y.data[j], "unit scales, k=%d n=%d row %d", s.k, s.n, j)
				}
			}
		})
	}
}

// TestQ8MatVecNEONSelected checks that the neon tier runs SDOT exactly when
// the CPU has dotprod, and that detection agrees with what the CPU is known
// to be: qemu's Cortex-A53 is ARMv8.0 (no dotprod), and a real arm64 Linux
// lists asimddp in /proc/cpuinfo when it has it.
func TestQ8MatVecNEONSelected(t *testing.T) {
	var neon *impl
	for _, tier := range tiers {
		if tier.name == "neon" {
			neon = tier
		}
	}
	require.NotNil(t, neon, "no neon tier among %v", ISAs())
	want, wantName := asm.Q8MatVecNEON, "Q8MatVecNEON (widening)"
	if hasDotProd {
		want, wantName = asm.Q8MatVecNEONDot, "Q8MatVecNEONDot (sdot)"
	}
	assert.Equal(t, reflect.ValueOf(want).Pointer(), reflect.ValueOf(neon.types[Q8_0].matVec).Pointer(),
		"the neon tier's q8MatVec is not %s", wantName)
	t.Logf("dotprod %v: the neon tier runs %s", hasDotProd, wantName)

	if model := os.Getenv("QEMU_CPU"); strings.HasPrefix(model, "cortex-a53") || strings.HasPrefix(model, "cortex-a57") || strings.HasPrefix(model, "cortex-a72") {
		assert.False(t, hasDotProd, "QEMU_CPU=%s has no dotprod, yet it was detected", model)
	}
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(info), "\n") {
			if name, features, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "Features" {
				assert.Equal(t, strings.Contains(" "+features+" ", " asimddp "), hasDotProd,
					"/proc/cpuinfo Features: %s", features)
				break
			}
		}
	}
}
