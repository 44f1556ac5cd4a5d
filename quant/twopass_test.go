package quant

import (
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relL2 is ‖y − want‖/‖want‖ for the rows×n products y of the float32
// matrix w [n×k] (as the kernels see its values) and x [rows×k], against
// float64 arithmetic on exact x.
func relL2(y, w, x []float32, rows, n, k int) float64 {
	var num, den float64
	for r := range rows {
		for j := range n {
			var want float64
			for i := range k {
				want += float64(w[j*k+i]) * float64(x[r*k+i])
			}
			d := float64(y[r*n+j]) - want
			num += d * d
			den += want * want
		}
	}
	return math.Sqrt(num / den)
}

// TestTwoPassProducts checks the two-pass products of every blocked type
// and of int8 blocks against float64 over the matrix's dequantized values
// and exact activations: the one-pass product's error is the activations'
// rounding (~4e-3 relative L2), the two-pass one's at least 50 times
// smaller. MatMulTwoPass's rows equal MatVecTwoPass's (plus the bias) bit
// for bit, and nothing outside the outputs is written.
func TestTwoPassProducts(t *testing.T) {
	type product struct {
		name                  string
		rows, k               int
		w                     []float32 // the values as the kernels see them
		matVec, matVecTwoPass func(y, x []float32, s *Scratch)
		matMulTwoPass         func(c, a []float32, rows int, bias []float32, s *Scratch)
	}
	var ps []product
	for _, f := range blockedFormats() {
		const rows, blocks = 37, 3
		k := blocks * f.BlockLen()
		m, err := FromBlocks(f.Type, randomBlocks(f, rows*blocks, 5), rows, k)
		require.NoError(t, err)
		w := make([]float32, rows*k)
		require.NoError(t, f.DequantizeRows(w, m.Data))
		ps = append(ps, product{f.Name(), rows, k, w, m.MatVec, m.MatVecTwoPass, m.MatMulTwoPass})
	}
	{
		const rows, k = 29, 160
		m, err := QuantizeMatrix(testkit.RandF32(6, rows*k, 1), rows, k)
		require.NoError(t, err)
		w := make([]float32, rows*k)
		for j := range rows {
			m.Row(j, w[j*k:(j+1)*k])
		}
		ps = append(ps, product{"int8", rows, k, w, m.MatVec, m.MatVecTwoPass, m.MatMulTwoPass})
	}
	for _, p := range ps {
		const m = 3
		x := testkit.RandF32(7, m*p.k, 2)
		bias := testkit.RandF32(8, p.rows, 1)
		s := NewScratch(p.k)
		one, two := make([]float32, m*p.rows), make([]float32, m*p.rows)
		for r := range m {
			p.matVec(one[r*p.rows:(r+1)*p.rows], x[r*p.k:(r+1)*p.k], s)
			p.matVecTwoPass(two[r*p.rows:(r+1)*p.rows], x[r*p.k:(r+1)*p.k], s)
		}
		e1, e2 := relL2(one, p.w, x, m, p.rows, p.k), relL2(two, p.w, x, m, p.rows, p.k)
		t.Logf("%s: relative L2 error against float64, one pass %.2g, two passes %.2g", p.name, e1, e2)
		assert.Less(t, e2, e1/50, "%s: two passes", p.name)

		c := poisoned(m*p.rows + 1)
		p.matMulTwoPass(c, x, m, bias, s)
		assert.True(t, math.IsNaN(float64(c[m*p.rows])), "%s: MatMulTwoPass wrote past c", p.name)
		for r := range m {
			want := make([]float32, p.rows)
			for j := range want {
				want[j] = two[r*p.rows+j] + bias[j]
			}
			assert.Equal(t, want, c[r*p.rows:(r+1)*p.rows], "%s row %d: MatMulTwoPass equals MatVecTwoPass plus the bias", p.name, r)
		}
	}
}
