package kernels

import (
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// packedGenericTier is the generic tier with the block chain's Go twins as
// its int8 GEMV and packed GEMM: it runs the packing and the column split
// of q8MatMulPacked on every machine, AMX or not.
func packedGenericTier() *impl {
	t := withGeneric("generic-packed")
	t.types[Q8_0].matVec = q8ChainGeneric
	t.types[Q8_0].packedTile = q8PackedTileGeneric
	return t
}

// packedTiers are the tiers whose int8 products are the block chain.
func packedTiers() []*impl {
	ts := []*impl{packedGenericTier()}
	for _, t := range tiers {
		if t.types[Q8_0].packedTile != nil {
			ts = append(ts, t)
		}
	}
	return ts
}

// TestQ8ChainExact checks the block-chain tiers bit for bit against
// q8ChainGeneric: the GEMV of every row, and every row of the GEMM (plus
// the bias, one float32 addition), on ragged shapes (rows of A and W that
// are not whole groups of 16, odd block counts), odd offsets and poisoned
// outputs with guards; with 1 and 2 threads the bits are the same.
func TestQ8ChainExact(t *testing.T) {
	shapes := q8MatMulShapes(testing.Short())
	shapes = append(shapes, q8MMShape{16, 96, 16}, q8MMShape{33, 224, 47})
	if !testing.Short() {
		shapes = append(shapes, q8MMShape{47, 800, 96})
	}
	// The Go twins' fma32 chains are slow under emulation (qemu runs the
	// suite with -short): the generic-packed tier takes the small shapes
	// there, which hold every ragged case.
	maxGeneric := 1 << 22
	if testing.Short() {
		maxGeneric = 1 << 16
	}
	saved := active
	defer func() { active = saved }()
	for _, tier := range packedTiers() {
		t.Run(tier.name, func(t *testing.T) {
			active = tier
			for i, s := range shapes {
				if s.k == 0 || (tier.name == "generic-packed" && s.m*s.k*s.n > maxGeneric) {
					continue
				}
				aq, as, wq, ws, bias := q8MatMulInputs(i, s)
				nb := s.k / 32
				want := make([]float32, s.m*s.n)
				for r := range s.m {
					q8ChainGeneric(want[r*s.n:], wq, ws, aq[r*s.k:], as[r*nb:], s.k, s.n)
					for j := range s.n {
						if bias != nil {
							want[r*s.n+j] += bias[j]
						}
					}
				}
				for _, threads := range []int{1, 2} {
					c := newGuarded(s.m*s.n, i%4)
					withThreads(threads, func() { Q8MatMul(c.data, aq, as, wq, ws, bias, s.m, s.k, s.n) })
					c.check(t)
					requireSameBits(t, want, c.data, "Q8MatMul %d×%d×%d, %d threads", s.m, s.k, s.n, threads)
				}
				if s.m > 0 {
					y := newGuarded(s.n, i%3)
					Q8MatVec(y.data, wq, ws, aq, as, s.k, s.n)
					y.check(t)
					row := want[:s.n]
					if bias != nil {
						row = make([]float32, s.n)
						q8ChainGeneric(row, wq, ws, aq, as, s.k, s.n)
					}
					requireSameBits(t, row, y.data, "Q8MatVec %d×%d", s.k, s.n)
				}
			}
		})
	}
}

// TestQ8ChainMeaning checks q8ChainGeneric itself against the float64
// meaning of the int8 product, and that it is a chain of fused
// multiply-adds: on operands where rounding the product before the sum
// differs, it takes the single rounding.
func TestQ8ChainMeaning(t *testing.T) {
	for i, s := range []q8MMShape{{1, 32, 7}, {1, 768, 64}, {1, 3072, 33}} {
		_, as, wq, ws, _ := q8MatMulInputs(i, s)
		xq := randInt8(uint64(90+i), s.k, -127, 127)
		y := make([]float32, s.n)
		q8ChainGeneric(y, wq, ws, xq, as, s.k, s.n)
		want := q8MatVec64(wq, ws, xq, as, s.k, s.n)
		assert.LessOrEqual(t, testkit.RelL2(y, want), q8MatVecTol, "%d×%d", s.k, s.n)
	}
	// One block, then a second whose product cancels the first but for
	// the rounding error of float32(p1): fma keeps it, a rounded product
	// would not.
	wq := make([]int8, 64)
	xq := make([]int8, 64)
	wq[0], xq[0] = 3, 1
	wq[32], xq[32] = -3, 1
	ws := []float32{1.0 / 3, 1.0 / 3}
	xs := []float32{1, 1}
	y := make([]float32, 1)
	q8ChainGeneric(y, wq, ws, xq, xs, 64, 1)
	s1 := float32(1.0/3) * 3 // rounded: 1
	want := float32(math.FMA(float64(float32(1.0/3)), -3, float64(s1)))
	assert.Equal(t, want, y[0])
	assert.NotZero(t, y[0], "the second block's product was rounded before the sum")
}

// TestPackQ8A checks the packed layout element by element against its
// definition, zeros past m included.
func TestPackQ8A(t *testing.T) {
	for _, m := range []int{1, 15, 16, 17, 40} {
		k := 96
		nb := k / 32
		aq := randInt8(uint64(m), m*k, -127, 127)
		as := testkit.RandF32(uint64(m+1), m*nb, 1)
		groups := (m + 15) / 16
		pa := make([]int8, groups*16*k)
		pas := make([]float32, groups*16*nb)
		for i := range pa {
			pa[i] = 99
		}
		for i := range pas {
			pas[i] = float32(math.NaN())
		}
		packQ8A(pa, pas, aq, as, m, k)
		for g := range groups {
			for i := range 16 {
				r := 16*g + i
				for kk := range k / 4 {
					for tt := range 4 {
						want := int8(0)
						if r < m {
							want = aq[r*k+4*kk+tt]
						}
						require.Equal(t, want, pa[((g*k/4+kk)*16+i)*4+tt], "m %d row %d byte %d", m, r, 4*kk+tt)
					}
				}
				for b := range nb {
					want := float32(0)
					if r < m {
						want = as[r*nb+b]
					}
					require.Equal(t, want, pas[(g*nb+b)*16+i])
				}
			}
		}
	}
}

// requireSameBits fails at the first element whose bits differ.
func requireSameBits(t *testing.T, want, got []float32, format string, args ...any) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf(format+": element %d is %v (%#x), want %v (%#x)", append(args, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))...)
		}
	}
}
