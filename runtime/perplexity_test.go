package runtime

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refPerplexity is the float64 reference of Perplexity's figures, written
// from the methods' definitions: for each window, the reference forward
// pass over its tokens alone (the first replaced by bos when ≥ 0), the
// log-probability of each token the window predicts. It returns the
// running sum and count after each window.
func refPerplexity(t *testing.T, m *Model, ids []int, n, stride, bos int) (ll []float64, count []int) {
	var starts []int
	if stride == 0 {
		for s := 0; s+n <= len(ids); s += n {
			starts = append(starts, s)
		}
	} else {
		for s := 0; ; s += stride {
			starts = append(starts, s)
			if s+n >= len(ids) {
				break
			}
		}
	}
	var sum float64
	var c, prevEnd int
	for _, start := range starts {
		end := min(start+n, len(ids))
		win := append([]int(nil), ids[start:end]...)
		if bos >= 0 {
			win[0] = bos
		}
		logits := refLogits(m.cfg, weightsOf(t, m), win)
		for j := 1; j < len(win); j++ {
			// llama-perplexity: the second half of the chunk, positions
			// n/2+1 .. n−1; the sliding window: what it adds.
			if (stride == 0 && j > n/2) || (stride != 0 && start+j >= prevEnd) {
				sum += refLogprob(logits[j-1], win[j])
				c++
			}
		}
		prevEnd = end
		ll, count = append(ll, sum), append(count, c)
	}
	return ll, count
}

// TestPerplexityMatchesReference: llama-perplexity's chunks (with and
// without a BOS at each chunk start) and the sliding windows, on a model
// with learned positions and on a RoPE one, against the float64 reference
// of the same chunking, after every chunk.
func TestPerplexityMatchesReference(t *testing.T) {
	skipUnderRace(t)
	forEachISA(t, func(t *testing.T) {
		for _, name := range []string{"gpt2", "llama-gqa2"} {
			m := newTestModel(t, variants[name], 11)
			ids := randomIDs(12, 45, m.cfg.VocabSize)
			for _, c := range []struct {
				n, stride int
				bos       bool
				scored    int
			}{
				{n: 8, scored: 5 * 3}, // 5 chunks of 8 (5 tokens dropped), 3 predicted each
				{n: 10, bos: true, scored: 4 * 4},
				{n: 8, stride: 3, scored: 44},   // every token but the first
				{n: 12, stride: 12, scored: 41}, // each window's first token has no prediction
			} {
				s, err := m.NewSession(SessionOptions{Capacity: c.n, Batch: 5})
				require.NoError(t, err)
				bos := -1
				if c.bos {
					bos = m.cfg.BOS
				}
				wantLL, wantCount := refPerplexity(t, m, ids, c.n, c.stride, bos)
				var got []PerplexityProgress
				for p, err := range s.Perplexity(context.Background(), ids, PerplexityOptions{Context: c.n, Stride: c.stride, BOS: c.bos}) {
					require.NoError(t, err)
					got = append(got, p)
				}
				require.Len(t, got, len(wantLL), "%s %+v", name, c)
				for i, p := range got {
					assert.Equal(t, i+1, p.Chunk)
					assert.Equal(t, len(wantLL), p.Chunks)
					assert.Equal(t, wantCount[i], p.Scored, "%s %+v chunk %d", name, c, i)
					assert.InDelta(t, wantLL[i], p.LogLikelihood, 1e-4*math.Abs(wantLL[i]), "%s %+v chunk %d", name, c, i)
					assert.InDelta(t, math.Exp(-wantLL[i]/float64(wantCount[i])), p.Perplexity, 1e-4*p.Perplexity)
				}
				last := got[len(got)-1]
				assert.Equal(t, c.scored, last.Scored, "%s %+v", name, c)
				assert.Positive(t, last.PerplexityError)
			}
		}
	})
}

// TestPerplexityRefuses: a context past the session, too short a text for
// two chunks, a stride out of range, a bad token.
func TestPerplexityRefuses(t *testing.T) {
	m := newTestModel(t, variants["gpt2"], 11)
	s, err := m.NewSession(SessionOptions{Capacity: 8})
	require.NoError(t, err)
	ids := randomIDs(1, 20, m.cfg.VocabSize)
	run := func(ids []int, opts PerplexityOptions) error {
		for _, err := range s.Perplexity(context.Background(), ids, opts) {
			if err != nil {
				return err
			}
		}
		return nil
	}
	err = run(ids, PerplexityOptions{Context: 9})
	assert.ErrorIs(t, err, ErrBadOptions)
	assert.ErrorContains(t, err, "the session holds 8 positions")
	assert.ErrorContains(t, run(ids[:15], PerplexityOptions{Context: 8}), "15 tokens, chunks of 8 need at least 16")
	assert.ErrorIs(t, run(ids, PerplexityOptions{Context: 8, Stride: 9}), ErrBadOptions)
	assert.ErrorIs(t, run(ids, PerplexityOptions{Context: 2}), ErrBadOptions)
	assert.ErrorIs(t, run([]int{1, 2, 3, 1000, 4, 5, 6, 7}, PerplexityOptions{Context: 4}), ErrBadToken)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range s.Perplexity(ctx, ids, PerplexityOptions{Context: 8}) {
		assert.True(t, errors.Is(err, context.Canceled))
	}
}
