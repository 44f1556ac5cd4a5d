//go:build amd64 && !purego

package kernels

import (
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGemmKernelAMD64 holds each micro-kernel this CPU can run to its
// contract on its own: c += a·b over kc steps, inside the mr×nr tile of a
// wider matrix, leaving the elements between and around the tile's rows
// untouched.
func TestGemmKernelAMD64(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
		mk   *microKernel
	}{{"avx512", hasAVX512, gemmAVX512}, {"avx2", hasAVX2, gemmAVX2}} {
		if !tc.ok {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			mk := tc.mk
			want := goMicroKernel(mk.mr, mk.nr)
			for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 64, 255, 256} {
				a := testkit.RandF32(uint64(kc), kc*mk.mr, 1)
				b := testkit.RandF32(uint64(kc)+100, kc*mk.nr, 1)
				ldc := mk.nr + 3
				c := guardedCopy(testkit.RandF32(uint64(kc)+200, (mk.mr-1)*ldc+mk.nr, 1), kc%4)
				ref := append([]float32(nil), c.data...)
				mk.fn(kc, a, b, c.data, ldc)
				want(kc, a, b, ref, ldc)
				c.check(t)
				for i, v := range c.data {
					if i%ldc >= mk.nr {
						assert.Equal(t, ref[i], v, "kc=%d: element %d between rows changed", kc, i)
						continue
					}
					assert.InDelta(t, ref[i], v, 1e-4, "kc=%d: c[%d][%d]", kc, i/ldc, i%ldc)
				}
			}
		})
	}
}

// TestPackTransposeAVX2 compares the assembly panel packing with the Go loop
// of packPanels, on sources with a row stride wider than the block.
func TestPackTransposeAVX2(t *testing.T) {
	if !hasAVX2 {
		t.Skip("needs AVX2")
	}
	for _, s := range []struct{ rows, cols, ld int }{{4, 8, 8}, {4, 8, 13}, {8, 16, 21}, {24, 64, 77}, {48, 256, 771}} {
		src := testkit.RandF32(uint64(s.ld), (s.rows-1)*s.ld+s.cols, 1)
		want := make([]float32, s.rows*s.cols)
		packPanels(want, src, s.ld, 0, s.rows, 0, s.cols, s.rows, nil)
		got := newGuarded(s.rows*s.cols, s.ld%3)
		asmPackTranspose(got.data, src, s.ld, s.rows, s.cols)
		got.check(t)
		assert.Equal(t, want, got.data, "%d×%d block, ld %d", s.rows, s.cols, s.ld)
	}
}

// goGemvBatch is the contract of the multi-row GEMV kernels, the loop of
// their doc comment.
func goGemvBatch(c, a, w, bias []float32, m, k, n, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := float32(0)
			if len(bias) != 0 {
				s = bias[j]
			}
			for p := 0; p < k; p++ {
				s += a[i*k+p] * w[j*k+p]
			}
			c[i*ldc+j] = s
		}
	}
}

// TestGemvBatchAMD64 holds each multi-row GEMV this CPU can run to its
// contract on its own: slices cut exactly to the bounds and placed between
// guards at unaligned starts, a row stride of C wider than n whose gaps must
// keep their NaN poison, every m up to 17 (whole A groups and each
// remainder) and ragged k and n.
func TestGemvBatchAMD64(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
		fn   func(c, a, w, bias []float32, m, k, n, ldc int)
	}{{"avx512", hasAVX512, gemvBatchAVX512}, {"avx2", hasAVX2, gemvBatchAVX2}} {
		if !tc.ok {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			ks := []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 768, 771}
			ns := []int{1, 2, 3, 4, 5, 7, 8, 9, 13}
			for m := 1; m <= 17; m++ {
				for ki, k := range ks {
					for ni, n := range ns {
						seed := uint64(m*10000 + ki*100 + ni)
						ldc := n + ni%3
						a := guardedCopy(testkit.RandF32(seed, m*k, 1), ki%5)
						w := guardedCopy(testkit.RandF32(seed+1, n*k, 1), ni%7)
						var bias []float32
						if (m+ki+ni)%2 == 0 {
							bias = guardedCopy(testkit.RandF32(seed+2, n, 1), m%3).data
						}
						c := newGuarded((m-1)*ldc+n, (m+ki)%4)
						want := make([]float32, len(c.data))
						for i := range want {
							want[i] = c.data[i]
						}
						goGemvBatch(want, a.data, w.data, bias, m, k, n, ldc)
						tc.fn(c.data, a.data, w.data, bias, m, k, n, ldc)
						c.check(t)
						for i, v := range c.data {
							if i%ldc >= n {
								require.True(t, v != v, "m=%d k=%d n=%d: gap element %d of C written", m, k, n, i)
								continue
							}
							require.InDelta(t, want[i], v, 1e-4, "m=%d k=%d n=%d ldc=%d: c[%d][%d]", m, k, n, ldc, i/ldc, i%ldc)
						}
					}
				}
			}
		})
	}
}
