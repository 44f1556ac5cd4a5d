package kernels

import "sync"

// microKernel is a tier's GEMM inner loop: a register-blocked mr×nr tile of C
// accumulated over kc steps from packed panels,
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < mr; i++ {
//			for j := 0; j < nr; j++ {
//				c[i*ldc+j] = fma(a[p*mr+i], b[p*nr+j], c[i*ldc+j])
//			}
//		}
//	}
//
// with one rounding per step: the kernels load the tile of c into their
// accumulators and store it back, so that a GEMM's element is one FMA
// chain over all of K, as the panel GEMV computes it. a is an A panel
// packed by packPanels (mr values per step), b a W panel packed by
// packPanels (nr values per step). kc ≥ 1. The assembly kernels
// read exactly kc*mr values of a and kc*nr of b, and touch only the mr×nr
// tile of c.
type microKernel struct {
	mr, nr int
	// kc, mc, nc are the cache blocks: a kc×nr W panel stays in L1 while the
	// kernel sweeps an mc×kc block of A held in L2; nc columns of packed W
	// (kc×nc) are reused across every row block.
	kc, mc, nc int
	fn         func(kc int, a, b, c []float32, ldc int)
	// transpose, when not nil, is a fast packPanels for rows a multiple of
	// 4 and cols a multiple of 8: dst[p*rows+j] = src[j*ld+p]. Packing W
	// costs one pass over it per call, as much as the multiplication itself
	// at m = 64 when done in Go.
	transpose func(dst, src []float32, ld, rows, cols int)

	scratch sync.Pool // *gemmScratch sized for these blocks
}

// gemmBlocked computes c = a·wᵀ + bias with a micro-kernel over packed
// panels, the GEMM of every SIMD tier.
func gemmBlocked(mk *microKernel, c, a, w, bias []float32, m, k, n int) {
	gemmBlockedColumns(mk, c, a, w, nil, bias, m, k, n, 0, n)
}

// gemmBlockedColumns computes columns [j0, j1) of c = a·wᵀ + bias, W given
// either row-major (w) or packed at load (pw, whose Width is mk.nr; w is
// then nil). Columns are processed in independent nc-wide blocks, so the
// worker pool splits [0, n) among threads; a split at a multiple of nr
// leaves every tile, and so every element's arithmetic, as it is on one
// thread.
func gemmBlockedColumns(mk *microKernel, c, a, w []float32, pw *Panels, bias []float32, m, k, n, j0, j1 int) {
	for i := 0; i < m; i++ {
		row := c[i*n+j0 : i*n+j1]
		if bias != nil {
			copy(row, bias[j0:j1])
		} else {
			clear(row)
		}
	}
	if k == 0 {
		return
	}
	gemmColumns(mk, c, a, w, pw, m, k, n, j0, j1)
}

// gemmColumns accumulates columns [j0, j1) of c += a·wᵀ. Each element of c
// is one FMA chain over k in order, whatever the blocks: the micro-kernel
// starts from the tile's values in c.
func gemmColumns(mk *microKernel, c, a, w []float32, pw *Panels, m, k, n, j0, j1 int) {
	mr, nr := mk.mr, mk.nr
	s := getScratch(mk)
	defer mk.scratch.Put(s)
	for jc := j0; jc < j1; jc += mk.nc {
		nc := min(mk.nc, j1-jc)
		for pc := 0; pc < k; pc += mk.kc {
			kc := min(mk.kc, k-pc)
			if pw == nil {
				packPanels(s.w, w, k, jc, nc, pc, kc, nr, mk.transpose)
			}
			for ic := 0; ic < m; ic += mk.mc {
				mc := min(mk.mc, m-ic)
				packPanels(s.a, a, k, ic, mc, pc, kc, mr, mk.transpose)
				for jr := 0; jr < nc; jr += nr {
					var bp []float32 // the kc×nr panel of W's columns jc+jr.., steps pc..
					if pw == nil {
						bp = s.w[(jr/nr)*kc*nr : (jr/nr+1)*kc*nr]
					} else {
						at := ((jc+jr)/nr*k + pc) * nr
						bp = pw.Data[at : at+kc*nr]
					}
					cols := min(nr, nc-jr)
					for ir := 0; ir < mc; ir += mr {
						ap := s.a[(ir/mr)*kc*mr : (ir/mr+1)*kc*mr]
						rows := min(mr, mc-ir)
						ci := (ic+ir)*n + jc + jr
						if rows == mr && cols == nr {
							mk.fn(kc, ap, bp, c[ci:], n)
							continue
						}
						// An edge tile: run the full kernel on a scratch
						// tile holding the part that exists, and copy that
						// part back.
						clear(s.tile)
						for i := 0; i < rows; i++ {
							copy(s.tile[i*nr:i*nr+cols], c[ci+i*n:ci+i*n+cols])
						}
						mk.fn(kc, ap, bp, s.tile, nr)
						for i := 0; i < rows; i++ {
							copy(c[ci+i*n:ci+i*n+cols], s.tile[i*nr:i*nr+cols])
						}
					}
				}
			}
		}
	}
}

// packPanels copies rows [r0, r0+rows), columns [pc, pc+kc) of the
// row-major matrix src (row stride ld) into panels of r rows, interleaved so
// the micro-kernel reads r consecutive values per step:
// dst[panel][p][i] = src[(r0+panel*r+i)*ld + pc+p], zero past row r0+rows.
// It packs A panels (r = mr) and W panels (r = nr) alike. transpose, when not
// nil, packs the full panels' columns in multiples of 8.
func packPanels(dst, src []float32, ld, r0, rows, pc, kc, r int, transpose func(dst, src []float32, ld, rows, cols int)) {
	for ir := 0; ir < rows; ir += r {
		panel := dst[(ir/r)*kc*r : (ir/r+1)*kc*r]
		done := 0 // columns packed by transpose
		if transpose != nil && ir+r <= rows && r%4 == 0 {
			done = kc &^ 7
			if done > 0 {
				transpose(panel, src[(r0+ir)*ld+pc:], ld, r, done)
			}
		}
		for i := 0; i < r; i++ {
			if ir+i >= rows {
				for p := done; p < kc; p++ {
					panel[p*r+i] = 0
				}
				continue
			}
			row := src[(r0+ir+i)*ld+pc+done : (r0+ir+i)*ld+pc+kc]
			for p, v := range row {
				panel[(done+p)*r+i] = v
			}
		}
	}
}

// gemmScratch holds one GEMM call's packed panels and edge tile. They are
// pooled per kernel, so a prefill allocates only the first time a goroutine
// needs them.
type gemmScratch struct {
	a, w, tile []float32
}

func getScratch(mk *microKernel) *gemmScratch {
	if s, ok := mk.scratch.Get().(*gemmScratch); ok {
		return s
	}
	ceil := func(x, r int) int { return (x + r - 1) / r * r }
	return &gemmScratch{
		a:    make([]float32, ceil(mk.mc, mk.mr)*mk.kc),
		w:    make([]float32, ceil(mk.nc, mk.nr)*mk.kc),
		tile: make([]float32, mk.mr*mk.nr),
	}
}
