package runtime

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/quant"
)

// blockScaleDiv is, per blocked type, roughly the largest |value| of a
// block whose fp16 scales are all 1: random codes under scales of
// amplitude/div give weights of about that amplitude.
var blockScaleDiv = map[kernels.WeightType]float64{
	kernels.Q8_0: 128, kernels.Q4_0: 8, kernels.Q4_1: 16, kernels.Q5_0: 16, kernels.Q5_1: 32,
	kernels.Q2_K: 45, kernels.Q3_K: 128, kernels.Q4_K: 945, kernels.Q5_K: 1953, kernels.Q6_K: 4064,
	kernels.IQ4_NL: 127, kernels.IQ4_XS: 4064,
}

// randomBlockMatrix is a rows×cols matrix of type typ with random codes
// and sub-block scales and every fp16 scale set for values of about ±amp:
// goformer has no quantizer for these types, and any codes are a valid
// matrix that the float64 reference reads through ggml's dequantization.
func randomBlockMatrix(typ kernels.WeightType, rows, cols int, amp float64, seed uint64) *model.Matrix {
	rng := rand.New(rand.NewPCG(seed, uint64(typ)))
	data := make([]byte, rows*typ.RowBytes(cols))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	scale := f32ToF16(float32(amp / blockScaleDiv[typ]))
	bb := typ.BlockBytes()
	for b := 0; b < len(data); b += bb {
		for _, off := range quant.FormatOf(typ).Scales {
			// ±: a sign on d flips a block; on a min it shifts it.
			binary.LittleEndian.PutUint16(data[b+off:], scale|uint16(rng.IntN(2))<<15)
		}
	}
	if typ == kernels.Q8_0 {
		m, err := quant.FromQ8_0(data, rows, cols)
		if err != nil {
			panic(err)
		}
		return model.Int8Matrix(m)
	}
	m, err := quant.FromBlocks(typ, data, rows, cols)
	if err != nil {
		panic(err)
	}
	return model.BlockMatrix(m)
}

// f32ToF16 converts a positive float32 below 65504 to fp16, by truncation
// (any nearby scale serves), subnormals included.
func f32ToF16(f float32) uint16 {
	if f < 0x1p-14 {
		return uint16(f / 0x1p-24)
	}
	b := math.Float32bits(f)
	return uint16((b>>23&0xff-127+15)<<10 | b>>13&0x3ff)
}

// blockMix assigns a blocked type to each matrix of a model, as a GGUF
// file's mix does.
type blockMix struct {
	embedding, output, q, k, v, o, gate, up, down kernels.WeightType
}

// withBlocks replaces w's matrices by random ones of the mix's types, with
// the amplitudes randomWeights gives them.
func withBlocks(cfg model.Config, w *model.Weights, mix blockMix, seed uint64) {
	d, ff, v := cfg.NEmbd, cfg.NInner, cfg.VocabSize
	qd, kvd := cfg.QueryDim(), cfg.KVDim()
	w.TokenEmbedding = randomBlockMatrix(mix.embedding, v, d, 0.5, seed)
	if !cfg.Arch.TiedEmbeddings {
		w.Output = randomBlockMatrix(mix.output, v, d, 0.5, seed+1)
	}
	for i := range w.Layers {
		L, s := &w.Layers[i], seed+10*uint64(i+1)
		L.Q, L.K, L.V = randomBlockMatrix(mix.q, qd, d, 0.25, s), randomBlockMatrix(mix.k, kvd, d, 0.25, s+1), randomBlockMatrix(mix.v, kvd, d, 0.25, s+2)
		L.O = randomBlockMatrix(mix.o, d, qd, 0.15, s+3)
		if L.Gate != nil {
			L.Gate = randomBlockMatrix(mix.gate, ff, d, 0.3, s+4)
		}
		L.Up, L.Down = randomBlockMatrix(mix.up, ff, d, 0.15, s+5), randomBlockMatrix(mix.down, d, ff, 0.1, s+6)
	}
}

// blockMixes are one mix per blocked type and two mixed ones: Q4_K_M's
// (Q6_K for v, down and the output) and the legacy types side by side,
// which stack the query/key/value and gate/up linears.
func blockMixes() map[string]blockMix {
	mixes := map[string]blockMix{
		"Q4_K_M": {kernels.Q4_K, kernels.Q6_K, kernels.Q4_K, kernels.Q4_K, kernels.Q6_K, kernels.Q4_K, kernels.Q4_K, kernels.Q4_K, kernels.Q6_K},
		"legacy": {kernels.Q5_1, kernels.Q4_1, kernels.Q4_0, kernels.Q5_0, kernels.IQ4_NL, kernels.Q8_0, kernels.Q4_0, kernels.Q5_1, kernels.Q5_0},
	}
	for typ := range blockScaleDiv {
		if typ == kernels.Q8_0 {
			continue
		}
		mixes[typ.String()] = blockMix{typ, typ, typ, typ, typ, typ, typ, typ, typ}
	}
	return mixes
}

// blockConfig is a Llama whose widths are whole K-quant super-blocks.
func blockConfig(tied bool) model.Config {
	return llamaConfig(8, 2, 32, func(c *model.Config) {
		c.NEmbd, c.NInner, c.Arch.TiedEmbeddings = 256, 512, tied
	})
}

// TestBlockWeightsMatchReference: a model whose matrices are GGUF blocks
// of every type, and of Q4_K_M's and a legacy mix, runs the one forward
// pass; its logits stay within the activations' rounding to 8 bits of the
// float64 reference over the same dequantized weights, and a prefill
// equals the token-by-token decode bit for bit.
func TestBlockWeightsMatchReference(t *testing.T) {
	skipUnderRace(t)
	for name, mix := range blockMixes() {
		t.Run(name, func(t *testing.T) {
			cfg := blockConfig(name != "Q4_K_M")
			w := randomWeights(cfg, 3)
			withBlocks(cfg, w, mix, 7)
			m := newModelFrom(t, cfg, w, Options{})
			require.Equal(t, mix.embedding, tableType(m.tokens))
			stacked := mix.q != mix.v || mix.gate != mix.up
			if stacked {
				assert.IsType(t, &stackedLinear{}, m.layers[0].qkv)
			} else {
				assert.Equal(t, mix.q, linearType(m.layers[0].qkv))
			}
			ids := randomIDs(4, 12, cfg.VocabSize)
			want := refLogits(cfg, w, ids)
			got := allRowLogits(t, m, ids)
			// Measured: ≤ 4.4% relative error (Q4_0), 1.2-4.3% over the
			// mixes: the rounding of every activation to int8 blocks, as
			// TestInt8WeightsMatchF32 budgets it for SwiGLU (7%).
			var worst float64
			for i := range ids {
				e := testkit.RelL2(got[i], want[i])
				worst = max(worst, e)
				assert.Less(t, e, 0.07, "row %d", i)
				assert.Greater(t, e, logitsTol, "row %d: 8-bit activations should show", i)
			}
			// Two-pass activations: the rounding of the weights alone
			// remains, which the reference shares.
			two := newModelFrom(t, cfg, w, Options{Activations: TwoPassActivations})
			var worstTwo float64
			for i, row := range allRowLogits(t, two, ids) {
				worstTwo = max(worstTwo, testkit.RelL2(row, want[i]))
			}
			t.Logf("%s: relative error of the logits against float64 ≤ %.3g, with two-pass activations ≤ %.3g", name, worst, worstTwo)
			assert.Less(t, worstTwo, worst/30, "two-pass activations")
			for _, m := range []*Model{m, two} {
				prefill := sessionLogits(t, m, ids, nil)
				decode := sessionLogits(t, m, ids[:1], ids[1:])
				for r := range prefill {
					require.Equal(t, prefill[r], decode[r], "%s activations, row %d: prefill and decode differ", m.activations, r)
				}
			}
		})
	}
}

// TestBlockDecodeAllocatesNothing: a decode step through blocked linears,
// stacked ones and a blocked head allocates nothing, with either
// activation form.
func TestBlockDecodeAllocatesNothing(t *testing.T) {
	for _, name := range []string{"Q4_K_M", "legacy"} {
		for _, act := range []Activations{Int8Activations, TwoPassActivations} {
			cfg := blockConfig(name == "legacy")
			w := randomWeights(cfg, 1)
			withBlocks(cfg, w, blockMixes()[name], 2)
			m, err := newModel(cfg, w, Options{Activations: act})
			require.NoError(t, err)
			session, batch := decodeAllocs(t, m, 3)
			assert.Zero(t, session, "%s, %s activations: session", name, act)
			if !raceEnabled {
				assert.Zero(t, batch, "%s, %s activations: batch", name, act)
			}
		}
	}
}

// TestBlockWeightsPlaced: GGUF blocks copied to the huge-page arena, the
// parts of a stacked linear included, give the same logits bit for bit.
func TestBlockWeightsPlaced(t *testing.T) {
	skipWithoutHugePages(t)
	cfg := blockConfig(false)
	w := randomWeights(cfg, 6)
	withBlocks(cfg, w, blockMixes()["Q4_K_M"], 8)
	build := func(place bool) *Model {
		saved := placeHugePages
		placeHugePages = place
		defer func() { placeHugePages = saved }()
		m, err := newModel(cfg, w, Options{})
		require.NoError(t, err)
		return m
	}
	plain, placed := build(false), build(true)
	require.IsType(t, &stackedLinear{}, placed.layers[len(placed.layers)-1].qkv)
	assertPlaced(t, placed)
	ids := randomIDs(2, 9, cfg.VocabSize)
	assert.Equal(t, allRowLogits(t, plain, ids), allRowLogits(t, placed, ids))
}

// TestInterleavedLinears: on a tier that prefers it, a model's Q4_0 and
// Q5_0 layers run interleaved (kernels.InterleaveRows), in the huge-page
// arena or in the heap, the footprint still naming the file's types, and
// the logits equal those of the file's layout bit for bit.
func TestInterleavedLinears(t *testing.T) {
	if !kernels.PrefersInterleaved(kernels.Q4_0) {
		t.Skipf("skipping: the %s tier multiplies Q4_0 as the file lays it out", kernels.ISA())
	}
	cfg := blockConfig(false)
	w := randomWeights(cfg, 6)
	withBlocks(cfg, w, blockMixes()["legacy"], 8)
	build := func(interleave, place bool) *Model {
		savedI, savedP := interleaveLinears, placeHugePages
		interleaveLinears, placeHugePages = interleave, place
		defer func() { interleaveLinears, placeHugePages = savedI, savedP }()
		m, err := newModel(cfg, w, Options{})
		require.NoError(t, err)
		return m
	}
	plain := build(false, false)
	ids := randomIDs(2, 9, cfg.VocabSize)
	want := allRowLogits(t, plain, ids)
	for _, place := range []bool{false, true} {
		m := build(true, place)
		var types []kernels.WeightType
		for _, L := range m.layers {
			for _, l := range []linear{L.qkv, L.out, L.up, L.down} {
				if st, ok := l.(*stackedLinear); ok {
					for _, p := range st.parts {
						types = append(types, p.(*quantLinear).m.WeightType())
					}
				} else if q, ok := l.(*quantLinear); ok {
					types = append(types, q.m.WeightType())
				}
			}
		}
		assert.Contains(t, types, kernels.Q4_0x8, "huge pages %v", place)
		assert.Contains(t, types, kernels.Q5_0x8, "huge pages %v", place)
		assert.NotContains(t, types, kernels.Q4_0, "huge pages %v", place)
		assert.Equal(t, plain.Footprint(), m.Footprint(), "huge pages %v", place)
		assert.Equal(t, want, allRowLogits(t, m, ids), "huge pages %v", place)
	}
}
