package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/testkit"
)

// panelShapes are ragged products for Panels: every row count of a decode
// step, a batched decode and a prefill's edge tiles, depths that do and do
// not fill a kc block, and widths that leave every size of partial panel.
func panelShapes(short bool) []mmShape {
	var shapes []mmShape
	for _, m := range []int{1, 2, 3, 5, 9, 17} {
		for k := 0; k <= 40; k += 3 {
			shapes = append(shapes, mmShape{m, k, 1 + (k*7)%53})
		}
	}
	for n := 0; n <= 100; n++ {
		shapes = append(shapes, mmShape{1 + n%4, 19 + n%5, n})
	}
	shapes = append(shapes,
		mmShape{1, 300, 1000}, mmShape{1, 768, 96}, mmShape{2, 257, 200},
		mmShape{33, 129, 67}, mmShape{13, 771, 259}, mmShape{250, 300, 97},
	)
	if !short {
		shapes = append(shapes, mmShape{1, 768, 2304}, mmShape{64, 3072, 200}, mmShape{300, 600, 150})
	}
	return shapes
}

// TestPackPanels: PackPanels lays W out as Panels says, zero past the last
// row, and Row reads W's rows back.
func TestPackPanels(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for _, s := range []mmShape{{0, 5, 0}, {0, 0, 7}, {0, 13, 1}, {0, 9, 25}, {0, 33, 100}, {0, 1, 48}} {
			k, n := s.k, s.n
			w := testkit.RandF32(uint64(k*n+1), n*k, 1)
			p := PackPanels(w, n, k)
			require.Equal(t, active.panelWidth, p.Width)
			width := p.Width
			require.Len(t, p.Data, (n+width-1)/width*width*k)
			for q := range (n + width - 1) / width {
				for kk := range k {
					for j := range width {
						want := float32(0)
						if q*width+j < n {
							want = w[(q*width+j)*k+kk]
						}
						require.Equal(t, want, p.Data[(q*k+kk)*width+j], "%d×%d panel %d step %d column %d", n, k, q, kk, j)
					}
				}
			}
			row := newGuarded(k, 1)
			for i := range n {
				p.Row(i, row.data)
				row.check(t)
				require.Equal(t, w[i*k:(i+1)*k], row.data, "row %d", i)
			}
			assert.Equal(t, 4*len(p.Data), p.Bytes())
		}
	})
}

// TestPanelsMatMul: on every tier, for every shape, Panels.MatMul gives
// exactly the generic twin's bits (one FMA chain per output, whatever the
// kernel), is within float32 rounding of the float64 product, writes only
// c, and gives the same bits on one thread and on two.
func TestPanelsMatMul(t *testing.T) {
	shapes := panelShapes(testing.Short())
	forEachTier(t, func(t *testing.T) {
		for i, s := range shapes {
			name := fmt.Sprintf("%d×%d×%d", s.m, s.k, s.n)
			a := testkit.RandF32(uint64(3*i+1), s.m*s.k, 1)
			w := testkit.RandF32(uint64(3*i+2), s.n*s.k, 1)
			var bias []float32
			if i%2 == 0 {
				bias = testkit.RandF32(uint64(3*i+3), s.n, 1)
			}
			p := PackPanels(w, s.n, s.k)
			ga := guardedCopy(a, i%5)
			gc := newGuarded(s.m*s.n, i%3)
			p.MatMul(gc.data, ga.data, s.m, bias)
			gc.check(t)

			twin := make([]float32, s.m*s.n)
			for j := range twin {
				twin[j] = float32(math.NaN())
			}
			panelGemmGeneric(twin, a, p, bias, s.m, 0, s.n)
			require.Equal(t, bits(twin), bits(gc.data), "%s: not the generic twin's bits", name)
			if err := testkit.RelL2(gc.data, matMul64(a, w, bias, s.m, s.k, s.n)); err > matMulTol {
				t.Fatalf("%s bias=%v: relative L2 error %.3g > %g", name, bias != nil, err, matMulTol)
			}
		}
	})
}

// TestPanelsMatMulThreads: the pool's split of a large product (by panels
// for a decode step, by columns for a prefill) changes no bit. Each thread
// count runs until the workers have run pieces, as in
// TestParallelMatchesOneThread.
func TestPanelsMatMulThreads(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		for i, s := range []mmShape{{1, 768, 1000}, {1, 500, 2900}, {40, 300, 1001}} {
			a := testkit.RandF32(uint64(i+40), s.m*s.k, 1)
			w := testkit.RandF32(uint64(i+50), s.n*s.k, 1)
			bias := testkit.RandF32(uint64(i+60), s.n, 1)
			p := PackPanels(w, s.n, s.k)
			run := func(n int) []float32 {
				c := make([]float32, s.m*s.n)
				withThreads(n, func() { p.MatMul(c, a, s.m, bias) })
				return c
			}
			one := run(1)
			for _, n := range []int{2, 3} {
				for before := WorkerPieces(); ; {
					require.Equal(t, bits(one), bits(run(n)), "%d×%d×%d, %d threads", s.m, s.k, s.n, n)
					if WorkerPieces() > before {
						break
					}
				}
			}
		}
	})
}

// TestPanelsOfAnotherWidth: Panels packed for one tier multiply the same on
// any other (through the generic tier when the widths differ).
func TestPanelsOfAnotherWidth(t *testing.T) {
	saved := active
	defer func() { active = saved }()
	a := testkit.RandF32(1, 3*70, 1)
	w := testkit.RandF32(2, 61*70, 1)
	want := map[int][]float32{} // by row count: the first tier pair's result
	for _, packer := range tiers {
		active = packer
		p := PackPanels(w, 61, 70)
		for _, runner := range tiers {
			active = runner
			for _, m := range []int{1, 3} {
				got := make([]float32, m*61)
				p.MatMul(got, a, m, nil)
				if want[m] == nil {
					want[m] = got
				}
				assert.Equal(t, bits(want[m]), bits(got), "%d rows packed on %s, run on %s", m, packer.name, runner.name)
			}
		}
	}
}

func TestPanelsPanics(t *testing.T) {
	p := PackPanels(make([]float32, 6), 2, 3)
	c := make([]float32, 4)
	assert.PanicsWithValue(t, "kernels.Panels.MatMul: len(a) = 5, need 6", func() { p.MatMul(c, make([]float32, 5), 2, nil) })
	assert.PanicsWithValue(t, "kernels.Panels.MatMul: len(c) = 4, need 6", func() { p.MatMul(c, make([]float32, 9), 3, nil) })
	assert.PanicsWithValue(t, "kernels.Panels.MatMul: len(bias) = 1, need 2", func() { p.MatMul(c, make([]float32, 6), 2, []float32{1}) })
	assert.PanicsWithValue(t, "kernels.Panels.MatMul: negative row count -1", func() { p.MatMul(c, nil, -1, nil) })
	assert.PanicsWithValue(t, "kernels.Panels.Row: row 2 of 2", func() { p.Row(2, c) })
	assert.PanicsWithValue(t, "kernels.PackPanels: len(w) = 6, need 8", func() { PackPanels(make([]float32, 6), 2, 4) })
}

func ExamplePanels() {
	// A layer with two outputs of three inputs, packed once at load.
	w := PackPanels([]float32{1, 0, 0, 0, 1, 1}, 2, 3)
	a := []float32{1, 2, 3, 4, 5, 6} // two tokens
	c := make([]float32, 4)
	w.MatMul(c, a, 2, []float32{10, 20})
	fmt.Println(c)
	// Output: [11 25 14 31]
}

// bits is the IEEE bits of each value, so that NaNs compare and -0 ≠ 0.
func bits(x []float32) []uint32 {
	b := make([]uint32, len(x))
	for i, v := range x {
		b[i] = math.Float32bits(v)
	}
	return b
}
