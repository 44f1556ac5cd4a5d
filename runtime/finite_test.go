package runtime

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// overflowingModel is a GPT-2 whose learned position 5 is +Inf in every
// feature: the weights the loaders would refuse, standing in for finite
// weights whose activations overflow. Every logit at position 5 and after is
// NaN; those before are finite, except in a prefill block, where the NaN
// values of position 5 reach earlier rows through attention's zero weights
// (attendBlock relies on finite values).
func overflowingModel(t *testing.T) *Model {
	cfg := variants["gpt2"]
	w := randomWeights(cfg, 1)
	d := cfg.NEmbd
	for i := range d {
		w.PositionEmbedding[5*d+i] = float32(math.Inf(1))
	}
	return newModelFrom(t, cfg, w, Options{Embeddings: F32Embeddings})
}

// TestNonFiniteLogits: a NaN logit is never sampled or scored. Generation
// and scoring end with ErrNonFinite naming the position, in a session and in
// a batch, where the other sequences go on.
func TestNonFiniteLogits(t *testing.T) {
	m := overflowingModel(t)
	opts := GenerateOptions{MaxTokens: 10, IgnoreEOS: true}

	toks, err := genAlone(t, m, BatchRequest{Prompt: []int{1, 2, 3}, GenerateOptions: opts})
	assert.Len(t, toks, 3, "the logits at positions 2, 3 and 4 are finite")
	require.ErrorIs(t, err, ErrNonFinite)
	assert.Contains(t, err.Error(), "logits at position 5: token 0 has logit NaN")

	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	_, err = s.Score(context.Background(), []int{1, 2, 3, 4, 5, 6, 7})
	require.ErrorIs(t, err, ErrNonFinite)
	assert.Contains(t, err.Error(), "score: logits at position ")
	sc, err := s.Score(context.Background(), []int{1, 2, 3, 4, 5})
	require.NoError(t, err)
	assert.False(t, math.IsNaN(sc.Perplexity))

	b, err := m.NewBatch(BatchOptions{Sequences: 2})
	require.NoError(t, err)
	got, errs := genBatch(t, b, []BatchRequest{
		{Prompt: []int{1, 2, 3, 4, 5, 6, 7}, GenerateOptions: opts},
		{Prompt: []int{1, 2}, GenerateOptions: GenerateOptions{MaxTokens: 3, IgnoreEOS: true}},
	})
	assert.Empty(t, got[0])
	require.ErrorIs(t, errs[0], ErrNonFinite)
	assert.Contains(t, errs[0].Error(), "logits at position 6")
	assert.NoError(t, errs[1])
	assert.Len(t, got[1], 3)

	res, err := b.Score(context.Background(), [][]int{{1, 2, 3, 4, 5, 6, 7}, {1, 2, 3}})
	require.NoError(t, err)
	require.ErrorIs(t, res[0].Err, ErrNonFinite)
	assert.Contains(t, res[0].Err.Error(), "score: logits at position ")
	assert.Equal(t, Score{}, res[0].Score)
	assert.NoError(t, res[1].Err)
	assert.Equal(t, 3, res[1].Tokens)
	assert.False(t, math.IsNaN(res[1].Perplexity))
}
