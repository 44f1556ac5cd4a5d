package quant

import (
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPanelMatrix checks a Matrix packed into panels on every tier that
// prefers them: its rows are the Matrix's, its products stay within the
// int8 rounding of the float64 product of the Matrix's own values (as
// TestMatVecAccuracy bounds Matrix's), MatMul's rows (bias added) and the
// two-pass products' rows equal their GEMVs bit for bit, nothing is
// written past the outputs, and a decode step allocates nothing.
func TestPanelMatrix(t *testing.T) {
	const rows, cols, tokens = 67, 800, 9
	m, err := QuantizeMatrix(testkit.RandF32(6, rows*cols, 0.1), rows, cols)
	require.NoError(t, err)
	a, bias := testkit.RandF32(7, tokens*cols, 3), testkit.RandF32(8, rows, 1)
	saved := kernels.ISA()
	defer func() { require.NoError(t, kernels.SetISA(saved)) }()
	ran := false
	for _, isa := range kernels.ISAs() {
		require.NoError(t, kernels.SetISA(isa))
		if !kernels.PrefersQ8Panels() {
			continue
		}
		pm := m.Panels(nil)
		ran = true
		r, c := pm.Shape()
		require.Equal(t, [2]int{rows, cols}, [2]int{r, c})
		assert.Equal(t, kernels.Q8_0, pm.WeightType())
		assert.Equal(t, 5*cols/32*576, pm.Bytes(), "five panels of sixteen rows")
		got, want := make([]float32, cols), make([]float32, cols)
		for i := range rows {
			pm.Row(i, got)
			m.Row(i, want)
			require.Equal(t, want, got, "%s: row %d", isa, i)
		}
		s := NewScratch(cols)
		out := make([]float32, tokens*rows+5)
		for i := range out {
			out[i] = float32(math.NaN())
		}
		pm.MatMul(out[:tokens*rows], a, tokens, bias, s)
		y := make([]float32, rows)
		var num, den float64
		for i := range tokens {
			x := a[i*cols : (i+1)*cols]
			pm.MatVec(y, x, s)
			kernels.Add(y, y, bias)
			require.Equal(t, y, out[i*rows:(i+1)*rows], "%s: token %d", isa, i)
			for j := range rows {
				m.Row(j, want)
				ref := float64(bias[j])
				for c, w := range want {
					ref += float64(w) * float64(x[c])
				}
				num += (float64(y[j]) - ref) * (float64(y[j]) - ref)
				den += ref * ref
			}
		}
		// Only the activations are rounded against this reference:
		// ~0.39% relative for uniform values; the bound is 1%.
		assert.Less(t, math.Sqrt(num/den), 0.01, isa)
		for _, v := range out[tokens*rows:] {
			assert.True(t, math.IsNaN(float64(v)), "%s: MatMul wrote past its rows", isa)
		}
		pm.MatMulTwoPass(out[:tokens*rows], a, tokens, bias, s)
		for i := range tokens {
			pm.MatVecTwoPass(y, a[i*cols:(i+1)*cols], s)
			kernels.Add(y, y, bias)
			require.Equal(t, y, out[i*rows:(i+1)*rows], "%s: two-pass token %d", isa, i)
		}
		x := a[:cols]
		assert.Zero(t, testing.AllocsPerRun(5, func() { pm.MatVec(y, x, s) }), isa)
		assert.Zero(t, testing.AllocsPerRun(5, func() { pm.MatMul(out[:tokens*rows], a, tokens, bias, s) }), isa)
		assert.PanicsWithValue(t, "quant.PanelMatrix.MatMul: len(a) = 800, want 2 rows of 800 columns", func() {
			pm.MatMul(make([]float32, 2*rows), a[:cols], 2, nil, s)
		})
	}
	if !ran {
		t.Skipf("no tier of this CPU (%v) multiplies int8 panels with its own kernels: AVX-512 VNNI", kernels.ISAs())
	}
}
