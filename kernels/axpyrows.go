package kernels

import "fmt"

// AxpyRows adds the matrix product A·B to C, all row-major with the row
// strides ldc, lda, ldb (in elements), one Axpy per element of A:
//
//	for i := 0; i < m; i++ {
//		for p := 0; p < k; p++ {
//			Axpy(c[i*ldc:i*ldc+n], a[i*lda+p], b[p*ldb:p*ldb+n])
//		}
//	}
//
// It is the product of blocked attention: scores Q·Kᵀ against keys stored
// transposed, then the values weighted by the probabilities. Every element
// of C is a chain of k multiply-adds in order of p from its value in C,
// rounded as Axpy rounds them, so its value does not depend on m, n or how
// the work was tiled: a query attended alone (decode) and the same query in
// a block of queries (prefill) get the same scores and outputs bit for bit.
// The AVX-512 tier computes tiles of up to six rows and 64 columns in
// registers (asm.AxpyRows6AVX512), AVX2 tiles of three rows and 32 columns
// (asm.AxpyRows3AVX2, its last n mod 32 columns through Axpy); the other
// tiers run the loop above with their own Axpy.
//
// The slices may be longer than the shapes need; c must not overlap a or b.
func AxpyRows(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int) {
	if m < 0 || k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels.AxpyRows: negative shape %d×%d×%d", m, k, n))
	}
	if m == 0 || k == 0 || n == 0 {
		return
	}
	if ldc < n || lda < k || ldb < n {
		panic(fmt.Sprintf("kernels.AxpyRows: strides ldc %d, lda %d, ldb %d for %d×%d×%d", ldc, lda, ldb, m, k, n))
	}
	need("AxpyRows", "c", len(c), (m-1)*ldc+n)
	need("AxpyRows", "a", len(a), (m-1)*lda+k)
	need("AxpyRows", "b", len(b), (k-1)*ldb+n)
	tiles := active.axpyRowsTiles
	if len(tiles) == 0 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			for p, ap := range a[i*lda : i*lda+k] {
				active.axpy(row, ap, b[p*ldb:p*ldb+n])
			}
		}
		return
	}
	tc := active.axpyRowsCols
	for j := 0; j < n; j += tc {
		cols := min(tc, n-j)
		if cols < tc && !active.axpyRowsMasked {
			for i := range m {
				row := c[i*ldc+j : i*ldc+n]
				for p, ap := range a[i*lda : i*lda+k] {
					active.axpy(row, ap, b[p*ldb+j:p*ldb+n])
				}
			}
			return
		}
		mask := uint64(1)<<cols - 1
		if cols == 64 {
			mask = ^uint64(0)
		}
		for i := 0; i < m; {
			r := min(len(tiles), m-i)
			tiles[r-1](c[i*ldc+j:], ldc, a[i*lda:], lda, b[j:], ldb, k, mask)
			i += r
		}
	}
}

// axpyRowsTile adds A·B to rows of C and the columns mask selects among 64
// (see asm.AxpyRows6AVX512; AVX2 tiles ignore it and cover all 32 of theirs);
// entry r-1 of a tier's table computes r rows.
type axpyRowsTile = func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, k int, mask uint64)
