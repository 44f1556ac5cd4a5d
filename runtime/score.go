package runtime

import (
	"context"
	"fmt"
	"math"
)

// Score is the likelihood of a text under the model, by teacher forcing.
type Score struct {
	// Tokens is the number of token ids scored, N.
	Tokens int `json:"tokens"`
	// LogLikelihood is Σ_{t≥1} log p(x_t | x_<t): the first token is given,
	// not predicted (no BOS is added).
	LogLikelihood float64 `json:"log_likelihood"`
	// Perplexity is exp(−LogLikelihood / (N−1)).
	Perplexity float64 `json:"perplexity"`
	// TokenLogprobs are the N−1 terms of LogLikelihood, in order.
	TokenLogprobs []float64 `json:"-"`
}

// Score runs ids through the model in batched forward passes (each position
// sees only the true tokens before it) and sums the log-probability of each
// next token. It starts a new sequence. With RoPE a text longer than the
// session's capacity is scored through the sliding window (each token sees
// the sinks and the last Capacity−Keep tokens); with absolute positions it
// is an ErrContextFull error, context shift or not. A NaN or infinite
// logit is an ErrNonFinite error.
func (s *Session) Score(ctx context.Context, ids []int) (Score, error) {
	if len(ids) < 2 {
		return Score{}, fmt.Errorf("score needs at least 2 tokens, got %d", len(ids))
	}
	s.Reset()
	if err := s.m.checkOpen(); err != nil {
		return Score{}, err
	}
	if err := s.m.checkTokens(ids); err != nil {
		return Score{}, err
	}
	if len(ids) > s.limit() {
		// A shift would change what the later tokens are conditioned on.
		return Score{}, fmt.Errorf("score: %d tokens: the context holds %d positions (%s positions): %w",
			len(ids), s.limit(), s.m.cfg.Arch.Positions, ErrContextFull)
	}
	var ll float64
	lps := make([]float64, 0, len(ids)-1)
	for start := 0; start < len(ids); start += s.batch {
		if err := ctx.Err(); err != nil {
			return Score{}, err
		}
		chunk := ids[start:min(start+s.batch, len(ids))]
		s.forward(chunk)
		for r := range chunk {
			g := start + r
			if g+1 >= len(ids) {
				break
			}
			s.targetLogits(r, ids[g+1])
			if err := checkLogits(s.logits, g); err != nil {
				return Score{}, fmt.Errorf("score: %w", err)
			}
			lp := float64(s.logits[ids[g+1]]) - s.sampler.logSumExp(s.logits)
			lps = append(lps, lp)
			ll += lp
		}
	}
	n := len(ids)
	return Score{Tokens: n, LogLikelihood: ll, Perplexity: math.Exp(-ll / float64(n-1)), TokenLogprobs: lps}, nil
}
