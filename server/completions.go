package server

import (
	"net/http"
	"time"

	"github.com/goformer/goformer/runtime"
)

// defaultCompletionTokens is max_tokens when a completion request leaves it
// out, as OpenAI's legacy completions have it.
const defaultCompletionTokens = 16

// handleCompletions is POST /v1/completions.
func (s *Server) handleCompletions(w http.ResponseWriter, r *http.Request, e *engine) {
	var req completionRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	g, err := s.checkCompletion(&req, e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !req.Prompt.isIDs {
		recordOf(r).prompt = req.Prompt.text
	}
	j := newJob(r.Context(), runtime.BatchRequest{Prompt: g.prompt, GenerateOptions: g.opts}, newOutput(e.tok, g.stops, g.logprobs))
	f := &completionFormat{id: "cmpl-" + recordOf(r).id, created: time.Now().Unix(), model: s.cfg.ModelName, logprobs: g.logprobs}
	s.respond(w, r, e, j, &g, f)
}

// checkCompletion checks a completion request and encodes its prompt as
// `goformer run` does (runtime.Model.EncodePrompt).
func (s *Server) checkCompletion(req *completionRequest, e *engine) (generation, error) {
	p := &req.Prompt
	switch {
	case p.number != 1:
		return generation{}, fieldError("prompt", "one prompt per request is supported, got %d", p.number)
	case req.Echo:
		return generation{}, fieldError("echo", "not supported")
	case req.Suffix != nil && *req.Suffix != "":
		return generation{}, fieldError("suffix", "not supported")
	case req.BestOf != nil && *req.BestOf != 1:
		return generation{}, fieldError("best_of", "only 1 is supported, got %d", *req.BestOf)
	}
	if req.Logprobs != nil {
		if err := topLogprobsCount("logprobs", *req.Logprobs); err != nil {
			return generation{}, err
		}
	}
	var ids []int
	switch {
	case p.isIDs && len(p.ids) > 0:
		if err := checkIDs("prompt", p.ids, e.tok.VocabSize()); err != nil {
			return generation{}, err
		}
		ids = p.ids
	default:
		ids = e.m.EncodePrompt(p.text)
	}
	g, err := req.check(ids, "max_tokens", req.MaxTokens, defaultCompletionTokens, "prompt", s.bounds(e))
	if err != nil {
		return g, err
	}
	if req.Logprobs != nil {
		g.logprobs, g.opts.TopLogprobs = true, *req.Logprobs
	}
	return g, nil
}

// bounds are the limits of e's requests.
func (s *Server) bounds(e *engine) bounds {
	return bounds{maxTokens: s.cfg.MaxTokens, room: e.room}
}

// completionFormat renders /v1/completions.
type completionFormat struct {
	id       string
	created  int64
	model    string
	logprobs bool
}

func (f *completionFormat) response(choices []completionChoice, u *usage) completionResponse {
	return completionResponse{ID: f.id, Object: "text_completion", Created: f.created, Model: f.model, Choices: choices, Usage: u}
}

func (f *completionFormat) start() any { return nil }

func (f *completionFormat) chunk(c chunk) any {
	return f.response([]completionChoice{{Text: c.text, Logprobs: f.logprobsOf(c.tokens)}}, nil)
}

func (f *completionFormat) last(finish string) any {
	return f.response([]completionChoice{{FinishReason: &finish}}, nil)
}

// usage is the stream's last chunk: no choice, only the usage.
func (f *completionFormat) usage(u usage) any { return f.response([]completionChoice{}, &u) }

func (f *completionFormat) whole(text string, tokens []tokenInfo, finish string, u usage) any {
	return f.response([]completionChoice{{Text: text, Logprobs: f.logprobsOf(tokens), FinishReason: &finish}}, &u)
}

// logprobsOf is the legacy logprobs object of tokens, nil when the request
// asked for none.
func (f *completionFormat) logprobsOf(tokens []tokenInfo) *completionLogprobs {
	if !f.logprobs {
		return nil
	}
	lp := &completionLogprobs{Tokens: []string{}, TokenLogprobs: []float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	for _, t := range tokens {
		lp.Tokens = append(lp.Tokens, t.text)
		lp.TokenLogprobs = append(lp.TokenLogprobs, t.logprob)
		lp.TextOffset = append(lp.TextOffset, t.offset)
		top := make(map[string]float64, len(t.top))
		for _, tt := range t.top {
			if _, seen := top[tt.text]; !seen {
				top[tt.text] = tt.logprob
			}
		}
		lp.TopLogprobs = append(lp.TopLogprobs, top)
	}
	return lp
}
