package kernels

import "fmt"

// MatMul computes C = A · Wᵀ + bias for row-major A [m×k], W [n×k] (one row
// per output feature, goformer's run-time weight layout) and C [m×n]:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			s := bias[j] // 0 when bias is nil
//			for p := 0; p < k; p++ {
//				s += a[i*k+p] * w[j*k+p]
//			}
//			c[i*n+j] = s
//		}
//	}
//
// m = 1 (a decode step) runs a GEMV that streams W once. On amd64, m from 2
// up to 32 (AVX-512) or 16 (AVX2), a batched decode step, runs a multi-row
// GEMV that also reads W once, as stored. Larger m (a prefill), and every
// m > 1 on NEON and in pure Go, runs a cache-blocked GEMM over packed
// panels. Large products are split across Threads() goroutines (GEMVs by
// rows of W, GEMM by column blocks) with results identical to one thread's. The slices may be longer than
// the shapes need; only the first m*k, n*k, m*n and n elements are used. c
// must not overlap a, w or bias.
func MatMul(c, a, w, bias []float32, m, k, n int) {
	if m < 0 || k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels.MatMul: negative shape %d×%d×%d", m, k, n))
	}
	need("MatMul", "a", len(a), m*k)
	need("MatMul", "w", len(w), n*k)
	need("MatMul", "c", len(c), m*n)
	if bias != nil {
		need("MatMul", "bias", len(bias), n)
		bias = bias[:n]
	}
	if m == 0 || n == 0 {
		return
	}
	if m == 1 {
		gemv(active, c[:n], a[:k], w[:n*k], bias, k, n)
		return
	}
	if m <= active.gemvBatchMaxM {
		gemvBatch(active, c[:m*n], a[:m*k], w[:n*k], bias, m, k, n)
		return
	}
	gemm(active, c[:m*n], a[:m*k], w[:n*k], bias, m, k, n)
}
