package kernels

import "sync"

// The int8 GEMM of tiers whose tile multiplies A packed once per product
// (the amx tier: A as AMX B tiles). Such a tier's Q8_0 arithmetic is the
// block chain
//
//	s = fma32(ws[j,b]·as[i,b], float32(dot_ijb), s)   for b = 0, 1, … nb-1
//
// from s = 0, with dot_ijb the exact integer dot of block b: no lanes, no
// reordering, so its GEMV (q8ChainGeneric's meaning) and its GEMM give the
// same bits as each other and as their Go twins below.

// q8PackedTile is a tier's packed int8 GEMM kernel: rows (≤ 16) rows of W
// against all m rows of A, A packed by packQ8A and W's scales by packQ8Scales
// (wst starts at the scales of those rows), storing C's rows ldc floats apart.
type q8PackedTile func(c []float32, ldc int, pa []int8, pas []float32, m int, wq []int8, wst []float32, k, rows int)

// q8PackRows is the number of rows of A, and of W, a packed tile holds.
const q8PackRows = 16

// packQ8A lays A [m×k] out as the B tiles of AMX's TDPBSSD, 16 rows a group
// (rows past m are zeros): block b of group g is 8 rows of 64 bytes at
// pa[(g·k/4 + 8b)·64:], row l holding bytes 4l…4l+3 of the block of each of
// the 16 rows of A in turn, so
//
//	pa[((g*k/4+kk)*16+i)*4+t] = aq[(16g+i)*k+4*kk+t]
//	pas[(g*nb+b)*16+i] = as[(16g+i)*nb+b]
func packQ8A(pa []int8, pas []float32, aq []int8, as []float32, m, k int) {
	nb := k / Q8Block
	groups := (m + q8PackRows - 1) / q8PackRows
	pa, pas = pa[:groups*q8PackRows*k], pas[:groups*q8PackRows*nb]
	for g := range groups {
		for i := range q8PackRows {
			r := g*q8PackRows + i
			if r >= m {
				for kk := range k / 4 {
					clear(pa[((g*k/4+kk)*16+i)*4:][:4])
				}
				for b := range nb {
					pas[(g*nb+b)*16+i] = 0
				}
				continue
			}
			row := aq[r*k : (r+1)*k]
			for kk := range k / 4 {
				copy(pa[((g*k/4+kk)*16+i)*4:][:4], row[4*kk:4*kk+4])
			}
			for b := range nb {
				pas[(g*nb+b)*16+i] = as[r*nb+b]
			}
		}
	}
}

// packQ8Scales transposes W's scales by groups of 16 rows (zeros past n):
//
//	wst[(g*nb+b)*16+r] = ws[(16g+r)*nb+b]
func packQ8Scales(wst, ws []float32, n, k int) {
	nb := k / Q8Block
	groups := (n + q8PackRows - 1) / q8PackRows
	wst = wst[:groups*q8PackRows*nb]
	for g := range groups {
		for r := range q8PackRows {
			j := g*q8PackRows + r
			for b := range nb {
				v := float32(0)
				if j < n {
					v = ws[j*nb+b]
				}
				wst[(g*nb+b)*16+r] = v
			}
		}
	}
}

// q8ChainGeneric is the block chain's GEMV, the Go twin of asm.Q8MatVecAMX.
func q8ChainGeneric(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, n int) {
	nb := k / Q8Block
	for j := range n {
		var s float32
		for b := range nb {
			var dot int32
			for i, x := range xq[b*Q8Block : (b+1)*Q8Block] {
				dot += int32(wq[j*k+b*Q8Block+i]) * int32(x)
			}
			s = fma32(ws[j*nb+b]*xs[b], float32(dot), s)
		}
		y[j] = s
	}
}

// q8PackedTileGeneric is the Go twin of asm.Q8MatMulAMX, reading A and W's
// scales packed as it does.
func q8PackedTileGeneric(c []float32, ldc int, pa []int8, pas []float32, m int, wq []int8, wst []float32, k, rows int) {
	nb := k / Q8Block
	for i := range m {
		g, gi := i/q8PackRows, i%q8PackRows
		for j := range rows {
			var s float32
			for b := range nb {
				var dot int32
				for kk := range Q8Block / 4 {
					for t := range 4 {
						a := pa[((g*k/4+8*b+kk)*16+gi)*4+t]
						dot += int32(wq[j*k+b*Q8Block+4*kk+t]) * int32(a)
					}
				}
				s = fma32(wst[16*b+j]*pas[(g*nb+b)*16+gi], float32(dot), s)
			}
			c[i*ldc+j] = s
		}
	}
}

// q8PackScratch holds one product's packed A and W scales.
type q8PackScratch struct {
	pa       []int8
	pas, wst []float32
}

var q8PackPool sync.Pool // *q8PackScratch

// q8MatMulPacked is Q8MatMul on a tier with a packed tile: A and W's scales
// are packed once, then the columns are split in whole groups of 16 rows of
// W across the pool when the product is large.
func q8MatMulPacked(t *impl, c []float32, aq []int8, as []float32, wq []int8, ws, bias []float32, m, k, n int) {
	nb := k / Q8Block
	ga, gw := (m+q8PackRows-1)/q8PackRows, (n+q8PackRows-1)/q8PackRows
	s, _ := q8PackPool.Get().(*q8PackScratch)
	if s == nil {
		s = new(q8PackScratch)
	}
	s.pa = grow(s.pa, ga*q8PackRows*k)
	s.pas = grow(s.pas, ga*q8PackRows*nb)
	s.wst = grow(s.wst, gw*q8PackRows*nb)
	packQ8A(s.pa, s.pas, aq, as, m, k)
	packQ8Scales(s.wst, ws, n, k)
	if m*k*n >= minParallelMACs && n >= 2*q8PackRows && workPool.acquire() {
		j := &workPool.jobs.q8Packed
		*j = q8PackedJob{t: t, c: c, pa: s.pa, pas: s.pas, wq: wq, wst: s.wst, bias: bias, m: m, k: k, n: n}
		workPool.run(j, n, q8PackRows, chunksPerThread*Threads())
		workPool.release()
	} else {
		q8PackedColumns(t, c, s.pa, s.pas, wq, s.wst, bias, m, k, n, 0, n)
	}
	q8PackPool.Put(s)
}

// grow returns s with length n, reusing its array when it is large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// q8PackedJob is columns [lo, hi) of a packed int8 GEMM.
type q8PackedJob struct {
	t           *impl
	c, pas, wst []float32
	bias        []float32
	pa, wq      []int8
	m, k, n     int
}

func (j *q8PackedJob) run(lo, hi int) {
	q8PackedColumns(j.t, j.c, j.pa, j.pas, j.wq, j.wst, j.bias, j.m, j.k, j.n, lo, hi)
}

// q8PackedColumns computes columns [j0, j1) of C = A·Wᵀ + bias, j0 a
// multiple of 16, one group of 16 rows of W at a time.
func q8PackedColumns(t *impl, c []float32, pa []int8, pas []float32, wq []int8, wst, bias []float32, m, k, n, j0, j1 int) {
	nb := k / Q8Block
	tile := t.types[Q8_0].packedTile
	for jg := j0; jg < j1; jg += q8PackRows {
		rows := min(q8PackRows, j1-jg)
		tile(c[jg:], n, pa, pas, m, wq[jg*k:(jg+rows)*k], wst[jg*nb:], k, rows)
	}
	addBiasColumns(t, c, bias, m, n, j0, j1)
}
