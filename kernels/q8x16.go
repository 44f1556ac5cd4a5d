package kernels

import "fmt"

// Q16Max is the largest magnitude of a 16-bit activation code (Q16Quantize):
// a block's amax maps to ±Q16Max.
const Q16Max = 32767

// Q16Quantize quantizes x, whose length is a multiple of Q8Block, into
// int16 values xq and one float32 scale per block of 32, the activation form
// that Q8MatVec16 multiplies against int8 rows:
//
//	for b := 0; b < len(x)/32; b++ {
//		amax := max |x[32b+i]| over i < 32
//		d := amax / 32767
//		id := 1 / d // 0 when d < 2⁻¹²⁶: a zero (or denormal) block
//		for i := 0; i < 32; i++ {
//			xq[32b+i] = int16(roundHalfAwayFromZero(x[32b+i] * id))
//		}
//		xs[b] = d // 0 for a zero block
//	}
//
// every step in float32, as Q8Quantize with 32767 for 127. Sixteen bits
// make the activations' rounding 258 times finer than int8's, far below the
// rounding of the int8 rows themselves: it is for the logits GEMV of a
// tied int8 embedding, whose per-prompt perplexity the int8 activations
// moved by up to 0.8% (TestTiedInt8Logits). It runs once per token on a
// vector of d values, so it has no SIMD version. x must be finite.
func Q16Quantize(xq []int16, xs []float32, x []float32) {
	if len(x)%Q8Block != 0 {
		panic(fmt.Sprintf("kernels.Q16Quantize: len(x) = %d is not a multiple of %d", len(x), Q8Block))
	}
	need("Q16Quantize", "xq", len(xq), len(x))
	need("Q16Quantize", "xs", len(xs), len(x)/Q8Block)
	quantizeBlocksGeneric(xq[:len(x)], xs[:len(x)/Q8Block], x, Q8Block, Q16Max)
}

// Q8MatVec16 computes y = W·x for an int8 matrix W [n×k] (values wq, scales
// ws, as Q8MatVec) and an int16 vector x [k] (values xq, scales xs, from
// Q16Quantize):
//
//	nb := k / 32
//	for j := 0; j < n; j++ {
//		var s float32
//		for b := 0; b < nb; b++ {
//			var dot int32 // exact: |dot| ≤ 32·128·32767 < 2³¹
//			for i := 0; i < 32; i++ {
//				dot += int32(wq[j*k+32*b+i]) * int32(xq[32*b+i])
//			}
//			s += ws[j*nb+b] * xs[b] * float32(dot)
//		}
//		y[j] = s
//	}
//
// It reads the same int8 bytes as Q8MatVec, so it streams as fast; only
// the activations are wider. The integer block sums are exact on every
// tier; the float32 scaling and the order of the sum over blocks differ
// between tiers. xq may hold any int16 but -32768. k must be a multiple of
// Q8Block. Large products are split by rows of W across Threads()
// goroutines, with results identical to one thread's. The slices may be
// longer than the shapes need; y must not overlap ws or xs.
func Q8MatVec16(y []float32, wq []int8, ws []float32, xq []int16, xs []float32, k, n int) {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels.Q8MatVec16: negative shape %d×%d", k, n))
	}
	if k%Q8Block != 0 {
		panic(fmt.Sprintf("kernels.Q8MatVec16: k = %d is not a multiple of %d", k, Q8Block))
	}
	nb := k / Q8Block
	need("Q8MatVec16", "wq", len(wq), n*k)
	need("Q8MatVec16", "ws", len(ws), n*nb)
	need("Q8MatVec16", "xq", len(xq), k)
	need("Q8MatVec16", "xs", len(xs), nb)
	need("Q8MatVec16", "y", len(y), n)
	if n == 0 {
		return
	}
	if k == 0 {
		clear(y[:n])
		return
	}
	q8MatVec16(active, y[:n], wq[:n*k], ws[:n*nb], xq[:k], xs[:nb], k, n)
}

// q8MatMul16Panel is the rows of W each pass of Q8MatMul16 multiplies by
// every row of A: 512 rows of 768 int8 values and their scales are 400 KB,
// which stay in a 1 MiB L2 while the rows of A go by.
const q8MatMul16Panel = 512

// Q8MatMul16 computes C = A·Wᵀ for m int16 rows A [m×k] (values aq, scales
// as: each row quantized by Q16Quantize) and an int8 matrix W [n×k]:
//
//	for i := 0; i < m; i++ {
//		Q8MatVec16(c[i*n:(i+1)*n], wq, ws, aq[i*k:(i+1)*k], as[i*k/32:(i+1)*k/32], k, n)
//	}
//
// bit for bit, row by row: it runs the GEMV itself on panels of W small
// enough to stay in L2 (each row of y depends on its row of W alone), so W
// streams from memory once per call rather than once per row of A. The
// scores of a batch's states thus equal a session's decode exactly.
func Q8MatMul16(c []float32, aq []int16, as []float32, wq []int8, ws []float32, m, k, n int) {
	if m < 0 || k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels.Q8MatMul16: negative shape %d×%d×%d", m, k, n))
	}
	if k%Q8Block != 0 {
		panic(fmt.Sprintf("kernels.Q8MatMul16: k = %d is not a multiple of %d", k, Q8Block))
	}
	nb := k / Q8Block
	need("Q8MatMul16", "aq", len(aq), m*k)
	need("Q8MatMul16", "as", len(as), m*nb)
	need("Q8MatMul16", "wq", len(wq), n*k)
	need("Q8MatMul16", "ws", len(ws), n*nb)
	need("Q8MatMul16", "c", len(c), m*n)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		clear(c[:m*n])
		return
	}
	q8MatMul16(active, c[:m*n], aq[:m*k], as[:m*nb], wq[:n*k], ws[:n*nb], m, k, n)
}

// q8MatVec16 is the GEMV: the GEMM of one row.
func q8MatVec16(t *impl, y []float32, wq []int8, ws []float32, xq []int16, xs []float32, k, n int) {
	q8MatMul16(t, y, xq, xs, wq, ws, 1, k, n)
}

// q8MatMul16Job is columns [lo, hi) of C = A·Wᵀ, int16 A against int8 W.
type q8MatMul16Job struct {
	t         *impl
	c, as, ws []float32
	aq        []int16
	wq        []int8
	m, k, n   int
}

// run multiplies each panel of W in [lo, hi) by every row of A.
func (j *q8MatMul16Job) run(lo, hi int) {
	k, nb, mv := j.k, j.k/Q8Block, j.t.types[Q8_0].matVec16
	for j0 := lo; j0 < hi; j0 += q8MatMul16Panel {
		j1 := min(hi, j0+q8MatMul16Panel)
		for i := range j.m {
			mv(j.c[i*j.n+j0:i*j.n+j1], j.wq[j0*k:j1*k], j.ws[j0*nb:j1*nb], j.aq[i*k:(i+1)*k], j.as[i*nb:(i+1)*nb], k, j1-j0)
		}
	}
}

// q8MatMul16 splits the product by rows of W across the pool when it is
// large; every element's arithmetic is independent of the split.
func q8MatMul16(t *impl, c []float32, aq []int16, as []float32, wq []int8, ws []float32, m, k, n int) {
	if m*k*n >= minParallelMACs && n >= 8 && workPool.acquire() {
		j := &workPool.jobs.q8MatMul16
		*j = q8MatMul16Job{t: t, c: c, aq: aq, as: as, wq: wq, ws: ws, m: m, k: k, n: n}
		workPool.run(j, n, 4, chunksPerThread*Threads())
		workPool.release()
		return
	}
	j := q8MatMul16Job{t: t, c: c, aq: aq, as: as, wq: wq, ws: ws, m: m, k: k, n: n}
	j.run(0, n)
}
