package runtime

import (
	"context"
	"fmt"
	"iter"
	"math"
)

// BatchRequest is one sequence for Batch.Generate: a prompt and how to
// continue it.
type BatchRequest struct {
	// Prompt is the ids to continue; empty, the beginning-of-text token,
	// as in Session.Generate.
	Prompt []int
	GenerateOptions
}

// BatchEvent is one step of one sequence in Batch.Generate: a generated
// token, or the end of the sequence.
type BatchEvent struct {
	// Seq is the index of the request.
	Seq int
	// Token is the generated token, when Done is false.
	Token Token
	// Done reports that sequence Seq has ended; no event for it follows.
	// Err says why when it failed (an empty prompt, a bad token, a negative
	// MaxTokens, a prompt or generation past an absolute context, a NaN or
	// infinite logit: ErrNonFinite); it is nil at the end-of-text
	// token or MaxTokens. Stats are the sequence's timings: its prefill and
	// decode durations are those of the passes it took part in, which also
	// ran other sequences.
	Done  bool
	Err   error
	Stats Stats
}

// Generate runs every request to its end, in Sequences slots: each pass
// prefills new prompts and decodes one token of every running sequence, and
// a sequence that ends gives its slot to the next waiting request. Each
// sequence generates what Session.Generate would from its prompt and
// options (its own sampler, seeded with its Seed) and ends the same ways;
// a request that fails (BatchEvent.Err) does not disturb the others. Events
// come pass by pass, in slot order within a pass. The iterator yields a
// non-nil error only for ctx or ErrClosed (the model closed), at most once,
// as its last element; sequences still running then get no Done event. A decode pass allocates nothing.
func (b *Batch) Generate(ctx context.Context, reqs []BatchRequest) iter.Seq2[BatchEvent, error] {
	return func(yield func(BatchEvent, error) bool) {
		b.free()
		waiting := 0
		for {
			for i := range b.slots {
				for b.slots[i].req < 0 && waiting < len(reqs) {
					req := waiting
					waiting++
					if err := b.admit(&reqs[req]); err != nil {
						ev := BatchEvent{Seq: req, Done: true, Err: err, Stats: Stats{PromptTokens: len(reqs[req].Prompt)}}
						if !yield(ev, nil) {
							return
						}
						continue
					}
					b.start(i, req, b.m.prompt(reqs[req].Prompt))
					b.slots[i].sampler.seed(reqs[req].Seed)
				}
			}
			if !b.busy() {
				return
			}
			if err := ctx.Err(); err != nil {
				yield(BatchEvent{Seq: -1}, err)
				return
			}
			if err := b.m.checkOpen(); err != nil {
				yield(BatchEvent{Seq: -1}, err)
				return
			}
			b.step()
			for k, i := range b.ready {
				if !b.emit(&b.slots[i], &reqs[b.slots[i].req].GenerateOptions, b.slotLogits(k), yield) {
					return
				}
			}
		}
	}
}

// admit checks a request before it takes a slot.
func (b *Batch) admit(req *BatchRequest) error {
	if err := req.check(); err != nil {
		return err
	}
	prompt := b.m.prompt(req.Prompt)
	if err := b.m.checkTokens(prompt); err != nil {
		return err
	}
	if limit := b.limit(); len(prompt) > limit {
		return fmt.Errorf("prompt of %d tokens: the context holds %d positions (%s positions, no context shift in a batch): %w",
			len(prompt), limit, b.m.cfg.Arch.Positions, ErrContextFull)
	}
	return nil
}

// emit samples slot q's next token from logits and yields it, then ends
// the sequence where Session.Generate would, freeing the slot. It reports
// whether the consumer wants more.
func (b *Batch) emit(q *slot, opts *GenerateOptions, logits []float32, yield func(BatchEvent, error) bool) bool {
	seq := q.req
	end := func(err error) bool {
		q.req = -1
		return yield(BatchEvent{Seq: seq, Done: true, Err: err, Stats: q.stats}, nil)
	}
	if err := checkLogits(logits, q.pos-1); err != nil {
		return end(err)
	}
	tok := q.sampler.token(b.m.sampleable(logits), opts)
	if b.m.cfg.IsEnd(tok.ID) && !opts.IgnoreEOS {
		return end(nil)
	}
	if !yield(BatchEvent{Seq: seq, Token: tok}, nil) {
		return false
	}
	q.made++
	limit := b.limit()
	switch {
	case opts.MaxTokens != 0 && q.made == opts.MaxTokens:
		return end(nil)
	case opts.MaxTokens == 0 && q.pos >= q.cache.capacity:
		return end(nil) // one context's worth
	case limit != math.MaxInt && q.pos >= limit:
		return end(fmt.Errorf("generated %d of %d tokens: the context holds %d positions (%s positions, no context shift in a batch): %w",
			q.made, opts.MaxTokens, limit, b.m.cfg.Arch.Positions, ErrContextFull))
	}
	q.next = tok.ID
	return true
}
