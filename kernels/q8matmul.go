package kernels

import "fmt"

// Q8MatMul computes C = A·Wᵀ + bias for an int8 matrix A [m×k] (values aq,
// scales as: each row quantized by Q8Quantize) and an int8 matrix W [n×k]
// (values wq, scales ws), the matrix product of a prefill:
//
//	nb := k / 32
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for b := 0; b < nb; b++ {
//				var dot int32 // exact
//				for p := 0; p < 32; p++ {
//					dot += int32(wq[j*k+32*b+p]) * int32(aq[i*k+32*b+p])
//				}
//				s += ws[j*nb+b] * as[i*nb+b] * float32(dot)
//			}
//			c[i*n+j] = s + bias[j] // no addition when bias is nil
//		}
//	}
//
// Row i of C is, bit for bit, what Q8MatVec computes from row i of A on the
// same tier (plus the bias), whichever way the work is split: a prefill and
// a token-by-token decode of the same prompt agree exactly. The SIMD tiers
// multiply a few rows of A by a few rows of W at once, so each W block
// loaded serves several rows of A; NEON runs Q8MatVec row by row. Large
// products are split by rows of W across Threads() goroutines.
//
// k must be a multiple of Q8Block; aq must lie in [-127, 127] (Q8Quantize
// guarantees it), wq may hold any int8. The slices may be longer than the
// shapes need; c must not overlap the others.
func Q8MatMul(c []float32, aq []int8, as []float32, wq []int8, ws []float32, bias []float32, m, k, n int) {
	if m < 0 || k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels.Q8MatMul: negative shape %d×%d×%d", m, k, n))
	}
	if k%Q8Block != 0 {
		panic(fmt.Sprintf("kernels.Q8MatMul: k = %d is not a multiple of %d", k, Q8Block))
	}
	nb := k / Q8Block
	need("Q8MatMul", "aq", len(aq), m*k)
	need("Q8MatMul", "as", len(as), m*nb)
	need("Q8MatMul", "wq", len(wq), n*k)
	need("Q8MatMul", "ws", len(ws), n*nb)
	c, bias, done := startProduct("Q8MatMul", c, bias, m, k, n)
	if done {
		return
	}
	q8MatMul(active, c, aq[:m*k], as[:m*nb], wq[:n*k], ws[:n*nb], bias, m, k, n)
}

// startProduct checks a product's output c [m×n] and bias (n values or
// nil), panicking with name when either is short, and trims them to those
// lengths; done says there is nothing to multiply: m or n is 0, or k is 0
// and every row of C is now the bias (or zeros without one).
func startProduct(name string, c, bias []float32, m, k, n int) (_, _ []float32, done bool) {
	need(name, "c", len(c), m*n)
	if bias != nil {
		need(name, "bias", len(bias), n)
		bias = bias[:n]
	}
	if m == 0 || n == 0 {
		return c, bias, true
	}
	c = c[:m*n]
	if k == 0 {
		biasRows(c, bias, m, n)
		return c, bias, true
	}
	return c, bias, false
}

// biasRows is the product of an empty k: every row of C is the bias, or
// zeros without one.
func biasRows(c, bias []float32, m, n int) {
	for i := range m {
		if bias != nil {
			copy(c[i*n:(i+1)*n], bias)
		} else {
			clear(c[i*n : (i+1)*n])
		}
	}
}

// q8Tile is a tier's int8 GEMM kernel: rows rows of A against n rows of W,
// storing C's rows ldc floats apart (see asm.Q8MatMul3VNNI for its meaning).
// A tier without one (rows == 0) runs q8MatVec per row of A.
type q8Tile struct {
	rows int
	fn   func(c []float32, ldc int, aq []int8, as []float32, wq []int8, ws []float32, k, n int)
}

// q8PanelBytes bounds the int8 values of W one pass over the rows of A
// multiplies: a panel of 256 KiB stays in L2 while every tile of A streams
// past it.
const q8PanelBytes = 256 << 10

// q8MatMulColumns computes columns [j0, j1) of C = A·Wᵀ + bias: panels of W
// rows, each multiplied by every tile of A rows, then the rows of A left
// over one at a time.
func q8MatMulColumns(t *impl, c []float32, aq []int8, as []float32, wq []int8, ws, bias []float32, m, k, n, j0, j1 int) {
	nb := k / Q8Block
	panel := max(16, q8PanelBytes/k)
	for jc := j0; jc < j1; jc += panel {
		cols := min(panel, j1-jc)
		w, s := wq[jc*k:(jc+cols)*k], ws[jc*nb:(jc+cols)*nb]
		i := 0
		q := &t.types[Q8_0]
		if r := q.tile.rows; r > 0 {
			for ; i+r <= m; i += r {
				q.tile.fn(c[i*n+jc:(i+r-1)*n+jc+cols], n, aq[i*k:(i+r)*k], as[i*nb:(i+r)*nb], w, s, k, cols)
			}
		}
		for ; i < m; i++ {
			q.matVec(c[i*n+jc:i*n+jc+cols], w, s, aq[i*k:(i+1)*k], as[i*nb:(i+1)*nb], k, cols)
		}
	}
	addBiasColumns(t, c, bias, m, n, j0, j1)
}

// addBiasColumns adds bias[j0:j1] to columns [j0, j1) of every row of C
// [m×n]; a nil bias adds nothing.
func addBiasColumns(t *impl, c, bias []float32, m, n, j0, j1 int) {
	if bias == nil {
		return
	}
	for i := range m {
		row := c[i*n+j0 : i*n+j1]
		t.add(row, row, bias[j0:j1])
	}
}
