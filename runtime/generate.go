package runtime

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"time"
)

// GenerateOptions configure Generate.
type GenerateOptions struct {
	SampleOptions
	// MaxTokens is the most tokens to generate (0: until the session has
	// processed as many tokens as its capacity; negative: ErrBadOptions). A session that slides
	// (RoPE) or shifts its context (SessionOptions.ContextShift) generates
	// any number in fixed memory; others end with ErrContextFull at their
	// limit.
	MaxTokens int
	// IgnoreEOS keeps generating past the end-of-text token.
	IgnoreEOS bool
	// TopLogprobs, when > 0, lists that many most likely tokens at each step.
	TopLogprobs int
	// Continue prefills the prompt after the tokens the session holds
	// (see Session.Rewind) instead of starting a new sequence: a chat's
	// next turn. The prompt must not be empty. The session then holds the
	// generated tokens too, except one that ends generation and the last
	// of MaxTokens, neither of which is run.
	Continue bool
}

// ErrBadOptions is a GenerateOptions field out of range; the wrapping
// error names it.
var ErrBadOptions = errors.New("bad generate options")

// check reports a field out of range.
func (o *GenerateOptions) check() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("GenerateOptions.%s is %v, want %s: %w", field, v, want, ErrBadOptions)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case o.MaxTokens < 0:
		return bad("MaxTokens", o.MaxTokens, "≥ 0 (0: one context's worth)")
	case !(o.MinP >= 0 && o.MinP <= 1):
		return bad("MinP", o.MinP, "0..1")
	case !(o.RepetitionPenalty >= 0) || math.IsInf(o.RepetitionPenalty, 1):
		return bad("RepetitionPenalty", o.RepetitionPenalty, "a finite number ≥ 0 (0 or 1: none)")
	case !finite(o.PresencePenalty):
		return bad("PresencePenalty", o.PresencePenalty, "a finite number")
	case !finite(o.FrequencyPenalty):
		return bad("FrequencyPenalty", o.FrequencyPenalty, "a finite number")
	case o.PenaltyLastN < -1:
		return bad("PenaltyLastN", o.PenaltyLastN, "≥ -1 (0: the default, -1: the whole cache)")
	}
	return nil
}

// Token is one generated token.
type Token struct {
	ID int
	// Logprob is log p(token | everything before it) under the model, at
	// temperature 1, whatever the sampling options, over the ids the
	// tokenizer has (a padded vocabulary's others are never generated).
	Logprob float64
	// TopLogprobs lists the GenerateOptions.TopLogprobs most likely tokens
	// at this step, most likely first. The slice is reused by the next step:
	// copy it to keep it.
	TopLogprobs []TokenLogprob
}

// Stats are the timings of a session's last Generate.
type Stats struct {
	PromptTokens    int
	PrefillDuration time.Duration
	DecodedTokens   int
	DecodeDuration  time.Duration
	// ContextShifts is the number of times the context was full and shifted
	// (SessionOptions.ContextShift); ShiftDuration is their time, a part of
	// DecodeDuration or PrefillDuration.
	ContextShifts int
	ShiftDuration time.Duration
}

// PrefillTokensPerSecond is the prompt's throughput.
func (st Stats) PrefillTokensPerSecond() float64 {
	return float64(st.PromptTokens) / st.PrefillDuration.Seconds()
}

// DecodeTokensPerSecond is the throughput of the single-token steps.
func (st Stats) DecodeTokensPerSecond() float64 {
	return float64(st.DecodedTokens) / st.DecodeDuration.Seconds()
}

// Generate starts a new sequence from prompt (or, with Continue, goes on
// after the tokens the session holds) and yields generated tokens until
// MaxTokens, an end-of-generation token (Config.EndIDs, unless IgnoreEOS)
// or ctx is done.
// An empty prompt starts from the model's beginning-of-text token alone
// (GPT-2's is its end-of-text token), which generates unconditionally, as
// Batch and the goformer command do too.
// It yields a non-nil error at most once, as its last element: ctx.Err(),
// ErrBadOptions for a negative MaxTokens, ErrNonFinite for a NaN or
// infinite logit (never sampled), or ErrContextFull when the sequence
// reaches the context limit before MaxTokens and the session can neither
// slide nor shift. Each step after the
// prompt allocates nothing, context shifts included.
func (s *Session) Generate(ctx context.Context, prompt []int, opts GenerateOptions) iter.Seq2[Token, error] {
	return func(yield func(Token, error) bool) {
		if opts.Continue && len(prompt) == 0 {
			yield(Token{}, fmt.Errorf("GenerateOptions.Continue with an empty prompt: %w", ErrBadOptions))
			return
		}
		if !opts.Continue {
			s.Reset()
			prompt = s.m.prompt(prompt)
		}
		s.stats = Stats{PromptTokens: len(prompt)}
		s.sampler.begin(prompt, &opts.SampleOptions, s.cache.capacity)
		if err := ctx.Err(); err != nil {
			yield(Token{}, err)
			return
		}
		if err := opts.check(); err != nil {
			yield(Token{}, err)
			return
		}
		start := time.Now()
		logits, err := s.Prefill(prompt)
		s.stats.PrefillDuration = time.Since(start)
		if err != nil {
			yield(Token{}, err)
			return
		}
		for n := 0; opts.MaxTokens == 0 || n < opts.MaxTokens; n++ {
			if err := checkLogits(logits, s.pos-1); err != nil {
				yield(Token{}, err)
				return
			}
			tok := s.sampler.token(s.m.sampleable(logits), &opts)
			if s.m.cfg.IsEnd(tok.ID) && !opts.IgnoreEOS {
				return
			}
			if !yield(tok, nil) {
				return
			}
			if opts.MaxTokens != 0 && n+1 == opts.MaxTokens {
				return
			}
			if err := ctx.Err(); err != nil {
				yield(Token{}, err)
				return
			}
			if opts.MaxTokens == 0 && s.pos >= s.cache.capacity {
				return // one context's worth
			}
			if !s.endless() && s.pos >= s.limit() {
				yield(Token{}, fmt.Errorf("generated %d of %d tokens: the context holds %d positions (%s positions, no context shift): %w",
					n+1, opts.MaxTokens, s.limit(), s.m.cfg.Arch.Positions, ErrContextFull))
				return
			}
			start := time.Now()
			logits, err = s.Decode(tok.ID)
			s.stats.DecodeDuration += time.Since(start)
			s.stats.DecodedTokens++
			if err != nil {
				yield(Token{}, err)
				return
			}
		}
	}
}

// prompt is what a generation starts from: the prompt, or the
// beginning-of-text token when it is empty.
func (m *Model) prompt(ids []int) []int {
	if len(ids) == 0 {
		return m.bosPrompt
	}
	return ids
}

// EncodePrompt is the ids a generation from text starts with: the
// tokenizer's EncodePrompt (BOS first where the model expects it), or the
// beginning-of-text token alone for a text of no tokens, from which the
// model generates unconditionally as Generate does from an empty prompt.
// The goformer command and server encode prompts with it, so that the
// prompt tokens they report are the ones run.
func (m *Model) EncodePrompt(text string) []int {
	if ids := m.tok.EncodePrompt(text); len(ids) > 0 {
		return ids
	}
	return []int{m.cfg.BOS}
}

// Stats returns the timings of the last Generate.
func (s *Session) Stats() Stats { return s.stats }

// token samples a token from logits, penalized as opts say, and gives it
// its log-probability under the model. It changes logits while it chooses
// and puts them back.
func (sp *sampler) token(logits []float32, opts *GenerateOptions) Token {
	penalize := len(sp.window.ring) > 0
	if penalize {
		sp.window.penalize(logits, &opts.SampleOptions)
	}
	id := sp.choose(logits, &opts.SampleOptions)
	var lse float64
	if penalize {
		sp.window.restore(logits)
		sp.window.push(id)
		lse = sp.logSumExp(logits)
	} else if opts.greedy() {
		lse = sp.logSumExpFrom(logits, logits[id]) // the largest
	} else {
		lse = sp.logSumExp(logits)
	}
	tok := Token{ID: id, Logprob: float64(logits[id]) - lse}
	if opts.TopLogprobs > 0 {
		tok.TopLogprobs = sp.topLogprobs(logits, opts.TopLogprobs, lse)
	}
	return tok
}
