package kernels

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// axpyRowsReference is C + A·B in float64.
func axpyRowsReference(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int) []float64 {
	want := make([]float64, len(c))
	for i, v := range c {
		want[i] = float64(v)
	}
	for i := range m {
		for j := range n {
			s := want[i*ldc+j]
			for p := range k {
				s += float64(a[i*lda+p]) * float64(b[p*ldb+j])
			}
			want[i*ldc+j] = s
		}
	}
	return want
}

// TestAxpyRows: on every tier, AxpyRows over ragged shapes and strides
// matches a float64 reference, equals its definition (k Axpy calls per row
// on the same tier) bit for bit, and writes nothing outside the m×n block:
// the gaps between C's rows and the guards around it keep their sentinel.
func TestAxpyRows(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for _, m := range []int{1, 2, 3, 5, 6, 7, 12, 13} {
			for _, k := range []int{1, 2, 7, 64, 65} {
				for _, n := range []int{1, 15, 16, 17, 63, 64, 65, 130, 200} {
					ldc, lda, ldb := n+3, k+5, n+7
					seed := uint64(m*10000 + k*100 + n)
					a := testkit.RandF32(seed, (m-1)*lda+k, 1)
					b := testkit.RandF32(seed+1, (k-1)*ldb+n, 1)
					c0 := testkit.RandF32(seed+2, (m-1)*ldc+n, 1)
					for i := 0; i < m-1; i++ {
						for j := n; j < ldc; j++ {
							c0[i*ldc+j] = sentinel
						}
					}
					want := axpyRowsReference(c0, ldc, a, lda, b, ldb, m, k, n)
					def := append([]float32(nil), c0...)
					for i := range m {
						for p := range k {
							Axpy(def[i*ldc:i*ldc+n], a[i*lda+p], b[p*ldb:p*ldb+n])
						}
					}

					got := guardedCopy(c0, 1)
					AxpyRows(got.data, ldc, a, lda, b, ldb, m, k, n)
					got.check(t)
					name := fmt.Sprintf("%d×%d×%d", m, k, n)
					require.Equal(t, def, got.data, "%s: not bit for bit its definition", name)
					assert.Less(t, testkit.RelL2(got.data, want), 1e-6, name)
				}
			}
		}
	})
}

// TestAxpyRowsEmpty: an empty shape touches nothing.
func TestAxpyRowsEmpty(t *testing.T) {
	c := guardedCopy(testkit.RandF32(1, 4, 1), 0)
	before := append([]float32(nil), c.data...)
	AxpyRows(c.data, 2, nil, 0, nil, 2, 2, 0, 2)
	AxpyRows(c.data, 2, testkit.RandF32(2, 4, 1), 2, testkit.RandF32(3, 4, 1), 2, 0, 2, 2)
	assert.Equal(t, before, c.data)
	c.check(t)
}

// TestAxpyRowsMisuse: a short slice or a stride narrower than its row is
// a panic naming the kernel and the fault.
func TestAxpyRowsMisuse(t *testing.T) {
	a, b, c := testkit.RandF32(1, 6, 1), testkit.RandF32(2, 6, 1), testkit.RandF32(3, 4, 1)
	assert.PanicsWithValue(t, "kernels.AxpyRows: len(c) = 4, need 5", func() { AxpyRows(c, 3, a, 3, b, 2, 2, 3, 2) })
	assert.PanicsWithValue(t, "kernels.AxpyRows: strides ldc 1, lda 3, ldb 2 for 2×3×2", func() { AxpyRows(c, 1, a, 3, b, 2, 2, 3, 2) })
	assert.PanicsWithValue(t, "kernels.AxpyRows: negative shape -1×3×2", func() { AxpyRows(c, 2, a, 3, b, 2, -1, 3, 2) })
}
