package runtime

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forEachISA runs f once per kernel tier this CPU runs; under the race
// detector, on the current tier only: what it checks is the goroutines of
// sessions, batches and the worker pool, which are the same on every tier
// (the kernels' own race run covers the tiers' parallel kernels).
func forEachISA(t *testing.T, f func(t *testing.T)) {
	saved := kernels.ISA()
	defer func() { require.NoError(t, kernels.SetISA(saved)) }()
	isas := kernels.ISAs()
	if raceEnabled {
		isas = []string{saved}
	}
	for _, isa := range isas {
		require.NoError(t, kernels.SetISA(isa))
		t.Run(isa, f)
	}
}

// logitsTol is the relative L2 error allowed between goformer's fp32
// logits and the float64 reference: float32 rounding through a few layers
// of sums over ≤ 136 terms stays near 1e-6.
const logitsTol = 1e-5

// variants are the small random models every forward-pass property is
// proven on: GPT-2's architecture choices one at a time, and the Llama
// family's (RMSNorm, SwiGLU, grouped-query attention at ratios 1, 2, 4 and
// one kv head, a head size that is not d/n_head, Qwen2's q/k/v biases and
// every bias, linear and llama3 RoPE scaling, partial rotation, tied and
// untied heads, a sliding window).
var variants = map[string]model.Config{
	"gpt2":          smallConfig(model.GPT2Arch),
	"post-norm":     smallConfig(model.Arch{Norm: model.PostNorm, FinalNorm: true, TiedEmbeddings: true}),
	"untied":        smallConfig(model.Arch{Norm: model.PreNorm, FinalNorm: true, TiedEmbeddings: false}),
	"no-final-norm": smallConfig(model.Arch{Norm: model.PreNorm, FinalNorm: false, TiedEmbeddings: true}),
	"sinusoidal":    smallConfig(model.Arch{Norm: model.PreNorm, FinalNorm: true, Positions: model.SinusoidalPositions, TiedEmbeddings: true}),
	"rope-neox":     smallConfig(model.Arch{Norm: model.PreNorm, FinalNorm: true, Positions: model.RoPE, RoPEStyle: model.RotateHalf, TiedEmbeddings: true}),
	"rope-gptj":     smallConfig(model.Arch{Norm: model.PreNorm, FinalNorm: true, Positions: model.RoPE, RoPEStyle: model.Interleaved, TiedEmbeddings: true}),

	"llama-mha":  llamaConfig(4, 4, 0, nil),
	"llama-gqa2": llamaConfig(4, 2, 0, nil),
	"llama-gqa4-head-dim": llamaConfig(8, 2, 12, func(c *model.Config) {
		c.Arch.TiedEmbeddings = true
	}),
	"llama-mqa":    llamaConfig(4, 1, 0, nil),
	"qwen2-bias":   llamaConfig(4, 2, 0, func(c *model.Config) { c.ModelType, c.Arch.TiedEmbeddings = "qwen2", true }),
	"llama-biases": llamaConfig(4, 2, 0, func(c *model.Config) { c.AttentionBias, c.MLPBias = true, true }),
	"llama-linear-rope": llamaConfig(4, 2, 0, func(c *model.Config) {
		c.RoPEScaling = model.RoPEScaling{Type: "linear", Factor: 4}
	}),
	"llama3-rope": llamaConfig(4, 2, 0, func(c *model.Config) {
		c.RoPEScaling = model.RoPEScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 16}
	}),
	"llama-partial-rope": llamaConfig(4, 2, 0, func(c *model.Config) { c.RotaryDim = 8 }),
	// llama.cpp's convention, adjacent pairs, with llama3 scaling: what a
	// llama GGUF's permuted rows would need if they were not put back.
	"llama3-interleaved": llamaConfig(4, 2, 0, func(c *model.Config) {
		c.Arch.RoPEStyle = model.Interleaved
		c.RoPEScaling = model.RoPEScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 16}
	}),
	"mistral-window": llamaConfig(4, 2, 0, func(c *model.Config) {
		c.ModelType, c.SlidingWindow = "mistral", 11
	}),
}

// shortVariants are the variants the -short runs (the emulated tiers and
// purego) prove every property on: one of each kind of choice.
var shortVariants = []string{"gpt2", "post-norm", "rope-gptj", "llama-gqa2", "llama-gqa4-head-dim", "qwen2-bias", "llama3-rope", "mistral-window"}

// raceVariants are the variants the race detector runs: GPT-2's block and
// Llama's with grouped-query attention split by kv-head group and biases,
// the shapes whose goroutines differ.
var raceVariants = []string{"gpt2", "llama-gqa4-head-dim", "qwen2-bias"}

// testVariants is every variant, shortVariants in -short mode, or
// raceVariants under the race detector.
func testVariants() map[string]model.Config {
	names := shortVariants
	switch {
	case raceEnabled:
		names = raceVariants
	case !testing.Short():
		return variants
	}
	return variantsNamed(names)
}

// variantsNamed is the variants of those names.
func variantsNamed(names []string) map[string]model.Config {
	some := make(map[string]model.Config, len(names))
	for _, name := range names {
		some[name] = variants[name]
	}
	return some
}

func randomIDs(seed uint64, n, vocab int) []int {
	rng := rand.New(rand.NewPCG(seed, 2))
	ids := make([]int, n)
	for i := range ids {
		ids[i] = rng.IntN(vocab)
	}
	return ids
}

func newTestModel(t *testing.T, cfg model.Config, seed uint64) *Model {
	return newModelFrom(t, cfg, randomWeights(cfg, seed), Options{Embeddings: F32Embeddings})
}

// TestForwardMatchesReference: prefill in one pass, in chunks, and then
// decode step by step through the KV cache; every set of logits must equal
// the float64 reference recomputed from scratch over the whole sequence.
func TestForwardMatchesReference(t *testing.T) {
	skipUnderRace(t)
	forEachISA(t, func(t *testing.T) {
		for name, cfg := range testVariants() {
			t.Run(name, func(t *testing.T) {
				m := newTestModel(t, cfg, 7)
				ids := randomIDs(3, 30, m.cfg.VocabSize)
				want := refLogits(m.cfg, weightsOf(t, m), ids)
				for _, batch := range []int{256, 5} {
					s, err := m.NewSession(SessionOptions{Batch: batch})
					require.NoError(t, err)
					const prompt = 13
					logits, err := s.Prefill(ids[:prompt])
					require.NoError(t, err)
					assert.Less(t, testkit.RelL2(logits, want[prompt-1]), logitsTol, "batch %d: prefill", batch)
					for p := prompt; p < len(ids); p++ {
						logits, err = s.Decode(ids[p])
						require.NoError(t, err)
						if e := testkit.RelL2(logits, want[p]); e > logitsTol {
							t.Fatalf("batch %d: decode at position %d: relative error %.3g", batch, p, e)
						}
					}
				}
			})
		}
	})
}

// TestVariantsChangeTheComputation: each architecture flag must really
// change the reference's output, or the test above proves nothing about it.
func TestVariantsChangeTheComputation(t *testing.T) {
	skipUnderRace(t)
	ids := randomIDs(4, 9, 211)
	// Each Llama variant is compared with plain llama-gqa2, each GPT-2 one
	// with gpt2, on the same random draws where the shapes allow.
	bases := map[model.MLPKind][]float64{}
	ids = randomIDs(4, 30, 211) // long enough for the window to slide
	for _, name := range []string{"gpt2", "llama-gqa2"} {
		cfg := variants[name]
		bases[cfg.Arch.MLP] = refLogits(cfg, randomWeights(cfg, 7), ids)[29]
	}
	for name, cfg := range variants {
		if name == "gpt2" || name == "llama-gqa2" {
			continue
		}
		want := bases[cfg.Arch.MLP]
		got := refLogits(cfg, randomWeights(cfg, 7), ids)[29]
		var diff float64
		for i := range got {
			diff = math.Max(diff, math.Abs(got[i]-want[i]))
		}
		assert.Greater(t, diff, 0.1, "%s changes nothing", name)
	}
}

func TestScoreMatchesReference(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		m := newTestModel(t, variants["gpt2"], 9)
		ids := randomIDs(5, 40, m.cfg.VocabSize)
		ref := refLogits(m.cfg, weightsOf(t, m), ids)
		var ll float64
		for p := 0; p+1 < len(ids); p++ {
			ll += refLogprob(ref[p], ids[p+1])
		}
		s, err := m.NewSession(SessionOptions{Batch: 16})
		require.NoError(t, err)
		sc, err := s.Score(context.Background(), ids)
		require.NoError(t, err)
		assert.Equal(t, 40, sc.Tokens)
		assert.InDelta(t, ll, sc.LogLikelihood, 1e-4*math.Abs(ll))
		assert.InDelta(t, math.Exp(-ll/39), sc.Perplexity, 1e-4*sc.Perplexity)
	})
}

func TestContextFull(t *testing.T) {
	m := newTestModel(t, variants["gpt2"], 1)
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	_, err = s.Prefill(randomIDs(1, 49, 211))
	require.ErrorIs(t, err, ErrContextFull)
	assert.ErrorContains(t, err, "48 positions")
	assert.Equal(t, 0, s.Pos(), "a refused prompt leaves the session untouched")

	_, err = s.Prefill(randomIDs(1, 48, 211))
	require.NoError(t, err)
	_, err = s.Decode(3)
	assert.ErrorIs(t, err, ErrContextFull)

	_, err = m.NewSession(SessionOptions{Capacity: 49})
	assert.ErrorContains(t, err, "session capacity 49")

	// Generation that runs into the limit ends with ErrContextFull.
	var n int
	var last error
	for _, err := range s.Generate(context.Background(), randomIDs(2, 40, 211), GenerateOptions{MaxTokens: 20, IgnoreEOS: true}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	assert.Equal(t, 9, n, "40 prompt tokens + 8 decoded fill 48 positions; the 9th token is sampled from the last logits")
	assert.ErrorIs(t, last, ErrContextFull)
}

func TestBadToken(t *testing.T) {
	m := newTestModel(t, variants["gpt2"], 1)
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	_, err = s.Prefill([]int{1, 211})
	assert.ErrorIs(t, err, ErrBadToken)
	_, err = s.Decode(-1)
	assert.ErrorIs(t, err, ErrBadToken)
	_, err = s.Prefill(nil)
	assert.Error(t, err)
}

// TestConcurrentSessions: sessions on one model, run at once, give what
// each gives alone. Run with -race.
func TestConcurrentSessions(t *testing.T) {
	m := newTestModel(t, variants["gpt2"], 11)
	run := func(seed uint64) []Token {
		s, err := m.NewSession(SessionOptions{})
		require.NoError(t, err)
		var toks []Token
		opts := GenerateOptions{MaxTokens: 12, IgnoreEOS: true, SampleOptions: SampleOptions{Temperature: 0.9, TopK: 20, Seed: seed}}
		for tok, err := range s.Generate(context.Background(), randomIDs(seed, 7, 211), opts) {
			require.NoError(t, err)
			toks = append(toks, tok)
		}
		return toks
	}
	alone := make([][]Token, 6)
	for i := range alone {
		alone[i] = run(uint64(i))
	}
	together := make([][]Token, 6)
	var wg sync.WaitGroup
	for i := range together {
		wg.Go(func() { together[i] = run(uint64(i)) })
	}
	wg.Wait()
	assert.Equal(t, alone, together)
}

func TestDecodeAllocatesNothing(t *testing.T) {
	for _, name := range []string{"llama-gqa2", "qwen2-bias", "mistral-window"} {
		for _, wt := range []Weights{F32Weights, Int8Weights} {
			cfg := variants[name]
			cfg.NInner = 128 // int8 rows are whole blocks of 32
			m, err := newModel(cfg, randomWeights(cfg, 1), Options{Weights: wt})
			require.NoError(t, err)
			s, err := m.NewSession(SessionOptions{})
			require.NoError(t, err)
			_, err = s.Prefill(randomIDs(1, 20, cfg.VocabSize))
			require.NoError(t, err)
			allocs := testing.AllocsPerRun(20, func() {
				if _, err := s.Decode(5); err != nil {
					panic(err)
				}
			})
			assert.Zero(t, allocs, "%s %s", name, wt)
		}
	}
	m := newTestModel(t, variants["gpt2"], 1)
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	_, err = s.Prefill([]int{1, 2, 3})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := s.Decode(5); err != nil {
			panic(err)
		}
		s.pos-- // stay in range: the same position again
	})
	assert.Zero(t, allocs)
	opts := GenerateOptions{TopLogprobs: 5, SampleOptions: SampleOptions{Temperature: 0.8, TopP: 0.9}}
	logits := s.logits
	allocs = testing.AllocsPerRun(20, func() { s.sampler.token(m.sampleable(logits), &opts) })
	assert.Zero(t, allocs, "sampling a token")
}
