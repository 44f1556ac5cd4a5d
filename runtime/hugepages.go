package runtime

import (
	goruntime "runtime"
	"sync"
	"unsafe"

	"github.com/goformer/goformer/quant"
)

// A decode step streams every weight matrix from memory once, and on the
// machines we measure (virtual machines with nested paging) a stream over
// 4 KiB pages reaches ~70% of the bandwidth the same stream reaches over
// 2 MiB pages: each new page is a TLB miss with a two-level page walk. So
// the matrices a decode step reads (every linear layer, the token table and
// the output head) are copied once, at load, into one anonymous mapping that
// asks for transparent huge pages (madvise MADV_HUGEPAGE), where the
// platform has them. Elsewhere, or when the mapping fails, they stay where
// the loader put them (the checkpoint's own mapping or the Go heap). The
// values are copied bit for bit: results do not change.

// placeHugePages is cleared by tests that compare placed and unplaced
// weights.
var placeHugePages = true

// weightArena is one block of huge-page memory that slices are carved from,
// 64-byte aligned, until it is released.
type weightArena struct {
	buf  []byte
	off  int
	once sync.Once
	free func()
}

// arenaAlign aligns every slice to a cache line.
const arenaAlign = 64

// carve returns the next n bytes of the arena.
func (a *weightArena) carve(n int) unsafe.Pointer {
	a.off = (a.off + arenaAlign - 1) &^ (arenaAlign - 1)
	p := unsafe.Pointer(&a.buf[a.off])
	a.off += n
	return p
}

func (a *weightArena) floats(src []float32) []float32 {
	dst := unsafe.Slice((*float32)(a.carve(4*len(src))), len(src))
	copy(dst, src)
	return dst
}

func (a *weightArena) matrix(m *quant.Matrix) *quant.Matrix {
	q := unsafe.Slice((*int8)(a.carve(len(m.Q))), len(m.Q))
	copy(q, m.Q)
	return &quant.Matrix{Rows: m.Rows, Cols: m.Cols, Q: q, Scales: a.floats(m.Scales)}
}

// release unmaps the arena once, whoever asks first: Close or the cleanup
// of an unreachable Model.
func (a *weightArena) release() { a.once.Do(a.free) }

// arenaBytes is the room carve needs for slices of the given byte sizes.
func arenaBytes(sizes []int) int {
	total := 0
	for _, n := range sizes {
		total += (n + arenaAlign - 1) &^ (arenaAlign - 1)
	}
	return total
}

// placeWeights moves the model's streamed matrices into a huge-page arena
// (see above), when the platform gives one.
func (m *Model) placeWeights() {
	if !placeHugePages {
		return
	}
	var sizes []int
	visit := func(f32 func(*[]float32), q8 func(**quant.Matrix)) {
		for i := range m.layers {
			L := &m.layers[i]
			for _, l := range []linear{L.qkv, L.attnOut, L.fc, L.fcOut} {
				switch l := l.(type) {
				case *f32Linear:
					f32(&l.w)
				case *q8Linear:
					q8(&l.m)
				}
			}
		}
		tables := []tokenTable{m.tokens}
		if m.head != m.tokens {
			tables = append(tables, m.head)
		}
		for _, t := range tables {
			switch t := t.(type) {
			case *f32Table:
				f32(&t.w)
			case *q8Table:
				q8(&t.m)
			}
		}
	}
	visit(func(w *[]float32) { sizes = append(sizes, 4*len(*w)) },
		func(q **quant.Matrix) { sizes = append(sizes, len((*q).Q), 4*len((*q).Scales)) })
	a := newHugeArena(arenaBytes(sizes))
	if a == nil {
		return
	}
	visit(func(w *[]float32) { *w = a.floats(*w) },
		func(q **quant.Matrix) { *q = a.matrix(*q) })
	m.arena = a
	// A Model dropped without Close still gives its arena back.
	goruntime.AddCleanup(m, func(a *weightArena) { a.release() }, a)
}
