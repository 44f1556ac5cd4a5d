//go:build arm64 && !purego

package kernels

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
)

// TestKQuantNEONVariants runs both NEON variants of every blocked kernel
// directly, the dotprod one where the core has it (the tier holds only
// one), against the generic twin on random blocks of ragged row counts;
// every blocked type has both.
func TestKQuantNEONVariants(t *testing.T) {
	variants := map[string]bool{"widening": false}
	if hasDotProd {
		variants["sdot"] = true
	}
	scales := map[WeightType][]int{
		Q4_0: {0}, Q4_1: {0, 2}, Q5_0: {0}, Q5_1: {0, 2}, Q2_K: {80, 82}, Q3_K: {108},
		Q4_K: {0, 2}, Q5_K: {0, 2}, Q6_K: {208}, IQ4_NL: {0}, IQ4_XS: {0},
	}
	for name, dot := range variants {
		kernels := kquantNEON(dot)
		for typ := range numWeightTypes {
			switch {
			case typ.Blocked() && typ.Plain() == typ:
				assert.Contains(t, kernels, typ, "%s: no NEON kernel for %s", name, typ)
			case typ.Blocked():
				// An interleaved type keeps its generic twin on NEON, and
				// no loader makes one here.
				assert.False(t, PrefersInterleaved(typ.Plain()), "NEON prefers %s", typ)
			}
		}
		for typ, kernel := range kernels {
			for i, s := range [][2]int{{1, 1}, {2, 3}, {4, 7}, {1, 17}, {12, 5}} {
				blocks, n := s[0], s[1]
				k := blocks * typ.BlockLen()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(typ)))
				w := make([]byte, n*typ.RowBytes(k))
				for p := range w {
					w[p] = byte(rng.Uint32())
				}
				for b := 0; b < len(w); b += typ.BlockBytes() {
					for _, off := range scales[typ] {
						binary.LittleEndian.PutUint16(w[b+off:], 0x2000|uint16(rng.IntN(0x400))|uint16(rng.IntN(2))<<15)
					}
				}
				x := testkit.RandF32(uint64(10+i), k, 2)
				ns, nsum := typ.ActivationLens(k)
				xq, xs, xsum := make([]int8, k), make([]float32, ns), make([]int16, nsum)
				QuantizeActivations(typ, xq, xs, xsum, x)
				want := make([]float32, n)
				genericImpl.types[typ].blockMatVec(want, w, xq, xs, xsum, k, n)
				got := newGuarded(n, i%3)
				kernel(got.data, w, xq, xs, xsum, k, n)
				got.check(t)
				w64 := make([]float64, n)
				for j, v := range want {
					w64[j] = float64(v)
				}
				assert.Less(t, testkit.RelL2(got.data, w64), 1e-6, "%s %s %d×%d", name, typ, n, k)
			}
		}
	}
}
