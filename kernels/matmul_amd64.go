//go:build amd64 && !purego

package kernels

import (
	"fmt"

	"github.com/goformer/goformer/asm"
)

// The cache blocks of the micro-kernels. The kc×nr panel of packed W that
// every micro-kernel call of a column block reuses takes kc·nr·4 bytes: 48
// KiB for AVX-512 (the Xeon's L1; on a 32 KiB L1 it streams from L2, which
// at 8 bytes per cycle is far below L2's bandwidth), 24 KiB for AVX2. The
// mc×kc block of packed A (240 KiB) and the kc×nc block of packed W (768 KiB)
// share L2. Under the shared machine's noise no other choice measured
// better (kc 192-512, mc 128-512, nc 384-960 were tried).
var (
	gemmAVX512 = &microKernel{mr: 8, nr: 48, kc: 256, mc: 240, nc: 768, fn: asm.GemmKernel8x48AVX512, transpose: asmPackTranspose}
	gemmAVX2   = &microKernel{mr: 4, nr: 24, kc: 256, mc: 240, nc: 768, fn: asm.GemmKernel4x24AVX2, transpose: asmPackTranspose}
)

// The largest m that runs the multi-row GEMV rather than the blocked GEMM,
// per tier. Measured for k = 768 and 3072, n = 768..50257 on one thread (a
// loaded machine): the AVX-512 GEMV beat the GEMM by 1.2-1.8× at m = 32 on
// every shape; the AVX2 one (A rows in pairs) tied it at m = 24 with
// k = 3072 and lost at m = 32.
const (
	gemvBatchMaxMAVX512 = 32
	gemvBatchMaxMAVX2   = 16
)

// useMatMulAVX512 installs the AVX-512 GEMVs and GEMM.
func useMatMulAVX512(t *impl) {
	t.gemv = gemvAVX512
	t.gemvBatch, t.gemvBatchMaxM = gemvBatchAVX512, gemvBatchMaxMAVX512
	t.gemm = func(c, a, w, bias []float32, m, k, n, j0, j1 int) {
		gemmBlockedColumns(gemmAVX512, c, a, w, nil, bias, m, k, n, j0, j1)
	}
	t.gemmAlign = gemmAVX512.nr
	usePanels(t, gemmAVX512)
}

// useMatMulAVX2 installs the AVX2+FMA GEMVs and GEMM.
func useMatMulAVX2(t *impl) {
	t.gemv = gemvAVX2
	t.gemvBatch, t.gemvBatchMaxM = gemvBatchAVX2, gemvBatchMaxMAVX2
	t.gemm = func(c, a, w, bias []float32, m, k, n, j0, j1 int) {
		gemmBlockedColumns(gemmAVX2, c, a, w, nil, bias, m, k, n, j0, j1)
	}
	t.gemmAlign = gemmAVX2.nr
	usePanels(t, gemmAVX2)
}

// The assembly GEMVs take k and n from len(x) and len(y); MatMul has already
// cut the slices to the shape.
func gemvAVX512(y, x, w, bias []float32, k, n int) { asm.GemvAVX512(y[:n], x[:k], w[:n*k], bias) }
func gemvAVX2(y, x, w, bias []float32, k, n int)   { asm.GemvAVX2(y[:n], x[:k], w[:n*k], bias) }

// The slice expressions hold the kernels' bounds contract (see asm).
func gemvBatchAVX512(c, a, w, bias []float32, m, k, n, ldc int) {
	asm.GemvBatchAVX512(c[:(m-1)*ldc+n], a[:m*k], w[:n*k], bias, m, k, n, ldc)
}
func gemvBatchAVX2(c, a, w, bias []float32, m, k, n, ldc int) {
	asm.GemvBatchAVX2(c[:(m-1)*ldc+n], a[:m*k], w[:n*k], bias, m, k, n, ldc)
}

// asmPackTranspose is the panel packing of both tiers: it needs only AVX.
var asmPackTranspose = asm.PackTransposeAVX2

func archPackTranspose() func(dst, src []float32, ld, rows, cols int) {
	if hasAVX2 {
		return asmPackTranspose
	}
	return nil
}

// archPanelGemv is the panel GEMV of the tier whose panels are width wide
// (48: AVX-512, 24: AVX2), called directly so that a caller's stack tile
// does not escape (a call through a function value would move it to the
// heap, and a decode step allocates nothing).
func archPanelGemv(y, x, b []float32, width int) {
	switch width {
	case gemmAVX512.nr:
		asm.PanelGemv48AVX512(y, x, b)
	case gemmAVX2.nr:
		asm.PanelGemv24AVX2(y, x, b)
	default:
		panic(fmt.Sprintf("kernels: no amd64 panel GEMV of width %d", width))
	}
}
