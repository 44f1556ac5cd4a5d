package kernels

import "sync"

// microKernel is a tier's GEMM inner loop: a register-blocked mr×nr tile of C
// accumulated over kc steps from packed panels,
//
//	for p := 0; p < kc; p++ {
//		for i := 0; i < mr; i++ {
//			for j := 0; j < nr; j++ {
//				c[i*ldc+j] += a[p*mr+i] * b[p*nr+j]
//			}
//		}
//	}
//
// a is an A panel packed by packA (mr values per step), b a W panel packed
// by packW (nr values per step). kc ≥ 1. The assembly kernels read exactly
// kc*mr values of a and kc*nr of b, and touch only the mr×nr tile of c.
type microKernel struct {
	mr, nr int
	// kc, mc, nc are the cache blocks: a kc×nr W panel stays in L1 while the
	// kernel sweeps an mc×kc block of A held in L2; nc columns of packed W
	// (kc×nc) are reused across every row block.
	kc, mc, nc int
	fn         func(kc int, a, b, c []float32, ldc int)

	scratch sync.Pool // *gemmScratch sized for these blocks
}

// gemmBlocked computes c = a·wᵀ + bias with a micro-kernel over packed
// panels, the GEMM of every SIMD tier. Columns are processed in independent
// nc-wide blocks, so a worker pool can later split [0, n) among threads.
func gemmBlocked(mk *microKernel, c, a, w, bias []float32, m, k, n int) {
	for i := 0; i < m; i++ {
		row := c[i*n : i*n+n]
		if bias != nil {
			copy(row, bias)
		} else {
			clear(row)
		}
	}
	if k == 0 {
		return
	}
	gemmColumns(mk, c, a, w, m, k, n, 0, n)
}

// gemmColumns accumulates columns [j0, j1) of c += a·wᵀ.
func gemmColumns(mk *microKernel, c, a, w []float32, m, k, n, j0, j1 int) {
	mr, nr := mk.mr, mk.nr
	s := getScratch(mk)
	defer mk.scratch.Put(s)
	for jc := j0; jc < j1; jc += mk.nc {
		nc := min(mk.nc, j1-jc)
		for pc := 0; pc < k; pc += mk.kc {
			kc := min(mk.kc, k-pc)
			packW(s.w, w, k, jc, nc, pc, kc, nr)
			for ic := 0; ic < m; ic += mk.mc {
				mc := min(mk.mc, m-ic)
				packA(s.a, a, k, ic, mc, pc, kc, mr)
				for jr := 0; jr < nc; jr += nr {
					bp := s.w[(jr/nr)*kc*nr : (jr/nr+1)*kc*nr]
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
						// tile and add the part that exists.
						clear(s.tile)
						mk.fn(kc, ap, bp, s.tile, nr)
						for i := 0; i < rows; i++ {
							dst := c[ci+i*n : ci+i*n+cols]
							for j, v := range s.tile[i*nr : i*nr+cols] {
								dst[j] += v
							}
						}
					}
				}
			}
		}
	}
}

// packW copies W rows [jc, jc+nc), columns [pc, pc+kc) into panels of nr
// rows, interleaved so the kernel reads nr consecutive values per step:
// dst[panel][p][j] = w[(jc+panel*nr+j)*k + pc+p], zero past row jc+nc.
func packW(dst, w []float32, k, jc, nc, pc, kc, nr int) {
	for jr := 0; jr < nc; jr += nr {
		panel := dst[(jr/nr)*kc*nr : (jr/nr+1)*kc*nr]
		for j := 0; j < nr; j++ {
			if jr+j >= nc {
				for p := 0; p < kc; p++ {
					panel[p*nr+j] = 0
				}
				continue
			}
			src := w[(jc+jr+j)*k+pc : (jc+jr+j)*k+pc+kc]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
	}
}

// packA copies A rows [ic, ic+mc), columns [pc, pc+kc) into panels of mr
// rows: dst[panel][p][i] = a[(ic+panel*mr+i)*k + pc+p], zero past row ic+mc.
func packA(dst, a []float32, k, ic, mc, pc, kc, mr int) {
	for ir := 0; ir < mc; ir += mr {
		panel := dst[(ir/mr)*kc*mr : (ir/mr+1)*kc*mr]
		for i := 0; i < mr; i++ {
			if ir+i >= mc {
				for p := 0; p < kc; p++ {
					panel[p*mr+i] = 0
				}
				continue
			}
			src := a[(ic+ir+i)*k+pc : (ic+ir+i)*k+pc+kc]
			for p, v := range src {
				panel[p*mr+i] = v
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
