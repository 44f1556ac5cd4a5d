package runtime

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"

	"github.com/goformer/goformer/kernels"
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
// as its last element; sequences still running then get no Done event. A
// decode pass allocates nothing. Join, Step and Leave run the same passes
// for requests that come and go while others run.
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
					b.begin(i, req, &reqs[req])
				}
			}
			if !b.busy() {
				return
			}
			if err := ctx.Err(); err != nil {
				yield(BatchEvent{Seq: -1}, err)
				return
			}
			events, err := b.Step()
			if err != nil {
				yield(BatchEvent{Seq: -1}, err)
				return
			}
			for _, ev := range events {
				if !yield(ev, nil) {
					return
				}
			}
		}
	}
}

// ErrBatchFull is Join's error when every slot of the batch holds a
// sequence.
var ErrBatchFull = errors.New("every slot of the batch is taken")

// Join starts req in a free slot, to be prefilled by the next Step, and
// returns the slot's index, by which Step's events name the sequence. A
// request Generate would end at once fails with that error (ErrBadOptions,
// ErrBadToken, ErrContextFull: a prompt longer than an absolute context),
// and one that finds no free slot with ErrBatchFull; neither takes a slot. The batch keeps req's Prompt until the sequence ends: the caller
// must not change it.
func (b *Batch) Join(req BatchRequest) (int, error) {
	if err := b.m.checkOpen(); err != nil {
		return -1, err
	}
	if err := b.admit(&req); err != nil {
		return -1, err
	}
	for i := range b.slots {
		if b.slots[i].req < 0 {
			b.begin(i, i, &req)
			return i, nil
		}
	}
	return -1, ErrBatchFull
}

// Leave ends the sequence in slot i now, whatever it was doing, and returns
// its timings: its slot is free for the next Join, and no event names it
// again. Leaving a free slot does nothing.
func (b *Batch) Leave(i int) Stats {
	q := &b.slots[i]
	q.req = -1
	return q.stats
}

// Free is the number of slots that hold no sequence.
func (b *Batch) Free() int {
	n := 0
	for i := range b.slots {
		if b.slots[i].req < 0 {
			n++
		}
	}
	return n
}

// Step runs one forward pass over every sequence that joined and has not
// ended: a row for the next token of each decoding sequence, then the next
// chunks of the prompts being prefilled, as far as BatchOptions.Rows go. It
// returns the events of the pass, in slot order, with Seq the slot: a token
// for each sequence that decoded or finished its prompt, then Done for
// each that ended, whose slot is then free. The slice, and each Token's
// TopLogprobs, are the batch's and are reused by the next Step. With no
// sequence in flight Step runs nothing and returns no events; its error is
// ErrClosed once the model is closed. A decode pass allocates nothing.
func (b *Batch) Step() ([]BatchEvent, error) {
	b.events = b.events[:0]
	if err := b.m.checkOpen(); err != nil {
		return nil, err
	}
	if !b.busy() {
		return b.events, nil
	}
	b.step()
	// Each slot's sampler reads the vocabulary's logits several times:
	// as long as the pass itself for a small model, so the slots sample
	// side by side.
	kernels.Parallel(len(b.ready), b.sampleReady)
	for _, i := range b.ready {
		b.emit(&b.slots[i])
	}
	return b.events, nil
}

// sampleRange samples the next token of the ready slots b.ready[lo:hi]
// from their logits, each with its own sampler.
func (b *Batch) sampleRange(lo, hi int) {
	for k := lo; k < hi; k++ {
		q := &b.slots[b.ready[k]]
		logits := b.slotLogits(k)
		if q.drawErr = checkLogits(logits, q.pos-1); q.drawErr == nil {
			q.drawn = q.sampler.token(b.m.sampleable(logits), &q.opts)
		}
	}
}

// begin puts request req into free slot i: its prompt (or BOS), its
// options, its sampler seeded and its penalty window filled.
func (b *Batch) begin(i, req int, r *BatchRequest) {
	prompt := b.m.prompt(r.Prompt)
	b.start(i, req, prompt)
	q := &b.slots[i]
	q.opts = r.GenerateOptions
	q.sampler.begin(prompt, &q.opts.SampleOptions, q.cache.capacity)
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

// emit adds the event of slot q's sampled token, then ends the sequence
// where Session.Generate would, freeing the slot.
func (b *Batch) emit(q *slot) {
	seq, opts := q.req, &q.opts
	end := func(err error) {
		q.req = -1
		b.events = append(b.events, BatchEvent{Seq: seq, Done: true, Err: err, Stats: q.stats})
	}
	if q.drawErr != nil {
		end(q.drawErr)
		return
	}
	tok := q.drawn
	if b.m.cfg.IsEnd(tok.ID) && !opts.IgnoreEOS {
		end(nil)
		return
	}
	b.events = append(b.events, BatchEvent{Seq: seq, Token: tok})
	q.made++
	limit := b.limit()
	switch {
	case opts.MaxTokens != 0 && q.made == opts.MaxTokens:
		end(nil)
	case opts.MaxTokens == 0 && q.pos >= q.cache.capacity:
		end(nil) // one context's worth
	case limit != math.MaxInt && q.pos >= limit:
		end(fmt.Errorf("generated %d of %d tokens: the context holds %d positions (%s positions, no context shift in a batch): %w",
			q.made, opts.MaxTokens, limit, b.m.cfg.Arch.Positions, ErrContextFull))
	default:
		q.next = tok.ID
	}
}
