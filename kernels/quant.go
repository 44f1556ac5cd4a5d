package kernels

import "fmt"

// QuantizeActivations quantizes x, whose length is a multiple of the
// activation block of weight type t (32 for Q8_0 activations, 256 for
// Q8_K), to the int8 form a matrix of type t multiplies (t.Activation()):
// values xq, one float32 scale per block xs, and the integer sums of the
// values xsum, one per 32 (Q8_0) or per 16 (Q8_K) values:
//
//	// bl is the activation block: 32 or 256
//	for b := 0; b < len(x)/bl; b++ {
//		amax := max |x[bl·b+i]| over i < bl
//		d := amax / 127
//		id := 1 / d // 0, and d = 0, when d < 2⁻¹²⁶
//		for i := 0; i < bl; i++ {
//			xq[bl·b+i] = int8(roundHalfAwayFromZero(x[bl·b+i] * id))
//		}
//		xs[b] = d
//	}
//	for s := range xsum {
//		xsum[s] = Σ xq[sl·s+i] over i < sl // sl is 32 or 16
//	}
//
// every step in float32, as Q8Quantize (which it is, for blocks of 32).
// Unlike ggml's Q8_K, whose scale is −max/127 of the signed extreme and
// whose rounding is to nearest even, the Q8_K form here rounds as Q8_0
// does: one rule for every activation. x must be finite; xs and xsum hold
// at least t.ActivationLens(len(x)) elements.
func QuantizeActivations(t WeightType, xq []int8, xs []float32, xsum []int16, x []float32) {
	if !t.Blocked() {
		panic(fmt.Sprintf("kernels.QuantizeActivations: %s is not a blocked type", t))
	}
	act := t.Activation()
	if len(x)%act.BlockLen() != 0 {
		panic(fmt.Sprintf("kernels.QuantizeActivations: len(x) = %d is not a multiple of %d", len(x), act.BlockLen()))
	}
	ns, nsum := t.ActivationLens(len(x))
	need("QuantizeActivations", "xq", len(xq), len(x))
	need("QuantizeActivations", "xs", len(xs), ns)
	need("QuantizeActivations", "xsum", len(xsum), nsum)
	if len(x) == 0 {
		return
	}
	xq, xs, xsum = xq[:len(x)], xs[:ns], xsum[:nsum]
	if act == Q8_K {
		active.types[Q8_K].quantizeQ8K(xq, xs, xsum, x)
		return
	}
	active.types[Q8_0].quantize(xq, xs, x)
	blockSums(xsum, xq, Q8Block)
}

// blockSums writes the sum of every n values of xq to xsum; |sum| ≤
// 32·127 fits an int16.
func blockSums(xsum []int16, xq []int8, n int) {
	for s := range xsum {
		var sum int16
		for _, v := range xq[s*n : (s+1)*n] {
			sum += int16(v)
		}
		xsum[s] = sum
	}
}

func q8KQuantizeGeneric(xq []int8, xs []float32, xsum []int16, x []float32) {
	quantizeBlocksGeneric(xq, xs, x, QK, 127)
	blockSums(xsum, xq, q8KSumLen)
}

// QuantMatVec computes y = W·x for a matrix W [n×k] of blocked type t
// (w: n rows of k/t.BlockLen() GGUF blocks each) and a vector x [k]
// quantized by QuantizeActivations(t, …), the matrix-vector product of a
// decode step:
//
//	for j := 0; j < n; j++ {
//		var s float32
//		for b := 0; b < k/BlockLen; b++ {
//			// exact integer sums over the block's codes and its integer
//			// sub-block scales, scaled in float32: blockDots (in
//			// blocks_generic.go) spells out each type's
//			s += dot_t(block b of row j, x's values, scale and sums of block b)
//		}
//		y[j] = s
//	}
//
// The integer sums are exact on every tier; only the float32 scaling and
// the order of the float32 sum over blocks differ between tiers. Large
// products are split by rows of W across Threads() goroutines, with
// results identical to one thread's. The slices may be longer than the
// shapes need; y must not overlap the others.
func QuantMatVec(t WeightType, y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int) {
	checkQuant("QuantMatVec", t, k, n)
	ns, nsum := t.ActivationLens(k)
	need("QuantMatVec", "w", len(w), n*t.RowBytes(k))
	need("QuantMatVec", "xq", len(xq), k)
	need("QuantMatVec", "xs", len(xs), ns)
	need("QuantMatVec", "xsum", len(xsum), nsum)
	need("QuantMatVec", "y", len(y), n)
	if n == 0 {
		return
	}
	if k == 0 {
		clear(y[:n])
		return
	}
	quantMatVec(active, t, y[:n], w[:n*t.RowBytes(k)], xq[:k], xs[:ns], xsum[:nsum], k, n)
}

func checkQuant(kernel string, t WeightType, k, n int) {
	if !t.Blocked() {
		panic(fmt.Sprintf("kernels.%s: %s is not a blocked type", kernel, t))
	}
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels.%s: negative shape %d×%d", kernel, k, n))
	}
	if k%t.BlockLen() != 0 {
		panic(fmt.Sprintf("kernels.%s: k = %d is not a multiple of the %s block of %d", kernel, k, t, t.BlockLen()))
	}
}

// QuantMatMul computes C = A·Wᵀ + bias for activations A [m×k] (every row
// quantized by QuantizeActivations(t, …): values aq, scales as, sums
// asum, row after row) and a matrix W [n×k] of blocked type t, the matrix
// product of a prefill:
//
//	for i := 0; i < m; i++ {
//		QuantMatVec(t, c[i*n:(i+1)*n], w, row i of aq, as, asum, k, n)
//		c[i*n+j] += bias[j] for every j // no addition when bias is nil
//	}
//
// and row i of C is, bit for bit, what QuantMatVec computes from row i of
// A on the same tier, whichever way the work is split: a prefill and a
// token-by-token decode of the same prompt agree exactly. Tiers with a GEMM
// tile multiply a few rows of A by each block of W they unpack. Large
// products are split by rows of W across Threads() goroutines. The slices
// may be longer than the shapes need; c must not overlap the others.
func QuantMatMul(t WeightType, c []float32, aq []int8, as []float32, asum []int16, w []byte, bias []float32, m, k, n int) {
	checkQuant("QuantMatMul", t, k, n)
	if m < 0 {
		panic(fmt.Sprintf("kernels.QuantMatMul: negative shape %d×%d×%d", m, k, n))
	}
	ns, nsum := t.ActivationLens(k)
	need("QuantMatMul", "aq", len(aq), m*k)
	need("QuantMatMul", "as", len(as), m*ns)
	need("QuantMatMul", "asum", len(asum), m*nsum)
	need("QuantMatMul", "w", len(w), n*t.RowBytes(k))
	c, bias, done := startProduct("QuantMatMul", c, bias, m, k, n)
	if done {
		return
	}
	quantMatMul(active, t, c, aq[:m*k], as[:m*ns], asum[:m*nsum], w[:n*t.RowBytes(k)], bias, m, k, n)
}

// blockTile is a tier's GEMM kernel for a blocked type: rows rows of A
// against n rows of W, storing C's rows ldc floats apart; each row equals
// the tier's blockMatVec of that row of A bit for bit. A tier without one
// (rows == 0) runs blockMatVec per row of A.
type blockTile struct {
	rows int
	fn   func(c []float32, ldc int, w []byte, aq []int8, as []float32, asum []int16, k, n int)
}

// quantMatMulColumns computes columns [j0, j1) of C = A·Wᵀ + bias: panels
// of W rows that stay in L2, each multiplied by every tile of A rows, then
// the rows of A left over one at a time. panel holds A's groups of eight
// rows packed for the type's chain tile, if it has one.
//
// An interleaved W (Q4_0x8) takes its own tile, which reads each row from
// its slots (a group's eight rows over chunks of k, so that W and A stay in
// L1 across the eight passes), and leaves the matrix's rows past its last
// whole group (plain) to the plain tile; each row equals the GEMV bit for
// bit. (Copying W's panels back to the plain layout per call instead, in
// Go, cost 2.6 times the product.)
func quantMatMulColumns(tr *impl, t WeightType, c []float32, aq []int8, as []float32, asum []int16, panel, w []byte, bias []float32, m, k, n, j0, j1 int) {
	rb := t.RowBytes(k)
	ns, nsum := t.ActivationLens(k)
	// Whole groups of eight rows a panel, so that an interleaved type's
	// panels start at a group (the threads' pieces are multiples of 16).
	wPanel := max(16, q8PanelBytes/rb&^7)
	q := &tr.types[t]
	for jc := j0; jc < j1; jc += wPanel {
		cols := min(wPanel, j1-jc)
		wp := w[jc*rb : (jc+cols)*rb]
		i := 0
		if ct := &q.chainTile; ct.fn != nil {
			gb := (k / 32) * chainPanelBlock
			// An interleaved tile takes whole groups of rows; the rows
			// past them are plain, for the plain tile.
			whole, rest := cols, 0
			if t.Plain() != t {
				whole, rest = cols&^7, cols%8
			}
			tail := &tr.types[t.Plain()].chainTile
			for ; i+2*chainRows <= m; i += 2 * chainRows {
				g := i / chainRows
				if whole > 0 {
					ct.fn16(c[i*n+jc:(i+2*chainRows-1)*n+jc+whole], n, wp, panel[g*gb:(g+2)*gb], k, whole)
				}
				if rest > 0 {
					tail.fn16(c[i*n+jc+whole:(i+2*chainRows-1)*n+jc+cols], n, wp[whole*rb:], panel[g*gb:(g+2)*gb], k, rest)
				}
			}
			for ; i+chainRows <= m; i += chainRows {
				g := i / chainRows
				if whole > 0 {
					ct.fn(c[i*n+jc:(i+chainRows-1)*n+jc+whole], n, wp, panel[g*gb:(g+1)*gb], k, whole)
				}
				if rest > 0 {
					tail.fn(c[i*n+jc+whole:(i+chainRows-1)*n+jc+cols], n, wp[whole*rb:], panel[g*gb:(g+1)*gb], k, rest)
				}
			}
		} else if r := q.blockTile.rows; r > 0 {
			for ; i+r <= m; i += r {
				q.blockTile.fn(c[i*n+jc:(i+r-1)*n+jc+cols], n, wp, aq[i*k:(i+r)*k], as[i*ns:(i+r)*ns], asum[i*nsum:(i+r)*nsum], k, cols)
			}
		}
		for ; i < m; i++ {
			q.blockMatVec(c[i*n+jc:i*n+jc+cols], wp, aq[i*k:(i+1)*k], as[i*ns:(i+1)*ns], asum[i*nsum:(i+1)*nsum], k, cols)
		}
	}
	if bias != nil {
		for i := range m {
			row := c[i*n+j0 : i*n+j1]
			tr.add(row, row, bias[j0:j1])
		}
	}
}
