package runtime

import (
	"compress/gzip"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/model/demo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInt8WeightsMatchF32: with every linear layer (and an untied output)
// quantized, each architecture's logits stay within the rounding of int8
// weights and activations of the float64 reference.
func TestInt8WeightsMatchF32(t *testing.T) {
	for name, cfg := range testVariants() {
		t.Run(name, func(t *testing.T) {
			cfg.NInner = 128 // int8 rows are whole blocks of 32
			w := randomWeights(cfg, 3)
			m, err := newModel(cfg, w, Options{Weights: Int8Weights, Embeddings: F32Embeddings})
			require.NoError(t, err)
			for _, l := range m.layers {
				for _, lin := range []linear{l.qkv, l.out, l.up, l.down} {
					assert.Equal(t, kernels.Q8_0, linearType(lin))
				}
			}
			if !cfg.Arch.TiedEmbeddings {
				assert.Equal(t, kernels.Q8_0, tableType(m.head))
			}
			ids := randomIDs(4, 20, cfg.VocabSize)
			want := refLogits(cfg, w, ids)
			got := allRowLogits(t, m, ids)
			// int8 weights and activations cost < 3% on GPT-2's random
			// models and up to 5.1% on the Llama ones (llama3-interleaved),
			// whose SwiGLU multiplies two quantized products (measured over
			// every variant and row); the budgets leave a margin over those.
			// The fixtures' perplexity tests are the real fidelity check.
			budget := 0.03
			if cfg.Arch.MLP == model.SwiGLUMLP {
				budget = 0.07
			}
			for i := range ids {
				e := testkit.RelL2(got[i], want[i])
				assert.Less(t, e, budget, "row %d", i)
				assert.Greater(t, e, logitsTol, "row %d: int8 weights should differ from fp32", i)
			}
		})
	}
}

// TestInt8WeightsNeedWholeBlocks: a matrix whose rows are not whole blocks
// of 32 cannot be int8; the error names it.
func TestInt8WeightsNeedWholeBlocks(t *testing.T) {
	cfg := variants["gpt2"] // d_ff 136
	_, err := newModel(cfg, randomWeights(cfg, 3), Options{Weights: Int8Weights})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "layer 0 down")
	assert.Contains(t, err.Error(), "136")

	_, err = ParseWeights("q4")
	assert.ErrorContains(t, err, `"q4"`)
}

// englishUDHR is the English text of the tokenizer's test data: 2,000+
// GPT-2 tokens of real prose.
func englishUDHR(t *testing.T) string {
	f, err := os.Open(filepath.Join("..", "model", "tokenizer", "testdata", "udhr.txt.gz"))
	require.NoError(t, err)
	defer f.Close()
	z, err := gzip.NewReader(f)
	require.NoError(t, err)
	all, err := io.ReadAll(z)
	require.NoError(t, err)
	eng, _, _ := strings.Cut(string(all), "\n\n")
	return eng
}

// windowedPerplexity scores ids in consecutive windows of the session's
// capacity, each from an empty cache, and returns the perplexity over all
// predicted tokens.
func windowedPerplexity(t *testing.T, m *Model, ids []int) float64 {
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	n := s.cache.capacity
	var ll float64
	var count int
	for start := 0; start+1 < len(ids); start += n {
		sc, err := s.Score(context.Background(), ids[start:min(start+n, len(ids))])
		require.NoError(t, err)
		ll += sc.LogLikelihood
		count += sc.Tokens - 1
	}
	return math.Exp(-ll / float64(count))
}

// TestInt8WeightsPerplexity: the demo model with int8 weights and int8
// embeddings scores 2,000+ tokens of English within 1% of its perplexity
// with everything in fp32.
func TestInt8WeightsPerplexity(t *testing.T) {
	skipUnderRace(t)
	f32, err := LoadFS(demo.FS, Options{Weights: F32Weights, Embeddings: F32Embeddings})
	require.NoError(t, err)
	int8, err := LoadFS(demo.FS, Options{Weights: Int8Weights, Embeddings: Int8Embeddings})
	require.NoError(t, err)
	ids := f32.Tokenizer().Encode(englishUDHR(t))
	require.GreaterOrEqual(t, len(ids), 2000)
	pf, pq := windowedPerplexity(t, f32, ids), windowedPerplexity(t, int8, ids)
	delta := (pq - pf) / pf
	t.Logf("%d tokens: perplexity f32 %.4f, int8 %.4f, delta %+.3f%%", len(ids), pf, pq, 100*delta)
	assert.Less(t, math.Abs(delta), 0.01)
}

// TestFusedLinearsMatchTheirParts: the fused q/k/v (and gate/up) linear
// computes each output element exactly as the part's own matrix would in
// the same kernel, for fp32 and int8 weights, a decode row and prefills of
// several sizes.
func TestFusedLinearsMatchTheirParts(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		for _, wt := range []Weights{F32Weights, Int8Weights} {
			cfg := variants["qwen2-bias"]
			cfg.NInner = 128
			w := randomWeights(cfg, 4)
			L := &w.Layers[0]
			parts := []*model.Matrix{L.Q, L.K, L.V}
			biases := [][]float32{L.QBias, L.KBias, L.VBias}
			fused, err := fuseRows(parts...)
			require.NoError(t, err)
			fl, err := newLinear("fused", fused, Options{Weights: wt})
			require.NoError(t, err)
			bias := fuseBiases([]int{L.Q.Rows, L.K.Rows, L.V.Rows}, biases...)
			for _, rows := range []int{1, 3, 17, 64} {
				x := randomFloats(uint64(rows), rows*cfg.NEmbd)
				sc := newScratch(rows, cfg.NEmbd, 0)
				got := make([]float32, rows*fused.Rows)
				fl.apply(got, x, bias, rows, &sc)
				col := 0
				for i, p := range parts {
					pl, err := newLinear("part", p, Options{Weights: wt})
					require.NoError(t, err)
					want := make([]float32, rows*p.Rows)
					pl.apply(want, x, biases[i], rows, &sc)
					for r := range rows {
						require.Equal(t, want[r*p.Rows:(r+1)*p.Rows], got[r*fused.Rows+col:r*fused.Rows+col+p.Rows], "%s rows %d part %d row %d", wt, rows, i, r)
					}
					col += p.Rows
				}
			}
		}
	})
}
