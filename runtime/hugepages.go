package runtime

import (
	"unsafe"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/quant"
)

// A decode step streams every weight matrix from memory once, and on the
// machines we measure (virtual machines with nested paging) a stream over
// 4 KiB pages reaches 60-75% of the bandwidth the same stream reaches over
// 2 MiB pages: each new page is a TLB miss with a two-level page walk.
// Where the platform has transparent huge pages (Linux, unless
// GODEBUG=disablethp=1 asks Go not to use them), the memory a decode step
// streams is therefore allocated 2 MiB aligned and advised MADV_HUGEPAGE
// before goformer writes it: at load, the matrices (every linear layer, the
// token table, an untied head), copied there once, as the file has them or,
// for layers the tier multiplies faster so, interleaved or packed into
// panels (placeWeights); per session, the KV cache. Memory fresh from the
// OS then faults in as huge pages; a span the Go heap reuses may already
// be on base pages, which the kernel's khugepaged collapses later. It
// stays ordinary Go memory, which the garbage collector frees like any
// other, and the model keeps no second copy (withoutMatrices).

// hugePageSize is the size of a transparent huge page on amd64 and arm64
// with 4 KiB base pages.
const hugePageSize = 2 << 20

// hugePageBytes returns n zero bytes from the Go heap starting on a huge
// page boundary, advised to be backed by huge pages where the platform can
// (adviseHugePages); elsewhere, or for less than a huge page, plain memory.
func hugePageBytes(n int) []byte {
	if !hugePages || n < hugePageSize {
		return make([]byte, n)
	}
	b := make([]byte, n+hugePageSize)
	skip := (hugePageSize - int(uintptr(unsafe.Pointer(unsafe.SliceData(b))))%hugePageSize) % hugePageSize
	b = b[skip : skip+n : skip+n]
	adviseHugePages(b)
	return b
}

// hugePageFloats is hugePageBytes for n float32.
func hugePageFloats(n int) []float32 {
	b := hugePageBytes(4 * n)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// placeHugePages is cleared by tests that compare placed and unplaced
// weights.
var placeHugePages = true

// weightArena is one huge-page block that slices are carved from, 64-byte
// aligned. The slices keep the whole block alive.
type weightArena struct {
	buf []byte
	off int
}

// arenaAlign aligns every slice to a cache line.
const arenaAlign = 64

// carve returns the next n bytes of the arena.
func (a *weightArena) carve(n int) unsafe.Pointer {
	a.off = (a.off + arenaAlign - 1) &^ (arenaAlign - 1)
	if a.off+n > len(a.buf) {
		panic("runtime: weight arena overrun") // arenaBytes sized it: a bug here
	}
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(a.buf)), a.off)
	a.off += n
	return p
}

func (a *weightArena) floats(src []float32) []float32 {
	dst := unsafe.Slice((*float32)(a.carve(4*len(src))), len(src))
	copy(dst, src)
	return dst
}

// blockMatrix copies m into the arena, a linear's interleaved where the
// tier prefers it.
func (a *weightArena) blockMatrix(m *quant.BlockMatrix, linear bool) *quant.BlockMatrix {
	dst := unsafe.Slice((*byte)(a.carve(len(m.Data))), len(m.Data))
	if linear && interleaveLinears {
		if im := m.Interleaved(dst); im != m {
			return im
		}
	}
	copy(dst, m.Data)
	return &quant.BlockMatrix{Type: m.Type, Rows: m.Rows, Cols: m.Cols, Data: dst}
}

// matrix copies m into the arena, a linear's packed into panels where the
// tier prefers them.
func (a *weightArena) matrix(m *quant.Matrix, linear bool) quantMatrix {
	if packs(linear) {
		n := m.PanelBytes()
		return m.Panels(unsafe.Slice((*byte)(a.carve(n)), n))
	}
	q := unsafe.Slice((*int8)(a.carve(len(m.Q))), len(m.Q))
	copy(q, m.Q)
	return &quant.Matrix{Rows: m.Rows, Cols: m.Cols, Q: q, Scales: a.floats(m.Scales)}
}

// packs says whether placeWeights packs an int8 matrix into panels: a
// linear's (not a table's, whose lookups read rows) where the tier
// multiplies panels faster.
func packs(linear bool) bool {
	return linear && panelLinears && kernels.PrefersQ8Panels()
}

// arenaBytes is the room carve needs for slices of the given byte sizes.
func arenaBytes(sizes []int) int {
	total := 0
	for _, n := range sizes {
		total += (n + arenaAlign - 1) &^ (arenaAlign - 1)
	}
	return total
}

// interleaveLinears lets placeWeights interleave Q4_0 and Q5_0 layers,
// panelLinears pack int8 ones into panels; tests turn them off to compare.
var interleaveLinears, panelLinears = true, true

// placeWeights copies the model's streamed matrices into a huge-page arena
// (see above), where the platform has huge pages.
//
// The layers' Q4_0 and Q5_0 matrices are interleaved on the way where the
// tier prefers it (quant.BlockMatrix.Interleaved), and their int8 ones
// packed into panels (quant.Matrix.Panels), or into the heap where there
// are no huge pages: either way one copy. Token tables stay as the
// file has them: a lookup reads one row.
func (m *Model) placeWeights() {
	var sizes []int
	visit := func(f32 func(*[]float32), q func(_ *quantMatrix, linear bool)) {
		var place func(l linear)
		place = func(l linear) {
			switch l := l.(type) {
			case *f32Linear:
				f32(&l.p.Data)
			case *quantLinear:
				q(&l.m, true)
			case *stackedLinear:
				for _, p := range l.parts {
					place(p)
				}
			}
		}
		for i := range m.layers {
			L := &m.layers[i]
			for _, l := range []linear{L.qkv, L.out, L.up, L.down} {
				place(l)
			}
		}
		tables := []tokenTable{m.tokens}
		if m.head != m.tokens {
			tables = append(tables, m.head)
		}
		for _, t := range tables {
			switch t := t.(type) {
			case *f32Table:
				f32(&t.p.Data)
			case *quantTable:
				q(&t.m, false)
			}
		}
	}
	if !placeHugePages || !hugePages {
		visit(func(*[]float32) {}, func(q *quantMatrix, linear bool) {
			switch m := (*q).(type) {
			case *quant.BlockMatrix:
				if linear && interleaveLinears {
					*q = m.Interleaved(nil)
				}
			case *quant.Matrix:
				if packs(linear) {
					*q = m.Panels(nil)
				}
			}
		})
		return
	}
	visit(func(w *[]float32) { sizes = append(sizes, 4*len(*w)) },
		func(q *quantMatrix, linear bool) {
			switch m := (*q).(type) {
			case *quant.Matrix:
				if packs(linear) {
					sizes = append(sizes, m.PanelBytes())
				} else {
					sizes = append(sizes, len(m.Q), 4*len(m.Scales))
				}
			case *quant.BlockMatrix:
				sizes = append(sizes, len(m.Data))
			}
		})
	a := &weightArena{buf: hugePageBytes(arenaBytes(sizes))}
	visit(func(w *[]float32) { *w = a.floats(*w) },
		func(q *quantMatrix, linear bool) {
			switch m := (*q).(type) {
			case *quant.Matrix:
				*q = a.matrix(m, linear)
			case *quant.BlockMatrix:
				*q = a.blockMatrix(m, linear)
			}
		})
	m.arena = a
}
