package quant

import (
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInterleavedKernels: Q4_0 and Q5_0 matrices interleaved by eights
// (kernels.InterleaveRows) multiply exactly as their GGUF layout does on
// every tier: the GEMV and every GEMM row equal the plain type's bit for
// bit, on ragged row counts (groups of eight and the plain rows after
// them), unaligned starts and poisoned outputs, on one thread and two;
// DeinterleaveRows gives the file's bytes back.
func TestInterleavedKernels(t *testing.T) {
	defer kernels.SetThreads(0)
	forEachISA(t, func(t *testing.T) {
		for _, typ := range []kernels.WeightType{kernels.Q4_0, kernels.Q5_0} {
			x8 := typ.Interleaved()
			require.NotEqual(t, typ, x8)
			require.Equal(t, typ, x8.Plain())
			f := FormatOf(typ)
			// Past 32 blocks the interleaved tile takes k in chunks: 70 is 32+32+6.
			shapes := append(blockShapes(), blockShape{16, 1003}, blockShape{18, 64}, blockShape{70, 24}, blockShape{33, 9})
			for i, s := range shapes {
				k := s.blocks * 32
				rb := typ.RowBytes(k)
				w := randomBlocks(f, s.n*s.blocks, uint64(90+i))
				buf := make([]byte, 1+len(w))
				iw := buf[1:] // never aligned
				kernels.InterleaveRows(typ, iw, w, k, s.n)
				back := make([]byte, len(w))
				kernels.DeinterleaveRows(x8, back, iw, k, s.n)
				require.Equal(t, w, back, "%s k=%d n=%d: round trip", typ, k, s.n)
				if s.n >= 8 {
					assert.NotEqual(t, w[:8*rb], iw[:8*rb], "%s: the first group is interleaved", typ)
				}

				const m = 27 // 16 activation rows (the 16-row tile), 8 (the 8-row one), then 3 alone
				a := quantizeFor(typ, testkit.RandF32(uint64(120+i), m*k, 2), m)
				ns, nsum := typ.ActivationLens(k)
				for _, threads := range []int{1, 2} {
					kernels.SetThreads(threads)
					want, got := poisoned(s.n), poisoned(s.n+1)
					kernels.QuantMatVec(typ, want, w, a.q, a.s, a.sum, k, s.n)
					kernels.QuantMatVec(x8, got[:s.n], iw, a.q, a.s, a.sum, k, s.n)
					require.Equal(t, want, got[:s.n], "%s k=%d n=%d threads %d: GEMV", typ, k, s.n, threads)
					assert.True(t, math.IsNaN(float64(got[s.n])), "%s: the GEMV wrote past y", typ)

					c, plain := poisoned(m*s.n+1), poisoned(m*s.n)
					kernels.QuantMatMul(x8, c[:m*s.n], a.q, a.s, a.sum, iw, nil, m, k, s.n)
					kernels.QuantMatMul(typ, plain, a.q, a.s, a.sum, w, nil, m, k, s.n)
					assert.True(t, math.IsNaN(float64(c[m*s.n])), "%s: the GEMM wrote past c", typ)
					require.Equal(t, plain, c[:m*s.n], "%s k=%d n=%d threads %d: GEMM", typ, k, s.n, threads)
					for r := range m {
						row := poisoned(s.n)
						kernels.QuantMatVec(x8, row, iw, a.q[r*k:(r+1)*k], a.s[r*ns:(r+1)*ns], a.sum[r*nsum:(r+1)*nsum], k, s.n)
						require.Equal(t, row, c[r*s.n:(r+1)*s.n], "%s k=%d n=%d threads %d: GEMM row %d", typ, k, s.n, threads, r)
					}
				}
			}
		}
	})
}

// TestChainTiersAgree: Q5_0, plain and interleaved, computes one chain
// per output with exact integer block sums in the SIMD tiers, so these
// give the same bits: the AVX-512 tier's own kernels (fifth bits in mask
// registers) against the AVX2 ones, the GEMV and the GEMM, on ragged
// shapes. (Q4_0's tiers share one kernel; the generic twins round the same
// chain's terms in another order, within TestQuantMatVecMatchesDequantized's
// bound.)
func TestChainTiersAgree(t *testing.T) {
	saved := kernels.ISA()
	defer func() { require.NoError(t, kernels.SetISA(saved)) }()
	var isas []string
	for _, isa := range kernels.ISAs() {
		if isa != "generic" {
			isas = append(isas, isa)
		}
	}
	if len(isas) < 2 {
		t.Skipf("skipping: one SIMD tier on this CPU (%v), nothing to compare", kernels.ISAs())
	}
	for _, typ := range []kernels.WeightType{kernels.Q5_0, kernels.Q5_0x8} {
		plain := typ.Plain()
		f := FormatOf(plain)
		for i, s := range []blockShape{{1, 9}, {3, 17}, {18, 64}, {70, 24}, {33, 41}} {
			k := s.blocks * 32
			w := randomBlocks(f, s.n*s.blocks, uint64(300+i))
			if typ != plain {
				iw := make([]byte, len(w))
				kernels.InterleaveRows(plain, iw, w, k, s.n)
				w = iw
			}
			const m = 19
			a := quantizeFor(plain, testkit.RandF32(uint64(320+i), m*k, 2), m)
			var wantV, wantM []float32
			for _, isa := range isas {
				require.NoError(t, kernels.SetISA(isa))
				y, c := poisoned(s.n), poisoned(m*s.n)
				kernels.QuantMatVec(typ, y, w, a.q, a.s, a.sum, k, s.n)
				kernels.QuantMatMul(typ, c, a.q, a.s, a.sum, w, nil, m, k, s.n)
				if wantV == nil {
					wantV, wantM = y, c
					continue
				}
				require.Equal(t, wantV, y, "%s %s k=%d n=%d: GEMV", isa, typ, k, s.n)
				require.Equal(t, wantM, c, "%s %s k=%d n=%d: GEMM", isa, typ, k, s.n)
			}
		}
	}
}
