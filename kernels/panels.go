package kernels

import "fmt"

// Panels is an fp32 weight matrix W [Rows×Cols] (one row per output
// feature, as MatMul takes it) packed once, at load, into the order the GEMM
// micro-kernels read: W's rows in panels of Width, each panel transposed
// over all of Cols,
//
//	Data[(q*Cols+p)*Width+j] = W[q*Width+j][p]   // 0 for q*Width+j ≥ Rows
//
// so that a prefill multiplies W without repacking it (the per-call packing
// was as much as a quarter of a prefill GEMM's time) and a decode step
// streams it once, in order. Data holds ⌈Rows/Width⌉·Cols·Width values.
//
// Its product (MatMul) is one fused multiply-add chain per output, in the
// order of K, on every tier and for any number of rows, so a row's result
// does not depend on the rows beside it, on the thread count or on the
// tier: a prefill's logits are a decode step's, bit for bit.
type Panels struct {
	Rows, Cols int
	Width      int
	Data       []float32
}

// PackPanels packs the row-major rows×cols matrix w (len ≥ rows·cols) for
// the active tier's kernels.
func PackPanels(w []float32, rows, cols int) *Panels {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("kernels.PackPanels: negative shape %d×%d", rows, cols))
	}
	need("PackPanels", "w", len(w), rows*cols)
	width := active.panelWidth
	p := &Panels{Rows: rows, Cols: cols, Width: width, Data: make([]float32, (rows+width-1)/width*width*cols)}
	if cols > 0 {
		packPanels(p.Data, w, cols, 0, rows, 0, cols, width, packTranspose)
	}
	return p
}

// Bytes is the memory Data takes.
func (p *Panels) Bytes() int { return 4 * len(p.Data) }

// Row writes row i of W into dst (len ≥ Cols): a token's embedding when W
// is a tied token table.
func (p *Panels) Row(i int, dst []float32) {
	if i < 0 || i >= p.Rows {
		panic(fmt.Sprintf("kernels.Panels.Row: row %d of %d", i, p.Rows))
	}
	need("Panels.Row", "dst", len(dst), p.Cols)
	q, j, w := i/p.Width, i%p.Width, p.Width
	src := p.Data[q*p.Cols*w:]
	for k := range p.Cols {
		dst[k] = src[k*w+j]
	}
}

// MatMul computes C = A·Wᵀ + bias for row-major A [m×Cols] and C [m×Rows]:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < p.Rows; j++ {
//			s := bias[j] // 0 when bias is nil
//			for k := 0; k < p.Cols; k++ {
//				s = fma(a[i*p.Cols+k], W[j][k], s) // one rounding
//			}
//			c[i*p.Rows+j] = s
//		}
//	}
//
// m = 1 runs the panel GEMV, larger m the blocked GEMM over the packed
// panels; both are split across Threads() goroutines by panels. Panels
// packed for another tier's width (a test that switched tiers) run on the
// generic tier, which gives the same bits. c must not overlap a or bias.
func (p *Panels) MatMul(c, a []float32, m int, bias []float32) {
	if m < 0 {
		panic(fmt.Sprintf("kernels.Panels.MatMul: negative row count %d", m))
	}
	n, k := p.Rows, p.Cols
	need("Panels.MatMul", "a", len(a), m*k)
	need("Panels.MatMul", "c", len(c), m*n)
	need("Panels.MatMul", "Data", len(p.Data), (n+p.Width-1)/p.Width*p.Width*k)
	if bias != nil {
		need("Panels.MatMul", "bias", len(bias), n)
		bias = bias[:n]
	}
	if m == 0 || n == 0 {
		return
	}
	t := active
	if p.Width != t.panelWidth {
		t = genericImpl
	}
	if m == 1 {
		panelGemv(t, c[:n], a[:k], p, bias)
		return
	}
	panelGemm(t, c[:m*n], a[:m*k], p, bias, m)
}

// panelGemvWhole is tier t's GEMV on whole panels: y has a multiple of
// width values, b as many panels of len(x)·width, and
//
//	for q := 0; q < len(y)/width; q++ {
//		for j := 0; j < width; j++ {
//			s := y[q*width+j]
//			for k := range x {
//				s = fma(x[k], b[(q*len(x)+k)*width+j], s)
//			}
//			y[q*width+j] = s
//		}
//	}
func panelGemvWhole(t *impl, y, x, b []float32, width int) {
	if t.panelAsm {
		archPanelGemv(y, x, b, width)
		return
	}
	panelGemvGeneric(y, x, b, width)
}

// panelGemvColumns computes outputs [j0, j1) of y = W·x + bias, j0 a
// multiple of the width: whole panels in place, the last partial one
// through a scratch tile.
func panelGemvColumns(t *impl, y, x []float32, p *Panels, bias []float32, j0, j1 int) {
	w, k := p.Width, p.Cols
	whole := j0 + (j1-j0)/w*w
	row := y[j0:whole]
	if bias != nil {
		copy(row, bias[j0:whole])
	} else {
		clear(row)
	}
	if whole > j0 {
		panelGemvWhole(t, row, x, p.Data[j0*k:whole*k], w)
	}
	if whole == j1 {
		return
	}
	var tile [maxPanelWidth]float32 // on the stack: the kernels are direct calls
	if bias != nil {
		copy(tile[:], bias[whole:j1])
	}
	panelGemvWhole(t, tile[:w], x, p.Data[whole*k:(whole+w)*k], w)
	copy(y[whole:j1], tile[:j1-whole])
}

// usePanels installs a SIMD tier's Panels kernels: its micro-kernel's
// width, the assembly panel GEMV of that width (archPanelGemv) and the
// blocked GEMM over the panels.
func usePanels(t *impl, mk *microKernel) {
	t.panelWidth, t.panelAsm = mk.nr, true
	t.panelGemm = func(c, a []float32, p *Panels, bias []float32, m, j0, j1 int) {
		gemmBlockedColumns(mk, c, a, nil, p, bias, m, p.Cols, p.Rows, j0, j1)
	}
}

// maxPanelWidth bounds every tier's panel width (AVX-512: 48).
const maxPanelWidth = 64

// panelGemvGeneric is the definition of every tier's panel GEMV.
func panelGemvGeneric(y, x, b []float32, width int) {
	k := len(x)
	for q := range len(y) / width {
		panel, acc := b[q*k*width:(q+1)*k*width], y[q*width:(q+1)*width]
		for i, v := range x { // each acc[j] is its own chain, in order of i
			for j, w := range panel[i*width : (i+1)*width] {
				// fma32(v, w, acc[j]) with its fast path inlined.
				p, c := float64(float64(v)*float64(w)), float64(acc[j])
				if r, ok := fma32Fast(p, c); ok {
					acc[j] = r
				} else {
					acc[j] = fma32Midpoint(p, c)
				}
			}
		}
	}
}

// panelGemmGeneric is the definition of every tier's panel GEMM: columns
// [j0, j1) of C = A·Wᵀ + bias, each row of A a panelGemvGeneric.
func panelGemmGeneric(c, a []float32, p *Panels, bias []float32, m, j0, j1 int) {
	k, n := p.Cols, p.Rows
	for i := range m {
		panelGemvColumns(&genericPanels, c[i*n:(i+1)*n], a[i*k:(i+1)*k], p, bias, j0, j1)
	}
}

// genericPanels is a tier without panel assembly, for panelGemmGeneric
// (the generic tier's table refers to that function, so it cannot refer
// back).
var genericPanels impl

// packTranspose is the fastest panel packing this CPU has (amd64: the AVX
// transpose) or nil; PackPanels uses it whatever the tier.
var packTranspose = archPackTranspose()
