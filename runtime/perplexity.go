package runtime

import (
	"context"
	"fmt"
	"iter"
	"math"
)

// PerplexityOptions choose how Session.Perplexity cuts a text longer than
// one context.
type PerplexityOptions struct {
	// Context is the number of tokens of each chunk or window, N: at least
	// 4 (with Stride 0) or 2, at most the session's capacity.
	Context int
	// Stride 0 is llama-perplexity's method (llama-perplexity -c N): the
	// tokens split into len/N non-overlapping chunks of N (a shorter tail
	// is dropped), each evaluated from an empty cache, and only the tokens
	// of its second half predicted, the first N/2 serving as context; the
	// text needs at least 2·N tokens, as llama-perplexity asks.
	//
	// Stride S in 1..N is the sliding-window form of Hugging Face's
	// perplexity guide: windows of N tokens starting at 0, S, 2S, ...
	// until one reaches the end, each from an empty cache, each predicting
	// only the tokens it adds past the previous window's end (a token at
	// a window's start has nothing before it and is not predicted: with
	// S < N every token but the text's first is predicted once).
	Stride int
	// BOS puts the model's beginning-of-text token in place of each chunk's
	// first token, as llama-perplexity does when its tokenizer adds a BOS
	// (then the ids should start with one too, as its tokenization does).
	// goformer's tokenizers add none, and the goformer command leaves BOS
	// false.
	BOS bool
}

// PerplexityProgress is the running figure after a chunk or window.
type PerplexityProgress struct {
	// Chunk is the number of chunks (or windows) evaluated, of Chunks.
	Chunk, Chunks int
	// Scored is the number of tokens predicted so far.
	Scored int
	// LogLikelihood is the sum of their log-probabilities.
	LogLikelihood float64
	// Perplexity is exp(−LogLikelihood/Scored).
	Perplexity float64
	// PerplexityError is the standard error of Perplexity as
	// llama-perplexity states it (its "+/-"): Perplexity times the
	// standard deviation of the token log-probabilities over √(Scored−1).
	PerplexityError float64
}

// Perplexity scores a text of any length in chunks or windows of
// opts.Context tokens (see PerplexityOptions) and yields the running
// figures after each; the last is the estimate. A non-nil error is yielded
// at most once, as the last element: bad options, a text too short, a
// token outside the vocabulary, or ctx.Err(). It starts a new sequence.
func (s *Session) Perplexity(ctx context.Context, ids []int, opts PerplexityOptions) iter.Seq2[PerplexityProgress, error] {
	return func(yield func(PerplexityProgress, error) bool) {
		n, stride := opts.Context, opts.Stride
		switch {
		case n > s.cache.capacity || n > s.limit():
			yield(PerplexityProgress{}, fmt.Errorf("perplexity context %d: the session holds %d positions: %w", n, min(s.cache.capacity, s.limit()), ErrBadOptions))
			return
		case stride == 0 && n < 4, stride != 0 && n < 2:
			yield(PerplexityProgress{}, fmt.Errorf("perplexity context %d: too short to predict anything: %w", n, ErrBadOptions))
			return
		case stride < 0 || stride > n:
			yield(PerplexityProgress{}, fmt.Errorf("perplexity stride %d: want 1..%d (the context), or 0 for chunks: %w", stride, n, ErrBadOptions))
			return
		case stride == 0 && len(ids) < 2*n:
			yield(PerplexityProgress{}, fmt.Errorf("perplexity: %d tokens, chunks of %d need at least %d, as llama-perplexity does", len(ids), n, 2*n))
			return
		case len(ids) < 2:
			yield(PerplexityProgress{}, fmt.Errorf("perplexity: %d tokens, at least 2 are needed", len(ids)))
			return
		}
		if err := s.m.checkTokens(ids); err != nil {
			yield(PerplexityProgress{}, err)
			return
		}
		var windows []perplexityWindow
		if stride == 0 {
			windows = chunkWindows(len(ids), n)
		} else {
			windows = slidingWindows(len(ids), n, stride)
		}
		chunk := make([]int, n)
		var p PerplexityProgress
		var sumSq float64 // Σ (log p)², for the standard error
		p.Chunks = len(windows)
		for _, w := range windows {
			if err := ctx.Err(); err != nil {
				yield(PerplexityProgress{}, err)
				return
			}
			if err := s.m.checkOpen(); err != nil {
				yield(PerplexityProgress{}, err)
				return
			}
			c := chunk[:w.end-w.start]
			copy(c, ids[w.start:w.end])
			if opts.BOS {
				c[0] = s.m.cfg.BOS
			}
			s.Reset()
			for start := 0; start < len(c); start += s.batch {
				part := c[start:min(start+s.batch, len(c))]
				s.forward(part)
				for r := range part {
					g := start + r // predicts c[g+1]
					if g < w.first || g+1 >= len(c) {
						continue
					}
					s.targetLogits(r, c[g+1])
					if err := checkLogits(s.logits, w.start+g); err != nil {
						yield(PerplexityProgress{}, err)
						return
					}
					lp := float64(s.logits[c[g+1]]) - s.sampler.logSumExp(s.logits)
					p.LogLikelihood += lp
					sumSq += lp * lp
					p.Scored++
				}
			}
			p.Chunk++
			p.Perplexity = math.Exp(-p.LogLikelihood / float64(p.Scored))
			if p.Scored > 1 {
				mean := p.LogLikelihood / float64(p.Scored)
				if v := sumSq/float64(p.Scored) - mean*mean; v > 0 {
					p.PerplexityError = p.Perplexity * math.Sqrt(v/float64(p.Scored-1))
				}
			}
			if !yield(p, nil) {
				return
			}
		}
	}
}

// perplexityWindow is the tokens [start, end) run from an empty cache, of
// which the positions first.. (window-relative) predict their next token.
type perplexityWindow struct{ start, end, first int }

// chunkWindows are llama-perplexity's chunks: whole chunks of n, the
// positions n/2 .. n−2 predicting.
func chunkWindows(tokens, n int) []perplexityWindow {
	w := make([]perplexityWindow, tokens/n)
	for i := range w {
		w[i] = perplexityWindow{start: i * n, end: (i + 1) * n, first: n / 2}
	}
	return w
}

// slidingWindows are windows of n moved by stride, each predicting the
// tokens past the previous window's end.
func slidingWindows(tokens, n, stride int) []perplexityWindow {
	var w []perplexityWindow
	prevEnd := 0
	for begin := 0; ; begin += stride {
		end := min(begin+n, tokens)
		// The window's tokens prevEnd..end−1 are predicted from the ones
		// before them, so the rows prevEnd−1.. predict; the first token of
		// the text has no prediction.
		w = append(w, perplexityWindow{start: begin, end: end, first: max(0, prevEnd-1-begin)})
		prevEnd = end
		if end == tokens {
			return w
		}
	}
}
