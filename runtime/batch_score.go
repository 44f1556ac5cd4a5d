package runtime

import (
	"context"
	"fmt"
	"math"
)

// BatchScore is one text's result in Batch.Score: its Score, or Err.
type BatchScore struct {
	Score
	Err error
}

// Score scores every text as Session.Score does, packing several texts into
// each forward pass, Sequences at a time. A text that cannot be scored
// (fewer than 2 tokens, a bad token, longer than an absolute context, a NaN
// or infinite logit: ErrNonFinite) gets
// its error in its result; the others are scored regardless. The error
// returned is ctx's, or ErrClosed once the model is closed.
func (b *Batch) Score(ctx context.Context, texts [][]int) ([]BatchScore, error) {
	res := make([]BatchScore, len(texts))
	b.free()
	waiting := 0
	// The rows whose next token is known, scored Sequences at a time.
	pending := make([]int, 0, len(b.slots))
	for {
		for i := range b.slots {
			for b.slots[i].req < 0 && waiting < len(texts) {
				n := waiting
				waiting++
				if err := b.admitText(texts[n]); err != nil {
					res[n].Err = err
					continue
				}
				b.start(i, n, texts[n])
				res[n].TokenLogprobs = make([]float64, len(texts[n])-1)
			}
		}
		if !b.busy() {
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := b.m.checkOpen(); err != nil {
			return nil, err
		}
		t := b.schedule()
		b.forward(b.ids[:t])
		for r := range t {
			q := &b.slots[b.rowSlot[r]]
			if b.rows[r].pos+1 < len(q.input) {
				pending = append(pending, r)
			}
			if len(pending) == cap(pending) || r == t-1 {
				b.scoreRows(pending, res)
				pending = pending[:0]
			}
		}
		for i := range b.slots {
			if q := &b.slots[i]; q.req >= 0 && q.decoding() {
				if res[q.req].Err != nil {
					res[q.req].Score = Score{}
					q.req = -1
					continue
				}
				sc := &res[q.req].Score
				sc.Tokens = len(q.input)
				for _, lp := range sc.TokenLogprobs {
					sc.LogLikelihood += lp
				}
				sc.Perplexity = math.Exp(-sc.LogLikelihood / float64(sc.Tokens-1))
				q.req = -1
			}
		}
	}
}

// scoreRows computes the log-probability of the next token at each row of
// rows (rows of the last pass, at most Sequences) into its text's result.
func (b *Batch) scoreRows(rows []int, res []BatchScore) {
	if len(rows) == 0 {
		return
	}
	d, v := b.m.cfg.NEmbd, b.m.cfg.VocabSize
	for k, r := range rows {
		copy(b.last[k*d:(k+1)*d], b.h[r*d:(r+1)*d])
	}
	b.m.head.scores(b.logits, b.last, len(rows), &b.sc)
	for k, r := range rows {
		q := &b.slots[b.rowSlot[r]]
		p := b.rows[r].pos
		logits := b.logits[k*v : (k+1)*v]
		b.m.head.rescore(logits, b.last[k*d:(k+1)*d], q.input[p+1], &b.sc)
		if err := checkLogits(logits, p); err != nil {
			if res[q.req].Err == nil {
				res[q.req].Err = fmt.Errorf("score: %w", err)
			}
			continue
		}
		res[q.req].TokenLogprobs[p] = float64(logits[q.input[p+1]]) - q.sampler.logSumExp(logits)
	}
}

// admitText checks a text before it takes a slot, as Session.Score does.
func (b *Batch) admitText(ids []int) error {
	if len(ids) < 2 {
		return fmt.Errorf("score needs at least 2 tokens, got %d", len(ids))
	}
	if err := b.m.checkTokens(ids); err != nil {
		return err
	}
	if limit := b.limit(); len(ids) > limit {
		return fmt.Errorf("score: %d tokens: the context holds %d positions (%s positions): %w",
			len(ids), limit, b.m.cfg.Arch.Positions, ErrContextFull)
	}
	return nil
}
