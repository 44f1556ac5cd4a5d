package server

import (
	"math"

	"github.com/goformer/goformer/runtime"
)

// maxStops is how many stop strings a request may give, as OpenAI allows.
const maxStops = 4

// maxTopLogprobs is the most alternatives a token's logprobs may list
// (OpenAI's chat limit).
const maxTopLogprobs = 20

// generation is a checked request: what to run and how to answer.
type generation struct {
	prompt       []int
	opts         runtime.GenerateOptions
	stops        []string
	logprobs     bool
	stream       bool
	includeUsage bool
}

// bounds are the limits a request is checked against.
type bounds struct {
	maxTokens int // the most tokens a request may ask for (--max-tokens)
	room      int // the most positions a sequence holds, prompt included (math.MaxInt when it slides)
}

// check turns the sampling fields into runtime options for prompt. The
// field that sets the number of tokens is maxField (max_tokens or
// max_completion_tokens); when the request leaves it out, a completion
// gets defaultMax tokens (0: as many as fit), never more than fit.
// promptField names the prompt in errors: prompt or messages.
func (p *samplingParams) check(prompt []int, maxField string, maxTokens *int, defaultMax int, promptField string, b bounds) (generation, error) {
	g := generation{prompt: prompt, stream: p.Stream}
	o := &g.opts
	o.Temperature, o.Seed, o.IgnoreEOS = 1, runtime.RandomSeed(), p.IgnoreEOS
	inRange := func(field string, v *float64, lo, hi float64) error {
		if v != nil && !(*v >= lo && *v <= hi) {
			return fieldError(field, "want a number from %g to %g, got %g", lo, hi, *v)
		}
		return nil
	}
	for _, err := range []error{
		inRange("temperature", p.Temperature, 0, 2),
		inRange("top_p", p.TopP, 0, 1),
		inRange("min_p", p.MinP, 0, 1),
		inRange("presence_penalty", p.PresencePenalty, -2, 2),
		inRange("frequency_penalty", p.FrequencyPenalty, -2, 2),
		inRange("repetition_penalty", p.RepetitionPenalty, math.SmallestNonzeroFloat64, math.MaxFloat64),
	} {
		if err != nil {
			return g, err
		}
	}
	switch {
	case p.N != nil && *p.N != 1:
		return g, fieldError("n", "only 1 completion per request is supported, got %d", *p.N)
	case p.TopK != nil && *p.TopK < -1:
		return g, fieldError("top_k", "want 0 or more (0 or -1: all tokens), got %d", *p.TopK)
	case p.RepeatLastN != nil && *p.RepeatLastN < -1:
		return g, fieldError("repeat_last_n", "want 0 or more (-1: the whole context), got %d", *p.RepeatLastN)
	case len(p.Stop) > maxStops:
		return g, fieldError("stop", "at most %d stop strings, got %d", maxStops, len(p.Stop))
	case len(p.LogitBias) > 0:
		return g, fieldError("logit_bias", "not supported")
	case p.StreamOptions != nil && !p.Stream:
		return g, fieldError("stream_options", "only allowed when stream is true")
	}
	if p.Temperature != nil {
		o.Temperature = *p.Temperature
	}
	if p.TopP != nil {
		o.TopP = *p.TopP
		if o.TopP == 0 {
			o.TopK = 1 // the smallest set: the most likely token
		}
	}
	if p.TopK != nil && *p.TopK > 0 && o.TopK == 0 {
		o.TopK = *p.TopK
	}
	set := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&o.MinP, p.MinP)
	set(&o.PresencePenalty, p.PresencePenalty)
	set(&o.FrequencyPenalty, p.FrequencyPenalty)
	set(&o.RepetitionPenalty, p.RepetitionPenalty)
	if p.RepeatLastN != nil {
		o.PenaltyLastN = *p.RepeatLastN
	}
	if p.Seed != nil {
		o.Seed = uint64(*p.Seed)
	}
	for _, s := range p.Stop {
		if s != "" {
			g.stops = append(g.stops, s)
		}
	}
	g.includeUsage = p.StreamOptions != nil && p.StreamOptions.IncludeUsage

	if len(prompt) >= b.room {
		return g, fieldError(promptField, "%d tokens leave no room to generate in a context of %d positions (the server's --ctx)", len(prompt), b.room)
	}
	fits := b.maxTokens
	if b.room != math.MaxInt {
		fits = min(fits, b.room-len(prompt))
	}
	switch {
	case maxTokens == nil && defaultMax > 0:
		o.MaxTokens = min(defaultMax, fits)
	case maxTokens == nil:
		o.MaxTokens = fits
	case *maxTokens < 1:
		return g, fieldError(maxField, "want at least 1, got %d", *maxTokens)
	case *maxTokens > b.maxTokens:
		return g, fieldError(maxField, "%d is over the server's limit of %d (--max-tokens)", *maxTokens, b.maxTokens)
	case *maxTokens > fits:
		return g, fieldError(maxField, "%d tokens after a prompt of %d do not fit the context of %d positions (%s)",
			*maxTokens, len(prompt), b.room, "reduce the prompt or max_tokens")
	default:
		o.MaxTokens = *maxTokens
	}
	return g, nil
}

// checkIDs refuses token ids outside the vocabulary.
func checkIDs(field string, ids []int, vocab int) error {
	for i, id := range ids {
		if id < 0 || id >= vocab {
			return fieldError(field, "token %d is %d, outside the vocabulary of %d", i, id, vocab)
		}
	}
	return nil
}

// topLogprobsCount checks a number of top logprobs.
func topLogprobsCount(field string, n int) error {
	if n < 0 || n > maxTopLogprobs {
		return fieldError(field, "want 0 to %d, got %d", maxTopLogprobs, n)
	}
	return nil
}
