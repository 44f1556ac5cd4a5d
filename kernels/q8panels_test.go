package kernels

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQ8PanelsPack checks the packed layout through Row: every row equals
// the plain row dequantized, bit for bit, on ragged row counts (a last
// panel that is partly padding), and the padding is zeros.
func TestQ8PanelsPack(t *testing.T) {
	for _, rows := range []int{1, 15, 16, 17, 40} {
		k := 96
		nb := k / Q8Block
		wq := randInt8(uint64(rows), rows*k, -128, 127)
		ws := testkit.RandF32(uint64(rows+1), rows*nb, 0.01)
		p := PackQ8Panels(nil, wq, ws, rows, k)
		require.Len(t, p.Data, (rows+15)/16*nb*576)
		got, want := make([]float32, k), make([]float32, k)
		for i := range rows {
			p.Row(i, got)
			Q8Dequantize(want, wq[i*k:(i+1)*k], ws[i*nb:(i+1)*nb])
			requireSameBits(t, want, got, "row %d of %d", i, rows)
		}
		for i := rows; i < (rows+15)/16*16; i++ {
			pn, r := i/16, i%16
			for b := range nb {
				blk := p.Data[(pn*nb+b)*576:][:576]
				assert.Equal(t, []byte{0, 0, 0, 0}, blk[512+4*r:][:4], "padding row %d's scale", i)
				for q := range 8 {
					assert.Equal(t, []byte{0, 0, 0, 0}, blk[q*64+r*4:][:4], "padding row %d's values", i)
				}
			}
		}
	}
	assert.Panics(t, func() { PackQ8Panels(nil, nil, nil, 1, 33) })
}

// TestQ8PanelsExact checks every tier's Q8Panels products bit for bit
// against the block chain's definition (q8ChainGeneric on the plain rows,
// then the bias): the GEMV, and every row of the GEMM, on ragged shapes
// (rows of A that are not whole groups of four, rows of W that are not
// whole panels, odd block counts), odd offsets, poisoned outputs with
// guards, and 1, 2 and 3 threads. On tiers without Q8Panels kernels this
// runs the generic twins.
func TestQ8PanelsExact(t *testing.T) {
	shapes := q8MatMulShapes(testing.Short())
	shapes = append(shapes, q8MMShape{16, 96, 16}, q8MMShape{33, 224, 47}, q8MMShape{9, 768, 2304}, q8MMShape{4, 4864, 50})
	maxGeneric := 1 << 22
	if testing.Short() {
		maxGeneric = 1 << 16
	}
	forEachTier(t, func(t *testing.T) {
		var buf Q8PanelBuffer
		for i, s := range shapes {
			if s.k == 0 || (!PrefersQ8Panels() && s.m*s.k*s.n > maxGeneric) {
				continue
			}
			aq, as, wq, ws, bias := q8MatMulInputs(i, s)
			nb := s.k / Q8Block
			p := PackQ8Panels(nil, wq, ws, s.n, s.k)
			want := make([]float32, s.m*s.n)
			for r := range s.m {
				q8ChainGeneric(want[r*s.n:], wq, ws, aq[r*s.k:], as[r*nb:], s.k, s.n)
				if bias != nil {
					for j := range s.n {
						want[r*s.n+j] += bias[j]
					}
				}
			}
			for _, threads := range []int{1, 2, 3} {
				c := newGuarded(s.m*s.n, i%4)
				withThreads(threads, func() { p.MatMul(c.data, aq, as, bias, s.m, &buf) })
				c.check(t)
				requireSameBits(t, want, c.data, "MatMul %d×%d×%d, %d threads", s.m, s.k, s.n, threads)
			}
			if s.m > 0 {
				y := newGuarded(s.n, i%3)
				p.MatVec(y.data, aq, as, &buf)
				y.check(t)
				row := make([]float32, s.n)
				q8ChainGeneric(row, wq, ws, aq, as, s.k, s.n)
				requireSameBits(t, row, y.data, "MatVec %d×%d", s.k, s.n)
			}
		}
	})
}

// TestQ8PanelsMeaning checks the products against the float64 meaning of
// the int8 product (q8MatMul64), on a prefill-sized shape.
func TestQ8PanelsMeaning(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		s := q8MMShape{37, 768, 333}
		if !PrefersQ8Panels() {
			s = q8MMShape{5, 256, 70}
		}
		aq, as, wq, ws, bias := q8MatMulInputs(2, s)
		p := PackQ8Panels(nil, wq, ws, s.n, s.k)
		c := make([]float32, s.m*s.n)
		var buf Q8PanelBuffer
		p.MatMul(c, aq, as, bias, s.m, &buf)
		want := q8MatMul64(aq, as, wq, ws, bias, s.m, s.k, s.n)
		assert.LessOrEqual(t, testkit.RelL2(c, want), q8MatVecTol)
	})
}

// TestQ8PanelsPanics: a product whose operands are too short is our own
// bug and panics with the name of the operand.
func TestQ8PanelsPanics(t *testing.T) {
	wq := randInt8(1, 20*64, -127, 127)
	ws := testkit.RandF32(2, 40, 0.01)
	p := PackQ8Panels(nil, wq, ws, 20, 64)
	var buf Q8PanelBuffer
	assert.PanicsWithValue(t, "kernels.Q8Panels.MatMul: len(c) = 19, need 20", func() {
		p.MatVec(make([]float32, 19), make([]int8, 64), make([]float32, 2), &buf)
	})
	assert.Panics(t, func() { p.MatMul(make([]float32, 40), make([]int8, 100), make([]float32, 4), nil, 2, &buf) })
}

// TestQ8PanelsAllocations: a decode step's GEMV allocates nothing once the
// buffer has grown.
func TestQ8PanelsAllocations(t *testing.T) {
	s := q8MMShape{1, 768, 2304}
	aq, as, wq, ws, _ := q8MatMulInputs(1, s)
	p := PackQ8Panels(nil, wq, ws, s.n, s.k)
	y := make([]float32, s.n)
	var buf Q8PanelBuffer
	p.MatVec(y, aq, as, &buf)
	assert.Zero(t, testing.AllocsPerRun(20, func() { p.MatVec(y, aq, as, &buf) }))
}

// BenchmarkQ8PanelsMatMul is the packed int8 GEMM on one thread, on the
// shapes of BenchmarkQ8MatMul (the plain layout's), in GOP/s (2·m·k·n).
// The tier's int8 peak is in bench/RESULTS.md.
func BenchmarkQ8PanelsMatMul(b *testing.B) {
	saved := active
	defer func() { active = saved }()
	oneThread(b)
	for _, tier := range tiers {
		for _, s := range []q8MMShape{{512, 768, 2304}, {512, 768, 3072}, {512, 3072, 768}, {512, 576, 1536}} {
			active = tier
			if !PrefersQ8Panels() {
				continue
			}
			nb := s.k / 32
			aq := randInt8(1, s.m*s.k, -127, 127)
			as := testkit.RandF32(2, s.m*nb, 0.05)
			p := PackQ8Panels(nil, randInt8(3, s.n*s.k, -127, 127), testkit.RandF32(4, s.n*nb, 0.01), s.n, s.k)
			c := make([]float32, s.m*s.n)
			var buf Q8PanelBuffer
			b.Run(fmt.Sprintf("%s/%dx%dx%d", tier.name, s.m, s.k, s.n), func(b *testing.B) {
				active = tier
				for b.Loop() {
					p.MatMul(c, aq, as, nil, s.m, &buf)
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(s.m*s.k*s.n)/sec/1e9, "GOP/s")
			})
		}
	}
}

// BenchmarkQ8PanelsMatVec is the packed int8 GEMV on one thread, in GB/s
// of W read, beside BenchmarkQ8MatVec's shapes.
func BenchmarkQ8PanelsMatVec(b *testing.B) {
	saved := active
	defer func() { active = saved }()
	oneThread(b)
	for _, tier := range tiers {
		for _, s := range []q8MMShape{{1, 768, 3072}, {1, 3072, 768}, {1, 768, 50257}} {
			active = tier
			if !PrefersQ8Panels() {
				continue
			}
			nb := s.k / 32
			aq := randInt8(1, s.k, -127, 127)
			as := testkit.RandF32(2, nb, 0.05)
			p := PackQ8Panels(nil, randInt8(3, s.n*s.k, -127, 127), testkit.RandF32(4, s.n*nb, 0.01), s.n, s.k)
			y := make([]float32, s.n)
			var buf Q8PanelBuffer
			b.Run(fmt.Sprintf("%s/%dx%d", tier.name, s.k, s.n), func(b *testing.B) {
				active = tier
				for b.Loop() {
					p.MatVec(y, aq, as, &buf)
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(float64(p.Bytes())/sec/1e9, "GB/s")
			})
		}
	}
}

// BenchmarkPackQ8Panels is the packing a load does per int8 layer, in
// ns a value (Qwen2.5-0.5B's down projection).
func BenchmarkPackQ8Panels(b *testing.B) {
	rows, cols := 896, 4864
	wq := randInt8(1, rows*cols, -128, 127)
	ws := testkit.RandF32(2, rows*cols/Q8Block, 0.01)
	data := make([]byte, Q8PanelBytes(rows, cols))
	for b.Loop() {
		PackQ8Panels(data, wq, ws, rows, cols)
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(rows*cols), "ns/value")
}
