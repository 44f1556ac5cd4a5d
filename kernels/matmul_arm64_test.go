//go:build arm64 && !purego

package kernels

import (
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
)

// TestGemmKernelNEON holds the NEON micro-kernel to its contract on its own:
// c += a·b over kc steps, inside the mr×nr tile of a wider matrix, leaving
// the elements between and around the tile's rows untouched.
func TestGemmKernelNEON(t *testing.T) {
	mk := gemmNEON
	want := goMicroKernel(mk.mr, mk.nr)
	for _, kc := range []int{1, 2, 3, 4, 7, 8, 64, 255, 256} {
		ldc := mk.nr + 3 + kc%5
		a := testkit.RandF32(uint64(kc), kc*mk.mr, 1)
		b := testkit.RandF32(uint64(kc+1000), kc*mk.nr, 1)
		c0 := testkit.RandF32(uint64(kc+2000), mk.mr*ldc, 1)
		g := guardedCopy(c0, kc%3)
		mk.fn(kc, a, b, g.data, ldc)
		g.check(t)
		ref := append([]float32(nil), c0...)
		want(kc, a, b, ref, ldc)
		for i := range mk.mr {
			for j := range ldc {
				got, exp := g.data[i*ldc+j], ref[i*ldc+j]
				if j >= mk.nr {
					assert.Equal(t, c0[i*ldc+j], got, "kc=%d: c[%d][%d] outside the tile changed", kc, i, j)
					continue
				}
				assert.InDelta(t, exp, got, 1e-5*float64(kc), "kc=%d: c[%d][%d]", kc, i, j)
			}
		}
	}
}
