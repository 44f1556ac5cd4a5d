package quant

import (
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMatVec16Accuracy: with int16 activations the product's error is the
// int8 rows' rounding alone. Against the float64 product of the
// dequantized rows it is about 1/(32767·√6) ≈ 1.2e-5 relative (bound 1e-4),
// while against the fp32 rows it stays the rows' ~0.39% (bound 1%), on
// every tier; MatMul16's rows equal MatVec16 bit for bit.
func TestMatVec16Accuracy(t *testing.T) {
	const rows, cols, tokens = 501, 768, 5
	w := testkit.RandF32(12, rows*cols, 0.05)
	a := testkit.RandF32(13, tokens*cols, 4)
	m, err := QuantizeMatrix(w, rows, cols)
	require.NoError(t, err)
	deq := make([]float32, rows*cols)
	for j := range rows {
		m.Row(j, deq[j*cols:(j+1)*cols])
	}
	saved := kernels.ISA()
	defer func() { require.NoError(t, kernels.SetISA(saved)) }()
	for _, isa := range kernels.ISAs() {
		require.NoError(t, kernels.SetISA(isa))
		s := NewScratch(cols)
		s.Reserve16(tokens, cols)
		c := make([]float32, tokens*rows+3)
		for i := range c {
			c[i] = float32(math.NaN())
		}
		m.MatMul16(c[:tokens*rows], a, tokens, s)
		for _, v := range c[tokens*rows:] {
			assert.True(t, math.IsNaN(float64(v)), "%s: MatMul16 wrote past its rows", isa)
		}
		y := make([]float32, rows)
		for i := range tokens {
			x := a[i*cols : (i+1)*cols]
			m.MatVec16(y, x, s)
			require.Equal(t, y, c[i*rows:(i+1)*rows], "%s: token %d", isa, i)
			var numRows, numW, den float64
			for j := range rows {
				var want, wantRows float64
				for k := range cols {
					want += float64(w[j*cols+k]) * float64(x[k])
					wantRows += float64(deq[j*cols+k]) * float64(x[k])
				}
				numRows += (float64(y[j]) - wantRows) * (float64(y[j]) - wantRows)
				numW += (float64(y[j]) - want) * (float64(y[j]) - want)
				den += want * want
			}
			relRows, relW := math.Sqrt(numRows/den), math.Sqrt(numW/den)
			assert.Less(t, relRows, 1e-4, "%s: against the int8 rows", isa)
			assert.Less(t, relW, 0.01, "%s: against the fp32 rows", isa)
			if i == 0 {
				t.Logf("%s: relative L2 error %.3g against the int8 rows, %.3g against the fp32 rows", isa, relRows, relW)
			}
		}
		assert.Zero(t, testing.AllocsPerRun(5, func() { m.MatVec16(y, a[:cols], s) }), isa)
		assert.Zero(t, testing.AllocsPerRun(5, func() { m.MatMul16(c[:tokens*rows], a, tokens, s) }), isa)
	}
	assert.PanicsWithValue(t, "quant.Matrix.MatVec16: len(x) = 96, want 768 columns", func() {
		m.MatVec16(make([]float32, rows), a[:96], NewScratch(cols))
	})
}
