package kernels

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// q8MatMul64 is Q8MatMul's meaning in float64: each row of C is the float64
// Q8MatVec of that row of A, plus the bias.
func q8MatMul64(aq []int8, as []float32, wq []int8, ws, bias []float32, m, k, n int) []float64 {
	nb := k / 32
	c := make([]float64, 0, m*n)
	for i := range m {
		row := q8MatVec64(wq, ws, aq[i*k:(i+1)*k], as[i*nb:(i+1)*nb], k, n)
		for j := range row {
			if bias != nil {
				row[j] += float64(bias[j])
			}
		}
		c = append(c, row...)
	}
	return c
}

type q8MMShape struct{ m, k, n int }

func q8MatMulShapes(short bool) []q8MMShape {
	var shapes []q8MMShape
	for m := 0; m <= 13; m++ {
		for _, k := range []int{32, 64, 96, 160} {
			shapes = append(shapes, q8MMShape{m, k, 1 + (m*5+k/32)%11})
		}
	}
	for n := 0; n <= 40; n++ {
		shapes = append(shapes, q8MMShape{1 + n%9, 32 * (1 + n%5), n})
	}
	shapes = append(shapes, q8MMShape{3, 0, 5}, q8MMShape{17, 768, 67}, q8MMShape{8, 3072, 37},
		q8MMShape{13, 96, 1001}, q8MMShape{5, 8192, 9})
	if !short {
		shapes = append(shapes, q8MMShape{64, 768, 2304}, q8MMShape{31, 3072, 768})
	}
	return shapes
}

// q8MatMulInputs returns random int8 operands at odd offsets: W over the
// whole int8 range, A in [-127, 127] as Q8Quantize leaves it.
func q8MatMulInputs(i int, s q8MMShape) (aq []int8, as []float32, wq []int8, ws, bias []float32) {
	nb := s.k / 32
	aq = int8At(randInt8(uint64(5*i+1), s.m*s.k, -127, 127), i%5)
	wq = int8At(randInt8(uint64(5*i+2), s.n*s.k, -128, 127), (i+2)%7)
	as = guardedCopy(testkit.RandF32(uint64(5*i+3), s.m*nb, 0.05), i%3).data
	ws = guardedCopy(testkit.RandF32(uint64(5*i+4), s.n*nb, 0.01), (i+1)%3).data
	if i%2 == 0 {
		bias = testkit.RandF32(uint64(5*i+5), s.n, 0.5)
	}
	return aq, as, wq, ws, bias
}

func TestQ8MatMul(t *testing.T) {
	shapes := q8MatMulShapes(testing.Short())
	forEachTier(t, func(t *testing.T) {
		for i, s := range shapes {
			aq, as, wq, ws, bias := q8MatMulInputs(i, s)
			c := newGuarded(s.m*s.n, i%4)
			Q8MatMul(c.data, aq, as, wq, ws, bias, s.m, s.k, s.n)
			c.check(t)
			want := q8MatMul64(aq, as, wq, ws, bias, s.m, s.k, s.n)
			if err := testkit.RelL2(c.data, want); err > q8MatVecTol {
				t.Fatalf("%d×%d×%d: relative L2 error %.3g > %g", s.m, s.k, s.n, err, q8MatVecTol)
			}
			// Each row is the tier's Q8MatVec of that row, bit for bit.
			nb := s.k / 32
			y := make([]float32, s.n)
			for r := range s.m {
				Q8MatVec(y, wq, ws, aq[r*s.k:], as[r*nb:], s.k, s.n)
				for j := range y {
					if bias != nil {
						y[j] += bias[j]
					}
				}
				require.Equal(t, y, c.data[r*s.n:(r+1)*s.n], "%d×%d×%d: row %d differs from Q8MatVec", s.m, s.k, s.n, r)
			}
		}
	})
}

// TestQ8MatMulExact uses unit scales, so C holds the integer dot products:
// every tier must get them exactly, the extremes -128·-127 included.
func TestQ8MatMulExact(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, k := range []int{32, 64, 96, 736, 768} {
			m, n := 1+i*2, 2+i*3
			nb := k / 32
			aq := randInt8(uint64(300+i), m*k, -127, 127)
			wq := randInt8(uint64(400+i), n*k, -128, 127)
			if i == 0 {
				for p := range aq {
					aq[p] = -127
				}
				for p := range wq {
					wq[p] = -128
				}
			}
			as, ws := make([]float32, m*nb), make([]float32, n*nb)
			for p := range as {
				as[p] = 1
			}
			for p := range ws {
				ws[p] = 1
			}
			c := newGuarded(m*n, 2)
			Q8MatMul(c.data, aq, as, wq, ws, nil, m, k, n)
			c.check(t)
			for p, w := range q8MatMul64(aq, as, wq, ws, nil, m, k, n) {
				require.Equal(t, float32(w), c.data[p], "k=%d element %d", k, p)
			}
		}
	})
}

func TestQ8MatMulPanics(t *testing.T) {
	aq, wq := make([]int8, 64), make([]int8, 96)
	as, ws, c := make([]float32, 2), make([]float32, 3), make([]float32, 6)
	for _, tc := range []struct {
		msg string
		f   func()
	}{
		{"kernels.Q8MatMul: k = 33 is not a multiple of 32", func() { Q8MatMul(c, aq, as, wq, ws, nil, 1, 33, 1) }},
		{"kernels.Q8MatMul: negative shape 2×32×-1", func() { Q8MatMul(c, aq, as, wq, ws, nil, 2, 32, -1) }},
		{"kernels.Q8MatMul: len(aq) = 64, need 96", func() { Q8MatMul(c, aq, as, wq, ws, nil, 3, 32, 2) }},
		{"kernels.Q8MatMul: len(as) = 2, need 3", func() { Q8MatMul(c, make([]int8, 96), as, wq, ws, nil, 3, 32, 2) }},
		{"kernels.Q8MatMul: len(wq) = 96, need 128", func() { Q8MatMul(c, aq, as, wq, ws, nil, 2, 32, 4) }},
		{"kernels.Q8MatMul: len(ws) = 3, need 4", func() { Q8MatMul(c, aq, as, make([]int8, 128), ws, nil, 2, 32, 4) }},
		{"kernels.Q8MatMul: len(c) = 6, need 8", func() { Q8MatMul(c, aq, as, make([]int8, 128), make([]float32, 4), nil, 2, 32, 4) }},
		{"kernels.Q8MatMul: len(bias) = 2, need 3", func() { Q8MatMul(c, aq, as, wq, ws, make([]float32, 2), 2, 32, 3) }},
	} {
		assert.PanicsWithValue(t, tc.msg, tc.f)
	}
}

func ExampleQ8MatMul() {
	// Two rows of ones and twos against the 2×32 int8 matrix of ExampleQ8MatVec.
	a := make([]float32, 64)
	for i := range a {
		a[i] = float32(1 + i/32)
	}
	aq, as := make([]int8, 64), make([]float32, 2)
	for i := range 2 {
		Q8Quantize(aq[32*i:32*i+32], as[i:i+1], a[32*i:32*i+32])
	}
	wq := make([]int8, 64)
	wq[0], wq[32] = 2, -3
	ws := []float32{0.5, 1}
	c := make([]float32, 4)
	Q8MatMul(c, aq, as, wq, ws, []float32{10, 20}, 2, 32, 2)
	fmt.Println(c)
	// Output: [11 17 12 14]
}

// BenchmarkQ8MatMul measures one thread (BenchmarkParallel splits it).
func BenchmarkQ8MatMul(b *testing.B) {
	saved := active
	defer func() { active = saved }()
	oneThread(b)
	for _, tier := range tiers {
		for _, s := range []q8MMShape{{512, 768, 2304}, {512, 768, 3072}, {512, 3072, 768}} {
			if tier == genericImpl {
				s.m = 16 // the generic tier is a GEMV per row: seconds per call
			}
			nb := s.k / 32
			aq := randInt8(1, s.m*s.k, -127, 127)
			as := testkit.RandF32(2, s.m*nb, 0.05)
			wq := randInt8(3, s.n*s.k, -127, 127)
			ws := testkit.RandF32(4, s.n*nb, 0.01)
			c := make([]float32, s.m*s.n)
			b.Run(fmt.Sprintf("%s/%dx%dx%d", tier.name, s.m, s.k, s.n), func(b *testing.B) {
				active = tier
				for b.Loop() {
					Q8MatMul(c, aq, as, wq, ws, nil, s.m, s.k, s.n)
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(s.m*s.k*s.n)/sec/1e9, "GOP/s")
			})
		}
	}
}
