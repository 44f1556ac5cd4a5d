//go:build linux

package kernels

import (
	"fmt"
	"github.com/goformer/goformer/internal/testkit"
	"syscall"
	"testing"
	"unsafe"
)

// hugeBytes is n bytes on 2 MiB boundaries, advised to be huge pages, as
// the runtime places a model's weights.
func hugeBytes(n int) []byte {
	const huge = 2 << 20
	b := make([]byte, n+huge)
	skip := (huge - int(uintptr(unsafe.Pointer(unsafe.SliceData(b))))%huge) % huge
	b = b[skip : skip+n]
	_ = syscall.Madvise(b, 14) // MADV_HUGEPAGE
	return b
}

// BenchmarkQ8MatVecLayers streams the int8 GEMVs of a SmolLM2-135M decode
// step (30 layers of fused q/k/v 960×576, output 576×576, gate/up
// 3072×576, down 576×1536), each layer's matrices its own memory in huge
// pages, so the weights come from DRAM as in a real step: it shows what
// the pool's sections cost on small matrices, apart from the rest of the
// pass. "one" multiplies the same bytes as one matrix per shape width.
func BenchmarkQ8MatVecLayers(b *testing.B) {
	savedThreads := threads.Load()
	defer threads.Store(savedThreads)
	benchQ8Layers(b, "", [][2]int{{960, 576}, {576, 576}, {3072, 576}, {576, 1536}}, 30)
	// GPT-2 124M's: fused q/k/v 2304×768, output 768×768, up 3072×768,
	// down 768×3072, twelve layers.
	benchQ8Layers(b, "gpt2/", [][2]int{{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}}, 12)
}

func benchQ8Layers(b *testing.B, prefix string, shapes [][2]int, layers int) {
	type mat struct {
		q    []int8
		s    []float32
		n, k int
	}
	total := 0
	for _, s := range shapes {
		total += layers * (s[0]*s[1] + 4*s[0]*s[1]/Q8Block)
	}
	arena := hugeBytes(total + 64*len(shapes)*layers*2)
	off := 0
	carve := func(n int) []byte {
		off = (off + 63) &^ 63
		p := arena[off : off+n]
		off += n
		return p
	}
	var mats []mat
	for l := range layers {
		for i, s := range shapes {
			n, k := s[0], s[1]
			q := unsafe.Slice((*int8)(unsafe.Pointer(&carve(n * k)[0])), n*k)
			copy(q, randInt8(uint64(l*8+i), n*k, -127, 127))
			sc := unsafe.Slice((*float32)(unsafe.Pointer(&carve(4 * n * k / Q8Block)[0])), n*k/Q8Block)
			copy(sc, testkit.RandF32(uint64(l*8+i), n*k/Q8Block, 0.01))
			mats = append(mats, mat{q, sc, n, k})
		}
	}
	x := testkit.RandF32(99, 3072, 1)
	xq, xs := make([]int8, 3072), make([]float32, 3072/Q8Block)
	Q8Quantize(xq, xs, x)
	y := make([]float32, 4608*30)
	for _, t := range []int{1, 2} {
		b.Run(fmt.Sprintf("%slayers/threads=%d", prefix, t), func(b *testing.B) {
			threads.Store(int32(t))
			b.SetBytes(int64(total))
			for range b.N {
				for _, m := range mats {
					Q8MatVec(y[:m.n], m.q, m.s, xq[:m.k], xs[:m.k/Q8Block], m.k, m.n)
				}
			}
		})
	}
	// The same matrices packed into panels, where the tier prefers them.
	if PrefersQ8Panels() {
		var panels []*Q8Panels
		ptotal := 0
		for _, m := range mats {
			ptotal += Q8PanelBytes(m.n, m.k) + 64
		}
		parena, poff := hugeBytes(ptotal), 0
		pcarve := func(n int) []byte {
			poff = (poff + 63) &^ 63
			p := parena[poff : poff+n]
			poff += n
			return p
		}
		for _, m := range mats {
			panels = append(panels, PackQ8Panels(pcarve(Q8PanelBytes(m.n, m.k)), m.q, m.s, m.n, m.k))
		}
		var buf Q8PanelBuffer
		for _, t := range []int{1, 2} {
			b.Run(fmt.Sprintf("%spanels/threads=%d", prefix, t), func(b *testing.B) {
				threads.Store(int32(t))
				b.SetBytes(int64(total))
				for range b.N {
					for _, p := range panels {
						p.MatVec(y[:p.Rows], xq[:p.Cols], xs[:p.Cols/Q8Block], &buf)
					}
				}
			})
		}
	}
	if prefix != "" {
		return
	}
	// The same bytes as two matrices: every k=576 matrix's rows, then the downs.
	rows576 := 0
	for _, s := range shapes[:3] {
		rows576 += layers * s[0]
	}
	down := mat{n: 576 * layers, k: 1536}
	one := hugeBytes(rows576*576 + 4*rows576*576/Q8Block + down.n*1536 + 4*down.n*1536/Q8Block)
	bq := unsafe.Slice((*int8)(unsafe.Pointer(&one[0])), rows576*576)
	bs := unsafe.Slice((*float32)(unsafe.Pointer(&one[rows576*576])), rows576*576/Q8Block)
	o2 := rows576*576 + 4*rows576*576/Q8Block
	dq := unsafe.Slice((*int8)(unsafe.Pointer(&one[o2])), down.n*1536)
	ds := unsafe.Slice((*float32)(unsafe.Pointer(&one[o2+down.n*1536])), down.n*1536/Q8Block)
	for i := range bq {
		bq[i] = int8(i*7%255 - 127)
	}
	for i := range dq {
		dq[i] = int8(i*5%255 - 127)
	}
	for i := range bs {
		bs[i] = 0.01
	}
	for i := range ds {
		ds[i] = 0.01
	}
	for _, t := range []int{1, 2} {
		b.Run(fmt.Sprintf("%sone/threads=%d", prefix, t), func(b *testing.B) {
			threads.Store(int32(t))
			b.SetBytes(int64(total))
			for range b.N {
				Q8MatVec(y[:rows576], bq, bs, xq[:576], xs[:576/Q8Block], 576, rows576)
				Q8MatVec(y[:down.n], dq, ds, xq[:1536], xs[:1536/Q8Block], 1536, down.n)
			}
		})
	}
}
