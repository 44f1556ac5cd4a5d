//go:build arm64 && !purego

package kernels

import (
	"fmt"

	"github.com/goformer/goformer/asm"
)

// gemmNEON blocks the GEMM for an 8×8 micro-kernel: a kc×8 W panel (8 KiB)
// stays in L1 while the kernel sweeps a 128×kc block of A (128 KiB) in L2.
var gemmNEON = &microKernel{mr: 8, nr: 8, kc: 256, mc: 128, nc: 1024, fn: asm.GemmKernel8x8NEON}

// useMatMulNEON installs the NEON GEMV and GEMM.
func useMatMulNEON(t *impl) {
	t.gemv = func(y, x, w, bias []float32, k, n int) { asm.GemvNEON(y[:n], x[:k], w[:n*k], bias) }
	t.gemm = func(c, a, w, bias []float32, m, k, n, j0, j1 int) {
		gemmBlockedColumns(gemmNEON, c, a, w, nil, bias, m, k, n, j0, j1)
	}
	t.gemmAlign = gemmNEON.nr
	usePanels(t, gemmNEON)
}

func archPackTranspose() func(dst, src []float32, ld, rows, cols int) { return nil }

// archPanelGemv is the NEON panel GEMV (width 8), called directly so that
// a caller's stack tile does not escape.
func archPanelGemv(y, x, b []float32, width int) {
	if width != gemmNEON.nr {
		panic(fmt.Sprintf("kernels: no NEON panel GEMV of width %d", width))
	}
	asm.PanelGemv8NEON(y, x, b)
}
