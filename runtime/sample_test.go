package runtime

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/model/tokenizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestSampler(vocab int, seed uint64) *sampler {
	var sp sampler
	sp.init(vocab)
	sp.seed(seed)
	return &sp
}

// frequencies draws n tokens and returns how often each id came up.
func frequencies(sp *sampler, logits []float32, opts SampleOptions, n int) []float64 {
	f := make([]float64, len(logits))
	for i := 0; i < n; i++ {
		f[sp.choose(logits, &opts)] += 1 / float64(n)
	}
	return f
}

func TestSamplerDistribution(t *testing.T) {
	// Probabilities 0.5, 0.3, 0.15, 0.05 at temperature 1.
	probs := []float64{0.5, 0.3, 0.15, 0.05}
	logits := make([]float32, len(probs))
	for i, p := range probs {
		logits[i] = float32(math.Log(p)) + 3
	}
	const n = 40000
	sp := newTestSampler(4, 1)
	// 4σ of a binomial frequency at n draws is under 0.01.
	const tol = 0.01

	got := frequencies(sp, logits, SampleOptions{Temperature: 1}, n)
	assert.InDeltaSlice(t, probs, got, tol, "temperature 1")

	// Temperature 0.5 squares the probabilities before normalizing.
	var z float64
	for _, p := range probs {
		z += p * p
	}
	got = frequencies(sp, logits, SampleOptions{Temperature: 0.5}, n)
	assert.InDeltaSlice(t, []float64{0.25 / z, 0.09 / z, 0.0225 / z, 0.0025 / z}, got, tol, "temperature 0.5")

	got = frequencies(sp, logits, SampleOptions{Temperature: 1, TopK: 2}, n)
	assert.InDeltaSlice(t, []float64{0.625, 0.375, 0, 0}, got, tol, "top-k 2")

	// Top-p 0.7: 0.5 alone is short of 0.7, 0.5+0.3 reaches it.
	got = frequencies(sp, logits, SampleOptions{Temperature: 1, TopP: 0.7}, n)
	assert.InDeltaSlice(t, []float64{0.625, 0.375, 0, 0}, got, tol, "top-p 0.7")

	got = frequencies(sp, logits, SampleOptions{Temperature: 1, TopP: 0.95}, n)
	assert.InDeltaSlice(t, []float64{0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}, got, tol, "top-p 0.95")
}

func TestSamplerGreedyAndSeed(t *testing.T) {
	logits := randomLogits(3, 1000)
	sp := newTestSampler(1000, 1)
	best := Greedy(logits)
	assert.Equal(t, best, sp.choose(logits, &SampleOptions{}))
	assert.Equal(t, best, sp.choose(logits, &SampleOptions{Temperature: 2, TopK: 1}))
	// 1/T overflowing float32 must not turn every probability into NaN.
	assert.Equal(t, best, sp.choose(logits, &SampleOptions{Temperature: 1e-40}))
	assert.Equal(t, best, sp.choose(logits, &SampleOptions{Temperature: math.NaN()}))

	draw := func(seed uint64) []int {
		sp.seed(seed)
		var ids []int
		for i := 0; i < 50; i++ {
			ids = append(ids, sp.choose(logits, &SampleOptions{Temperature: 1.5, TopP: 0.9}))
		}
		return ids
	}
	assert.Equal(t, draw(42), draw(42))
	assert.NotEqual(t, draw(42), draw(43))
}

// TestGreedyFirstOnTie: Greedy is the first index of the largest logit,
// for every length and many ties.
func TestGreedyFirstOnTie(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	for trial := range 2000 {
		n := 1 + trial%37
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.IntN(4))
		}
		want := 0
		for i, v := range x {
			if v > x[want] {
				want = i
			}
		}
		require.Equal(t, want, Greedy(x), "%v", x)
		require.Equal(t, x[want], maxOf(x), "%v", x)
	}
}

func TestSelectTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n := 1 + rng.IntN(300)
		logits := make([]float32, n)
		for i := range logits {
			logits[i] = float32(rng.IntN(8)) // many ties
		}
		k := 1 + rng.IntN(n)
		ids := make([]int32, n)
		for i := range ids {
			ids[i] = int32(i)
		}
		selectTop(ids, k, logits)
		top := make([]float32, k)
		for i, id := range ids[:k] {
			top[i] = logits[id]
		}
		sorted := slices.Clone(logits)
		slices.SortFunc(sorted, func(a, b float32) int { return int(b - a) })
		slices.SortFunc(top, func(a, b float32) int { return int(b - a) })
		require.Equal(t, sorted[:k], top, "n=%d k=%d", n, k)
	}
}

func TestTopLogprobs(t *testing.T) {
	logits := randomLogits(5, 500)
	sp := newTestSampler(500, 1)
	lse := sp.logSumExp(logits)
	var want float64
	for _, v := range logits {
		want += math.Exp(float64(v))
	}
	assert.InDelta(t, math.Log(want), lse, 1e-5)
	top := sp.topLogprobs(logits, 10, lse)
	require.Len(t, top, 10)
	order := make([]int, 500)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if logits[a] != logits[b] {
			if logits[a] > logits[b] {
				return -1
			}
			return 1
		}
		return a - b
	})
	for i, tl := range top {
		assert.Equal(t, order[i], tl.ID)
		assert.InDelta(t, float64(logits[order[i]])-math.Log(want), tl.Logprob, 1e-5)
	}
}

func randomLogits(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	l := make([]float32, n)
	for i := range l {
		l[i] = float32(rng.NormFloat64() * 3)
	}
	return l
}

// byteTokenizer is a tokenizer of GPT-2's 256 byte tokens alone, in GPT-2's
// id order (bytes_to_unicode of OpenAI's encoder.py).
func byteTokenizer(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	var printable, other []string
	next := rune(256)
	for b := range 256 {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			printable = append(printable, string(rune(b)))
		} else {
			other = append(other, string(next))
			next++
		}
	}
	tok, err := tokenizer.New(append(printable, other...), nil, nil)
	require.NoError(t, err)
	return tok
}

// TestSamplingSkipsPaddedIDs: a model whose vocabulary is padded past its
// tokenizer's (300 logits, 256 tokens) never generates an id the tokenizer
// cannot decode, in a session or a batch, nor lists one among the top
// logprobs.
func TestSamplingSkipsPaddedIDs(t *testing.T) {
	cfg := smallConfig(model.GPT2Arch)
	cfg.VocabSize, cfg.BOS, cfg.EOS = 300, 299, 299
	m := newModelFrom(t, cfg, randomWeights(cfg, 3), Options{Embeddings: F32Embeddings})
	m.tok = byteTokenizer(t)
	opts := GenerateOptions{MaxTokens: 40, IgnoreEOS: true, TopLogprobs: 300, SampleOptions: SampleOptions{Temperature: 1.5, Seed: 1}}
	check := func(tok Token, what string) {
		assert.Less(t, tok.ID, 256, what)
		require.Len(t, tok.TopLogprobs, 256, what)
		for _, top := range tok.TopLogprobs {
			require.Less(t, top.ID, 256, what)
		}
	}
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	n := 0
	for tok, err := range s.Generate(context.Background(), []int{1, 2, 3}, opts) {
		require.NoError(t, err)
		check(tok, "session")
		n++
	}
	assert.Equal(t, 40, n)
	allocs := testing.AllocsPerRun(20, func() { s.sampler.token(m.sampleable(s.logits), &opts) })
	assert.Zero(t, allocs, "sampling from the tokenizer's ids")

	b, err := m.NewBatch(BatchOptions{Sequences: 2})
	require.NoError(t, err)
	reqs := []BatchRequest{{Prompt: []int{1, 2}, GenerateOptions: opts}, {Prompt: []int{4}, GenerateOptions: opts}, {Prompt: []int{5, 6, 7}, GenerateOptions: opts}}
	n = 0
	for ev, err := range b.Generate(context.Background(), reqs) {
		require.NoError(t, err)
		require.NoError(t, ev.Err)
		if !ev.Done {
			check(ev.Token, "batch")
			n++
		}
	}
	assert.Equal(t, 120, n)
}

// TestRandomSeed: RandomSeed gives different seeds, and a seed it gave
// repeats its sequence.
func TestRandomSeed(t *testing.T) {
	a, b := RandomSeed(), RandomSeed()
	assert.NotEqual(t, a, b)
	m := demoModel(t)
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	gen := func(seed uint64) []int {
		var ids []int
		opts := GenerateOptions{MaxTokens: 16, IgnoreEOS: true, SampleOptions: SampleOptions{Temperature: 1, Seed: seed}}
		for tok, err := range s.Generate(context.Background(), []int{464}, opts) {
			require.NoError(t, err)
			ids = append(ids, tok.ID)
		}
		return ids
	}
	first := gen(a)
	assert.Equal(t, first, gen(a))
	assert.NotEqual(t, first, gen(b))
}

// TestEmptyPromptStartsFromBOS: Generate with an empty prompt is Generate
// from the beginning-of-text token alone, and a batch does the same.
func TestEmptyPromptStartsFromBOS(t *testing.T) {
	m := demoModel(t)
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	opts := GenerateOptions{MaxTokens: 8, IgnoreEOS: true}
	gen := func(prompt []int) []int {
		var ids []int
		for tok, err := range s.Generate(context.Background(), prompt, opts) {
			require.NoError(t, err)
			ids = append(ids, tok.ID)
		}
		return ids
	}
	want := gen([]int{m.Config().BOS})
	require.Len(t, want, 8)
	assert.Equal(t, want, gen(nil))
	assert.Equal(t, 1, s.Stats().PromptTokens)
	b, err := m.NewBatch(BatchOptions{Sequences: 1})
	require.NoError(t, err)
	var got []int
	for ev, err := range b.Generate(context.Background(), []BatchRequest{{Prompt: []int{}, GenerateOptions: opts}}) {
		require.NoError(t, err)
		require.NoError(t, ev.Err)
		if !ev.Done {
			got = append(got, ev.Token.ID)
		}
	}
	assert.Equal(t, want, got)
}
