package quant

import (
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResidual checks the two layers against the float32 matrix they were
// made from: each value of Row + AddRow is off by at most half a step of
// the residual's block, and the largest error is hundreds of times below
// the first layer's alone. AddRow adds exactly the residual's dequantized
// row, in float64 terms (one product, one sum, each rounded to float32).
func TestResidual(t *testing.T) {
	const rows, cols = 29, 160
	w := testkit.RandF32(11, rows*cols, 3)
	m, err := QuantizeMatrix(w, rows, cols)
	require.NoError(t, err)
	r := m.Residual(w)
	require.Equal(t, rows, r.Rows)
	require.Equal(t, cols, r.Cols)
	one, two := make([]float32, cols), make([]float32, cols+1)
	var worstOne, worstTwo float64
	for i := range rows {
		m.Row(i, one)
		two[cols] = 7 // a guard AddRow must not touch
		copy(two, one)
		r.AddRow(i, two)
		assert.Equal(t, float32(7), two[cols], "row %d: AddRow wrote past the row", i)
		for c := range cols {
			b := c / 32
			want := float32(float64(one[c]) + float64(float32(float64(r.Scales[i*cols/32+b])*float64(r.Q[i*cols+c]))))
			require.Equal(t, want, two[c], "row %d col %d: AddRow", i, c)
			var amax float64 // the residual's block
			for k := i*cols + b*32; k < i*cols+b*32+32; k++ {
				amax = math.Max(amax, math.Abs(float64(w[k])-float64(one[k-i*cols])))
			}
			e := math.Abs(float64(two[c]) - float64(w[i*cols+c]))
			assert.LessOrEqual(t, e, 0.5001*amax/127+1e-7*math.Abs(float64(w[i*cols+c])), "row %d col %d", i, c)
			worstOne = math.Max(worstOne, math.Abs(float64(one[c])-float64(w[i*cols+c])))
			worstTwo = math.Max(worstTwo, e)
		}
	}
	t.Logf("largest error: %.3g with one layer, %.3g with two", worstOne, worstTwo)
	assert.Less(t, worstTwo, worstOne/100)
}
