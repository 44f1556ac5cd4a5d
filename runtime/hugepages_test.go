package runtime

import (
	"fmt"
	"math"
	goruntime "runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/quant"
)

// inArena reports whether the n bytes at p lie inside the arena's buffer.
func inArena(a *weightArena, p unsafe.Pointer, n int) bool {
	lo := uintptr(unsafe.Pointer(&a.buf[0]))
	return uintptr(p) >= lo && uintptr(p)+uintptr(n) <= lo+uintptr(len(a.buf))
}

// assertPlaced checks that every matrix m streams (each layer's linears,
// the parts of stacked ones, the token table and an untied head) lies in
// its huge-page arena, 64-byte aligned. A linear, table or matrix type it
// does not know fails: placeWeights must learn to place it, and this to
// check it.
func assertPlaced(t *testing.T, m *Model) {
	t.Helper()
	a := m.arena
	require.NotNil(t, a, "no huge-page arena on Linux")
	if len(a.buf) >= hugePageSize {
		assert.Zero(t, uintptr(unsafe.Pointer(&a.buf[0]))%hugePageSize)
	}
	in := func(what string, p unsafe.Pointer, n int) {
		assert.True(t, inArena(a, p, n), "%s is not in the arena", what)
		assert.Zero(t, uintptr(p)%arenaAlign, "%s is not aligned", what)
	}
	matrix := func(what string, q quantMatrix) {
		switch q := q.(type) {
		case *quant.Matrix:
			in(what+" codes", unsafe.Pointer(&q.Q[0]), len(q.Q))
			in(what+" scales", unsafe.Pointer(&q.Scales[0]), 4*len(q.Scales))
		case *quant.BlockMatrix:
			in(what+" blocks", unsafe.Pointer(&q.Data[0]), len(q.Data))
		case *quant.PanelMatrix:
			in(what+" panels", unsafe.Pointer(&q.P.Data[0]), len(q.P.Data))
		default:
			t.Errorf("%s: matrix type %T is not placed", what, q)
		}
	}
	var linearPlaced func(what string, l linear)
	linearPlaced = func(what string, l linear) {
		switch l := l.(type) {
		case *f32Linear:
			in(what, unsafe.Pointer(&l.p.Data[0]), 4*len(l.p.Data))
		case *quantLinear:
			matrix(what, l.m)
		case *stackedLinear:
			for p, part := range l.parts {
				linearPlaced(fmt.Sprintf("%s part %d", what, p), part)
			}
		default:
			t.Errorf("%s: linear type %T is not placed", what, l)
		}
	}
	for i, L := range m.layers {
		for name, l := range map[string]linear{"qkv": L.qkv, "out": L.out, "up": L.up, "down": L.down} {
			linearPlaced(fmt.Sprintf("layer %d %s", i, name), l)
		}
	}
	for name, tab := range map[string]tokenTable{"token table": m.tokens, "head": m.head} {
		switch tab := tab.(type) {
		case *f32Table:
			in(name, unsafe.Pointer(&tab.p.Data[0]), 4*len(tab.p.Data))
		case *quantTable:
			matrix(name, tab.m)
		default:
			t.Errorf("%s: table type %T is not placed", name, tab)
		}
	}
}

// skipWithoutHugePages: without huge pages placeWeights does nothing, and
// a placed model compared with a plain one would be compared with itself.
func skipWithoutHugePages(t *testing.T) {
	if !hugePages {
		t.Skipf("skipping: no huge pages on %s, so weights are never placed", goruntime.GOOS)
	}
}

// TestPlacedWeightsChangeNothing: a model whose matrices were moved into the
// huge-page arena gives bit for bit the logits of the same model left where
// the loader put them, for fp32 weights and embeddings on a tied model and
// int8 ones on an untied model, and every streamed matrix really lives in the arena, 64-byte
// aligned (assertPlaced).
func TestPlacedWeightsChangeNothing(t *testing.T) {
	skipWithoutHugePages(t)
	ids := randomIDs(3, 20, 300)
	for _, c := range []struct {
		variant string
		opts    Options
	}{
		{"gpt2", Options{Embeddings: F32Embeddings, Weights: F32Weights}},
		{"untied", Options{Embeddings: Int8Embeddings, Weights: Int8Weights}},
	} {
		cfg := threadsConfig(variants[c.variant]) // sizes int8 blocks can tile
		t.Run(fmt.Sprintf("%s/%s-%s", c.variant, c.opts.Weights, c.opts.Embeddings), func(t *testing.T) {
			build := func(place bool) *Model {
				saved := placeHugePages
				placeHugePages = place
				defer func() { placeHugePages = saved }()
				m, err := newModel(cfg, randomWeights(cfg, 5), c.opts)
				require.NoError(t, err)
				return m
			}
			plain, placed := build(false), build(true)
			require.Nil(t, plain.arena)
			assertPlaced(t, placed)
			assert.Equal(t, allRowLogits(t, plain, ids), allRowLogits(t, placed, ids))
		})
	}
}

// TestWeightArenaCarves: slices carved from an arena are aligned, hold the
// values copied in, never overlap, and fit in arenaBytes of their sizes.
func TestWeightArenaCarves(t *testing.T) {
	f := []float32{1.5, -2, 3.25}
	m := &quant.Matrix{Rows: 1, Cols: 32, Q: make([]int8, 32), Scales: []float32{0.5}}
	for i := range m.Q {
		m.Q[i] = int8(i - 16)
	}
	size := arenaBytes([]int{4 * len(f), len(m.Q), 4 * len(m.Scales), 4 * len(f)})
	a := &weightArena{buf: make([]byte, size)}
	f1 := a.floats(f)
	q := a.matrix(m, false).(*quant.Matrix) // a table's: never packed
	f2 := a.floats(f)
	assert.Equal(t, f, f1)
	assert.Equal(t, f, f2)
	assert.Equal(t, m, q)
	assert.NotSame(t, &m.Q[0], &q.Q[0])
	for _, p := range []unsafe.Pointer{unsafe.Pointer(&f1[0]), unsafe.Pointer(&q.Q[0]), unsafe.Pointer(&q.Scales[0]), unsafe.Pointer(&f2[0])} {
		assert.Zero(t, uintptr(p)%arenaAlign)
	}
	assert.LessOrEqual(t, a.off, len(a.buf))
}

// TestHugePageMemory: blocks of a huge page or more start on a huge page
// boundary where the platform has huge pages, and every block is zeroed
// and as long as asked; a session's KV cache is one such block.
func TestHugePageMemory(t *testing.T) {
	for _, n := range []int{0, 1, 100, hugePageSize - 1, hugePageSize, 3*hugePageSize + 5} {
		b := hugePageBytes(n)
		require.Len(t, b, n)
		assert.Equal(t, n, cap(b), "a block must not reach past its n bytes")
		if hugePages && n >= hugePageSize {
			assert.Zero(t, uintptr(unsafe.Pointer(&b[0]))%hugePageSize, "n = %d", n)
		}
		for _, v := range b {
			if v != 0 {
				t.Fatalf("n = %d: not zeroed", n)
			}
		}
	}
	c := newKVCache(3, 1024, 4, 256)
	for l := range 3 {
		require.Len(t, c.k[l], 1024*256)
		require.Len(t, c.v[l], 1024*256)
		assert.Equal(t, len(c.k[l]), cap(c.k[l]))
		assert.Equal(t, len(c.v[l]), cap(c.v[l]))
	}
	if hugePages {
		assert.Zero(t, uintptr(unsafe.Pointer(&c.k[0][0]))%hugePageSize)
	}
}

// TestModelKeepsOneCopyOfItsMatrices: once a model is built and its
// loader's weights are dropped, the heap holds its matrices once, whether
// they were copied to huge pages or not (the copy must not pin the
// originals through the model's model.Weights).
func TestModelKeepsOneCopyOfItsMatrices(t *testing.T) {
	cfg := threadsConfig(variants["gpt2"])
	cfg.NLayer = 4
	d, ff := cfg.NEmbd, cfg.NInner
	matrixBytes := 4 * (cfg.NLayer*(3*d*d+d*d+2*d*ff) + cfg.VocabSize*d)
	for _, place := range []bool{false, true} {
		saved := placeHugePages
		placeHugePages = place
		var before, after goruntime.MemStats
		// Twice: the first collection only moves sync.Pool contents (the
		// kernels' scratch) to the victim cache, which the second frees;
		// otherwise earlier tests' pools would be freed inside the window.
		goruntime.GC()
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		m, err := newModel(cfg, randomWeights(cfg, 9), Options{Embeddings: F32Embeddings})
		placeHugePages = saved
		require.NoError(t, err)
		goruntime.GC()
		goruntime.ReadMemStats(&after)
		grown := int(after.HeapAlloc) - int(before.HeapAlloc)
		// One copy, plus at most a huge page of alignment slack and the
		// small tensors; two copies would be twice matrixBytes.
		assert.Less(t, grown, matrixBytes*3/2+hugePageSize, "placed %v: the heap grew %d bytes for %d bytes of matrices", place, grown, matrixBytes)
		assert.Greater(t, grown, matrixBytes*9/10, "placed %v", place)
		goruntime.KeepAlive(m)
	}
}

// TestPanelLinears: on a tier that prefers them (AVX-512 VNNI), a model's
// int8 layers run packed into panels (quant.PanelMatrix), in the huge-page
// arena or in the heap, while its int8 token table stays a quant.Matrix;
// the logits stay within float32 reordering of the plain layout's (the
// panels sum each output as one chain over its blocks, the plain kernel in
// lanes).
func TestPanelLinears(t *testing.T) {
	if !kernels.PrefersQ8Panels() {
		t.Skipf("skipping: the %s tier multiplies int8 layers as quant.Matrix lays them out", kernels.ISA())
	}
	cfg := threadsConfig(variants["untied"])
	w := randomWeights(cfg, 5)
	opts := Options{Embeddings: Int8Embeddings, Weights: Int8Weights}
	build := func(panels, place bool) *Model {
		savedP, savedH := panelLinears, placeHugePages
		panelLinears, placeHugePages = panels, place
		defer func() { panelLinears, placeHugePages = savedP, savedH }()
		m, err := newModel(cfg, w, opts)
		require.NoError(t, err)
		return m
	}
	ids := randomIDs(3, 20, 300)
	want := allRowLogits(t, build(false, false), ids)
	for _, place := range []bool{false, true} {
		m := build(true, place)
		for i, L := range m.layers {
			for _, l := range []linear{L.qkv, L.out, L.up, L.down} {
				require.IsType(t, &quant.PanelMatrix{}, l.(*quantLinear).m, "layer %d, huge pages %v", i, place)
			}
		}
		require.IsType(t, &quant.Matrix{}, m.tokens.(*quantTable).m)
		got := allRowLogits(t, m, ids)
		require.Len(t, got, len(want))
		for r := range want {
			var scale, diff float64
			for j, v := range want[r] {
				scale = max(scale, math.Abs(float64(v)))
				diff = max(diff, math.Abs(float64(got[r][j])-float64(v)))
			}
			assert.LessOrEqual(t, diff, 1e-4*scale, "row %d, huge pages %v", r, place)
		}
	}
}
