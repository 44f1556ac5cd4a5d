package kernels

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
)

// matMulTol is the relative L2 error allowed for MatMul against the float64
// reference. float32 accumulation over k products of values in [-1, 1] has a
// relative error near 6e-8·√k (about 3e-6 for k = 3072) in any summation
// order; 1e-5 leaves room for that, and a wrong lane or a lost tail is off by
// far more.
const matMulTol = 1e-5

type mmShape struct{ m, k, n int }

func matMulShapes(short bool) []mmShape {
	var shapes []mmShape
	for _, m := range []int{1, 2, 3, 5, 13} {
		for k := 0; k <= 80; k++ {
			shapes = append(shapes, mmShape{m, k, 1 + (k*7)%23})
		}
	}
	for _, m := range []int{1, 4, 7, 17} {
		for n := 0; n <= 80; n++ {
			shapes = append(shapes, mmShape{m, 37 + n%5, n})
		}
	}
	for m := 0; m <= 80; m++ {
		shapes = append(shapes, mmShape{m, 19 + m%3, 29})
	}
	// Batched decode sizes (the multi-row GEMV on amd64): every m, ragged k
	// and n, short and long rows.
	for m := 2; m <= 16; m++ {
		shapes = append(shapes, mmShape{m, 3*m + 11*(m%4), 4*m + m%3}, mmShape{m, 767 + m, 35 + m})
	}
	shapes = append(shapes,
		mmShape{13, 771, 259}, mmShape{33, 129, 67}, mmShape{1, 768, 2304},
		mmShape{7, 768, 3072}, mmShape{25, 300, 1000}, mmShape{16, 768, 2304}, mmShape{11, 3072, 771},
	)
	if !short {
		shapes = append(shapes, mmShape{1, 768, 50257}, mmShape{64, 3072, 768}, mmShape{128, 768, 2304})
	}
	return shapes
}

func TestMatMul(t *testing.T) {
	shapes := matMulShapes(testing.Short())
	forEachTier(t, func(t *testing.T) {
		for i, s := range shapes {
			a := testkit.RandF32(uint64(3*i+1), s.m*s.k, 1)
			w := testkit.RandF32(uint64(3*i+2), s.n*s.k, 1)
			var bias []float32
			if i%2 == 0 {
				bias = testkit.RandF32(uint64(3*i+3), s.n, 1)
			}
			// Unaligned starts for the inputs too: a SIMD load must not
			// assume 16-, 32- or 64-byte alignment.
			ga, gw := guardedCopy(a, i%5), guardedCopy(w, (i+2)%7)
			gc := newGuarded(s.m*s.n, i%3)
			MatMul(gc.data, ga.data, gw.data, bias, s.m, s.k, s.n)
			gc.check(t)
			want := matMul64(a, w, bias, s.m, s.k, s.n)
			if err := testkit.RelL2(gc.data, want); err > matMulTol {
				t.Fatalf("%d×%d×%d bias=%v: relative L2 error %.3g > %g", s.m, s.k, s.n, bias != nil, err, matMulTol)
			}
		}
	})
}

// TestMatMulLongerSlices checks that MatMul uses only the prefix a shape
// names, so callers can pass views into larger buffers.
func TestMatMulLongerSlices(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for _, m := range []int{1, 9} {
			a := testkit.RandF32(11, m*40+13, 1)
			w := testkit.RandF32(12, 33*40+7, 1)
			c := newGuarded(m*33+5, 0)
			MatMul(c.data, a, w, nil, m, 40, 33)
			assert.Less(t, testkit.RelL2(c.data[:m*33], matMul64(a, w, nil, m, 40, 33)), matMulTol)
			for _, v := range c.data[m*33:] {
				assert.True(t, v != v, "elements past m*n must stay untouched (poisoned NaN)")
			}
		}
	})
}

func TestMatMulPanics(t *testing.T) {
	a, w, c := make([]float32, 6), make([]float32, 6), make([]float32, 4)
	assert.PanicsWithValue(t, "kernels.MatMul: len(a) = 6, need 8", func() { MatMul(c, a, w, nil, 2, 4, 2) })
	assert.PanicsWithValue(t, "kernels.MatMul: len(w) = 6, need 9", func() { MatMul(c, a, w, nil, 2, 3, 3) })
	assert.PanicsWithValue(t, "kernels.MatMul: len(c) = 4, need 6", func() { MatMul(c, a, w, nil, 3, 2, 2) })
	assert.PanicsWithValue(t, "kernels.MatMul: len(bias) = 1, need 2", func() { MatMul(c, a, w, []float32{1}, 2, 3, 2) })
	assert.PanicsWithValue(t, "kernels.MatMul: negative shape -1×3×2", func() { MatMul(c, a, w, nil, -1, 3, 2) })
}

func ExampleMatMul() {
	// Two tokens of three features through a layer with two outputs.
	a := []float32{1, 2, 3, 4, 5, 6}
	w := []float32{1, 0, 0, 0, 1, 1} // W is [outputs × inputs]
	bias := []float32{10, 20}
	c := make([]float32, 4)
	MatMul(c, a, w, bias, 2, 3, 2)
	fmt.Println(c)
	// Output: [11 25 14 31]
}
