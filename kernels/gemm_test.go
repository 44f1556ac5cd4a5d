package kernels

import (
	"github.com/goformer/goformer/internal/testkit"
	"testing"
)

// goMicroKernel is the micro-kernel contract written in Go. It lets the
// blocking and packing of gemmBlocked be tested apart from any assembly.
func goMicroKernel(mr, nr int) func(kc int, a, b, c []float32, ldc int) {
	return func(kc int, a, b, c []float32, ldc int) {
		for p := 0; p < kc; p++ {
			for i := 0; i < mr; i++ {
				for j := 0; j < nr; j++ {
					c[i*ldc+j] += a[p*mr+i] * b[p*nr+j]
				}
			}
		}
	}
}

// TestGemmBlocked drives the blocked GEMM with small, odd cache blocks so
// every edge (partial mr, nr, kc, mc and nc blocks) is crossed many times.
// Its micro-kernel is Go code, so the emulated steps leave it to the native
// and purego ones.
func TestGemmBlocked(t *testing.T) {
	if emulated {
		t.Skip("skipping under emulation: the Go micro-kernel runs in the native and purego steps")
	}
	mk := &microKernel{mr: 3, nr: 5, kc: 7, mc: 6, nc: 10, fn: goMicroKernel(3, 5)}
	for i, s := range matMulShapes(true) {
		if s.m < 2 {
			continue
		}
		a := testkit.RandF32(uint64(2*i+1), s.m*s.k, 1)
		w := testkit.RandF32(uint64(2*i+2), s.n*s.k, 1)
		var bias []float32
		if i%2 == 1 {
			bias = testkit.RandF32(uint64(i), s.n, 1)
		}
		c := newGuarded(s.m*s.n, i%3)
		gemmBlocked(mk, c.data, a, w, bias, s.m, s.k, s.n)
		c.check(t)
		if err := testkit.RelL2(c.data, matMul64(a, w, bias, s.m, s.k, s.n)); err > matMulTol {
			t.Fatalf("%d×%d×%d: relative L2 error %.3g", s.m, s.k, s.n, err)
		}
	}
}
