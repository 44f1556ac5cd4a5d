package kernels

import "fmt"

// Q8Block is the number of values that share one scale in goformer's int8
// format, the layout of GGUF's Q8_0: a block of Q8Block int8 values q and a
// scale d stands for the values d·q. goformer keeps the scale as float32
// rather than Q8_0's fp16: the kernels then multiply it without converting,
// and every fp16 scale converts to float32 exactly, so a Q8_0 tensor loads
// without losing anything. Values and scales live in separate slices, value i
// of a row belonging to scale i/Q8Block of that row.
const Q8Block = 32

// Q8Quantize quantizes x, whose length is a multiple of Q8Block, into int8
// values xq and one float32 scale per block, exactly as ggml's
// quantize_row_q8_0_ref except that the scale stays float32:
//
//	for b := 0; b < len(x)/32; b++ {
//		amax := max |x[32b+i]| over i < 32
//		d := amax / 127
//		id := 1 / d // 0 when d < 2⁻¹²⁶: a zero (or denormal) block
//		for i := 0; i < 32; i++ {
//			xq[32b+i] = int8(roundHalfAwayFromZero(x[32b+i] * id))
//		}
//		xs[b] = d // 0 for a zero block
//	}
//
// every step in float32. The values land in [-127, 127]: never -128, which
// Q8MatVec relies on. x must be finite. It runs on the hidden state of every
// token, so every tier vectorizes it.
func Q8Quantize(xq []int8, xs []float32, x []float32) {
	if len(x)%Q8Block != 0 {
		panic(fmt.Sprintf("kernels.Q8Quantize: len(x) = %d is not a multiple of %d", len(x), Q8Block))
	}
	need("Q8Quantize", "xq", len(xq), len(x))
	need("Q8Quantize", "xs", len(xs), len(x)/Q8Block)
	if len(x) == 0 {
		return
	}
	active.types[Q8_0].quantize(xq[:len(x)], xs[:len(x)/Q8Block], x)
}

// Q8MatVec computes y = W·x for an int8 matrix W [n×k] (one row per output,
// values wq, scales ws) and an int8 vector x [k] (values xq, scales xs, from
// Q8Quantize), the matrix-vector product of a decode step:
//
//	nb := k / 32
//	for j := 0; j < n; j++ {
//		var s float32
//		for b := 0; b < nb; b++ {
//			var dot int32 // exact: |dot| ≤ 32·128·127
//			for i := 0; i < 32; i++ {
//				dot += int32(wq[j*k+32*b+i]) * int32(xq[32*b+i])
//			}
//			s += ws[j*nb+b] * xs[b] * float32(dot)
//		}
//		y[j] = s
//	}
//
// The integer block sums are exact on every tier; only the float32 scaling
// and the order of the float32 sum over blocks differ between tiers. k must
// be a multiple of Q8Block. wq may hold any int8 (a Q8_0 file may contain
// -128); xq must lie in [-127, 127], which Q8Quantize guarantees: the AVX2
// kernel moves the sign of w onto x, and -(-128) does not fit in an int8.
// Large products are split by rows of W across Threads() goroutines, with
// results identical to one thread's. The slices may be longer than the
// shapes need; y must not overlap ws or xs.
func Q8MatVec(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, n int) {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels.Q8MatVec: negative shape %d×%d", k, n))
	}
	if k%Q8Block != 0 {
		panic(fmt.Sprintf("kernels.Q8MatVec: k = %d is not a multiple of %d", k, Q8Block))
	}
	nb := k / Q8Block
	need("Q8MatVec", "wq", len(wq), n*k)
	need("Q8MatVec", "ws", len(ws), n*nb)
	need("Q8MatVec", "xq", len(xq), k)
	need("Q8MatVec", "xs", len(xs), nb)
	need("Q8MatVec", "y", len(y), n)
	if n == 0 {
		return
	}
	if k == 0 {
		clear(y[:n])
		return
	}
	q8MatVec(active, y[:n], wq[:n*k], ws[:n*nb], xq[:k], xs[:nb], k, n)
}

// Q8Dequantize expands int8 values q and their scales s into dst, the
// embedding lookup of a quantized row:
//
//	for i := range dst {
//		dst[i] = s[i/32] * float32(q[i])
//	}
//
// len(dst) must be a multiple of Q8Block. It runs once per token on one row,
// so it has no SIMD version.
func Q8Dequantize(dst []float32, q []int8, s []float32) {
	if len(dst)%Q8Block != 0 {
		panic(fmt.Sprintf("kernels.Q8Dequantize: len(dst) = %d is not a multiple of %d", len(dst), Q8Block))
	}
	need("Q8Dequantize", "q", len(q), len(dst))
	need("Q8Dequantize", "s", len(s), len(dst)/Q8Block)
	for b := 0; b < len(dst)/Q8Block; b++ {
		d := s[b]
		for i, v := range q[b*Q8Block : (b+1)*Q8Block] {
			dst[b*Q8Block+i] = d * float32(v)
		}
	}
}
