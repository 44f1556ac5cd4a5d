package runtime

import (
	"cmp"
	"context"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refPenalized is the float64 reference of the penalties: the logits after
// repetition, frequency and presence penalties over the last n tokens of
// history.
func refPenalized(logits []float32, history []int, n int, o SampleOptions) []float64 {
	window := history[max(0, len(history)-n):]
	counts := map[int]int{}
	for _, id := range window {
		counts[id]++
	}
	out := make([]float64, len(logits))
	for i, v := range logits {
		l := float64(v)
		if c := counts[i]; c > 0 {
			if r := o.RepetitionPenalty; r != 0 {
				if l > 0 {
					l /= r
				} else {
					l *= r
				}
			}
			l -= float64(c)*o.FrequencyPenalty + o.PresencePenalty
		}
		out[i] = l
	}
	return out
}

// TestPenaltiesMatchReference: on fixed logits and a history with repeats,
// longer than the window, the penalized logits equal the float64 reference,
// and restore gives back the logits bit for bit.
func TestPenaltiesMatchReference(t *testing.T) {
	const vocab = 300
	logits := randomLogits(11, vocab)
	// Ids from a small range, so that many repeat; a few past the logits
	// (a padded vocabulary's) that must be left alone.
	history := randomIDs(12, 150, 40)
	history = append(history, 7, 7, 7, 299, 3)
	for _, o := range []SampleOptions{
		{RepetitionPenalty: 1.3},
		{PresencePenalty: 0.7},
		{FrequencyPenalty: 0.45},
		{RepetitionPenalty: 0.8, PresencePenalty: -0.5, FrequencyPenalty: 1.5, PenaltyLastN: 20},
		{RepetitionPenalty: 1.1, FrequencyPenalty: 0.2, PenaltyLastN: -1},
		{PresencePenalty: 2, PenaltyLastN: 1},
	} {
		sp := newTestSampler(vocab, 1)
		const capacity = 128
		// The prompt fills the window and each sampled token slides it.
		sp.begin(history[:100], &o, capacity)
		for _, id := range history[100:] {
			sp.window.push(id)
		}
		n := o.PenaltyLastN
		switch n {
		case 0:
			n = DefaultPenaltyLastN
		case -1:
			n = capacity
		}
		want := refPenalized(logits, history, n, o)
		got := slices.Clone(logits)
		// The sampleable ids end at 290: 299 is a padded vocabulary's.
		sp.window.penalize(got[:290], &o)
		for i := range got[:290] {
			require.InDelta(t, want[i], float64(got[i]), 1e-5*math.Max(1, math.Abs(want[i])), "%+v: id %d", o, i)
		}
		assert.Equal(t, logits[290:], got[290:], "%+v: padded ids", o)
		sp.window.restore(got[:290])
		assert.Equal(t, logits, got, "%+v: restored", o)
	}
}

// refCandidates is the float64 reference of the sampled distribution: the
// tokens sorted by logit, cut by top-k, then top-p of the tempered
// probabilities, then min-p, with their normalized probabilities.
func refCandidates(logits []float32, o SampleOptions) map[int]float64 {
	ids := make([]int, len(logits))
	for i := range ids {
		ids[i] = i
	}
	slices.SortFunc(ids, func(a, b int) int { return cmp.Compare(logits[b], logits[a]) })
	if o.TopK > 0 && o.TopK < len(ids) {
		ids = ids[:o.TopK]
	}
	mx := float64(logits[ids[0]])
	p := make([]float64, len(ids))
	var sum float64
	for i, id := range ids {
		p[i] = math.Exp((float64(logits[id]) - mx) / o.Temperature)
		sum += p[i]
	}
	if o.TopP > 0 && o.TopP < 1 {
		var acc float64
		for i := range p {
			acc += p[i]
			if acc >= o.TopP*sum {
				ids, p, sum = ids[:i+1], p[:i+1], acc
				break
			}
		}
	}
	out := map[int]float64{}
	var kept float64
	for i, id := range ids {
		if p[i] >= o.MinP*p[0] {
			out[id] = p[i]
			kept += p[i]
		}
	}
	for id := range out {
		out[id] /= kept
	}
	return out
}

// TestMinPMatchesReference: the candidates and probabilities choose draws
// from equal the float64 reference, for min-p alone and with top-k, top-p
// and temperatures.
func TestMinPMatchesReference(t *testing.T) {
	const vocab = 500
	logits := randomLogits(21, vocab)
	sp := newTestSampler(vocab, 1)
	for _, o := range []SampleOptions{
		{Temperature: 1, MinP: 0.05},
		{Temperature: 1, MinP: 0.3},
		{Temperature: 0.7, MinP: 0.1, TopK: 40},
		{Temperature: 1.5, MinP: 0.02, TopP: 0.9},
		{Temperature: 1, MinP: 0.2, TopK: 100, TopP: 0.95},
		{Temperature: 1, MinP: 1},
		{Temperature: 2, TopP: 0.5},
	} {
		want := refCandidates(logits, o)
		cand, p, sum := sp.candidates(logits, &o)
		got := map[int]float64{}
		for i, id := range cand {
			got[int(id)] = float64(p[i]) / sum
		}
		require.Len(t, got, len(want), "%+v", o)
		for id, w := range want {
			require.Contains(t, got, id, "%+v", o)
			assert.InDelta(t, w, got[id], 1e-6, "%+v: id %d", o, id)
		}
	}
	// Drawn tokens come from the min-p set alone.
	o := SampleOptions{Temperature: 1, MinP: 0.3}
	allowed := refCandidates(logits, o)
	for range 2000 {
		require.Contains(t, allowed, sp.choose(logits, &o))
	}
}

// TestPresencePenaltyAvoidsRepeats: greedy decoding with a presence
// penalty far above the logits' spread never repeats a token of its window,
// in a session and in a batch, and the reported log-probabilities stay the
// model's (those of the same tokens forced without a penalty).
func TestPresencePenaltyAvoidsRepeats(t *testing.T) {
	m := newBatchTestModel(t, variants["gpt2"], 31)
	prompt := randomIDs(5, 10, m.cfg.VocabSize)
	opts := GenerateOptions{MaxTokens: 30, IgnoreEOS: true, SampleOptions: SampleOptions{PresencePenalty: 1000, PenaltyLastN: 25}}
	toks, err := genAlone(t, m, BatchRequest{Prompt: prompt, GenerateOptions: opts})
	require.NoError(t, err)
	require.Len(t, toks, 30)
	seq := slices.Clone(prompt)
	for _, tok := range toks {
		assert.NotContains(t, seq[max(0, len(seq)-25):], tok.ID)
		seq = append(seq, tok.ID)
	}
	forced := make([]int, len(toks))
	for i, tok := range toks {
		forced[i] = tok.ID
	}
	alone := aloneLogits(t, m, prompt, forced[:len(forced)-1])
	sp := newTestSampler(m.cfg.VocabSize, 1)
	for i, tok := range toks {
		want := float64(alone[i][tok.ID]) - sp.logSumExp(alone[i])
		assert.InDelta(t, want, tok.Logprob, 1e-4, "token %d", i)
	}
	b, err := m.NewBatch(BatchOptions{Sequences: 2})
	require.NoError(t, err)
	got, errs := genBatch(t, b, []BatchRequest{{Prompt: prompt, GenerateOptions: opts}, {Prompt: prompt[:3], GenerateOptions: opts}})
	require.NoError(t, errs[0])
	assertSameTokens(t, toks, got[0], "batch")
}

// TestPenalizedSamplingAllocatesNothing: a sampling step with every
// penalty and min-p.
func TestPenalizedSamplingAllocatesNothing(t *testing.T) {
	const vocab = 1000
	logits := randomLogits(3, vocab)
	sp := newTestSampler(vocab, 1)
	opts := GenerateOptions{TopLogprobs: 5, SampleOptions: SampleOptions{
		Temperature: 0.9, TopK: 50, TopP: 0.9, MinP: 0.05, RepetitionPenalty: 1.2, PresencePenalty: 0.3, FrequencyPenalty: 0.1,
	}}
	sp.begin(randomIDs(4, 100, vocab), &opts.SampleOptions, 256)
	allocs := testing.AllocsPerRun(50, func() { sp.token(logits, &opts) })
	assert.Zero(t, allocs)
}

// TestBadSampleOptions: out-of-range sampling fields are ErrBadOptions
// naming the field.
func TestBadSampleOptions(t *testing.T) {
	m := newBatchTestModel(t, variants["gpt2"], 1)
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	for field, o := range map[string]SampleOptions{
		"MinP":              {MinP: 1.5},
		"RepetitionPenalty": {RepetitionPenalty: -1},
		"PresencePenalty":   {PresencePenalty: math.NaN()},
		"FrequencyPenalty":  {FrequencyPenalty: math.Inf(1)},
		"PenaltyLastN":      {PenaltyLastN: -2},
	} {
		for _, err := range s.Generate(context.Background(), []int{1}, GenerateOptions{SampleOptions: o, MaxTokens: 1}) {
			require.ErrorIs(t, err, ErrBadOptions, field)
			assert.Contains(t, err.Error(), "GenerateOptions."+field)
		}
	}
}
