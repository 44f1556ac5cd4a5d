package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/goformer/goformer/model/chat"
	"github.com/goformer/goformer/runtime"
)

// chatTemplate renders a conversation to the prompt text the model
// continues: the model's chat template, with the assistant's turn opened
// (add_generation_prompt).
type chatTemplate interface {
	render(msgs []chatMessage) (string, error)
}

// modelTemplate is a model's Jinja chat template (package model/chat). A
// template without a system role sees a system message folded into the
// next one, as in goformer chat and llama.cpp.
type modelTemplate struct{ t *chat.Template }

func (mt modelTemplate) render(msgs []chatMessage) (string, error) {
	turns := make([]chat.Message, len(msgs))
	for i, m := range msgs {
		turns[i] = chat.Message{Role: m.Role, Content: string(m.Content)}
	}
	return mt.t.RenderOptions(turns, chat.Options{AddGenerationPrompt: true, FoldSystem: true})
}

// chatMessage is one message of a chat request.
type chatMessage struct {
	Role    string      `json:"role"`
	Content chatContent `json:"content"`
	Name    string      `json:"name,omitempty"`
}

// chatContent is a message's content: a string, or an array of parts of
// which text parts are supported (their texts are joined).
type chatContent string

func (c *chatContent) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*c = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = chatContent(s)
		return nil
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return fieldError("messages.content", "want a string or an array of text parts")
	}
	var sb strings.Builder
	for _, p := range parts {
		if p.Type != "text" {
			return fieldError("messages.content", "only parts of type \"text\" are supported, got %q", p.Type)
		}
		sb.WriteString(p.Text)
	}
	*c = chatContent(sb.String())
	return nil
}

// chatRoles are the roles a message may have.
var chatRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true}

// handleChat is POST /v1/chat/completions.
func (s *Server) handleChat(w http.ResponseWriter, r *http.Request, e *engine) {
	var req chatRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	g, text, err := s.checkChat(&req, e)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recordOf(r).prompt = text
	j := newJob(r.Context(), runtime.BatchRequest{Prompt: g.prompt, GenerateOptions: g.opts}, newOutput(e.tok, g.stops, g.logprobs))
	f := &chatFormat{id: "chatcmpl-" + recordOf(r).id, created: time.Now().Unix(), model: s.cfg.ModelName, logprobs: g.logprobs}
	s.respond(w, r, e, j, &g, f)
}

// checkChat checks a chat request and renders its messages to the prompt.
func (s *Server) checkChat(req *chatRequest, e *engine) (generation, string, error) {
	switch {
	case len(req.Messages) == 0:
		return generation{}, "", fieldError("messages", "want at least one message")
	case len(req.Tools) > 0:
		return generation{}, "", fieldError("tools", "not supported")
	case req.ResponseFormat != nil && req.ResponseFormat.Type != "" && req.ResponseFormat.Type != "text":
		return generation{}, "", fieldError("response_format", "only type \"text\" is supported, got %q", req.ResponseFormat.Type)
	case req.TopLogprobs != nil && !req.Logprobs:
		return generation{}, "", fieldError("top_logprobs", "only allowed when logprobs is true")
	case req.MaxTokens != nil && req.MaxCompletionTokens != nil:
		return generation{}, "", fieldError("max_completion_tokens", "give max_tokens or max_completion_tokens, not both")
	}
	for i, m := range req.Messages {
		if !chatRoles[m.Role] {
			return generation{}, "", fieldError(fmt.Sprintf("messages.%d.role", i), "want system, developer, user, assistant or tool, got %q", m.Role)
		}
	}
	if req.TopLogprobs != nil {
		if err := topLogprobsCount("top_logprobs", *req.TopLogprobs); err != nil {
			return generation{}, "", err
		}
	}
	switch {
	case e.chat == nil && (e.chatErr == nil || errors.Is(e.chatErr, chat.ErrNoTemplate)):
		return generation{}, "", errNoChatTemplate
	case e.chat == nil:
		return generation{}, "", fieldError("messages", "the model's chat template cannot be used: %v", e.chatErr)
	}
	text, err := e.chat.render(req.Messages)
	if err != nil {
		// The template refused the conversation (roles that do not
		// alternate, say) or failed on it: the request's doing.
		return generation{}, "", fieldError("messages", "the model's chat template: %v", err)
	}
	maxField, maxTokens := "max_tokens", req.MaxTokens
	if req.MaxCompletionTokens != nil {
		maxField, maxTokens = "max_completion_tokens", req.MaxCompletionTokens
	}
	g, err := req.check(e.tok.EncodeChat(text), maxField, maxTokens, 0, "messages", s.bounds(e))
	if err != nil {
		return g, text, err
	}
	if req.Logprobs {
		g.logprobs = true
		if req.TopLogprobs != nil {
			g.opts.TopLogprobs = *req.TopLogprobs
		}
	}
	return g, text, nil
}

// chatFormat renders /v1/chat/completions.
type chatFormat struct {
	id       string
	created  int64
	model    string
	logprobs bool
}

func (f *chatFormat) response(object string, choices []chatChoice, u *usage) chatResponse {
	return chatResponse{ID: f.id, Object: object, Created: f.created, Model: f.model, Choices: choices, Usage: u}
}

func (f *chatFormat) start() any {
	empty := ""
	return f.response("chat.completion.chunk", []chatChoice{{Delta: &chatOutput{Role: "assistant", Content: &empty}, Logprobs: f.logprobsOf(nil)}}, nil)
}

func (f *chatFormat) chunk(c chunk) any {
	return f.response("chat.completion.chunk", []chatChoice{{Delta: &chatOutput{Content: &c.text}, Logprobs: f.logprobsOf(c.tokens)}}, nil)
}

func (f *chatFormat) last(finish string) any {
	return f.response("chat.completion.chunk", []chatChoice{{Delta: &chatOutput{}, FinishReason: &finish}}, nil)
}

func (f *chatFormat) usage(u usage) any {
	return f.response("chat.completion.chunk", []chatChoice{}, &u)
}

func (f *chatFormat) whole(text string, tokens []tokenInfo, finish string, u usage) any {
	msg := &chatOutput{Role: "assistant", Content: &text}
	return f.response("chat.completion", []chatChoice{{Message: msg, Logprobs: f.logprobsOf(tokens), FinishReason: &finish}}, &u)
}

// logprobsOf is the chat logprobs object of tokens, nil when the request
// asked for none. Bytes carry a token that ends inside a character.
func (f *chatFormat) logprobsOf(tokens []tokenInfo) *chatLogprobs {
	if !f.logprobs {
		return nil
	}
	lp := &chatLogprobs{Content: []chatTokenLogprob{}}
	for _, t := range tokens {
		top := make([]chatTopLogprob, len(t.top))
		for i, tt := range t.top {
			top[i] = chatTopLogprob{Token: tt.text, Logprob: tt.logprob, Bytes: byteValues(tt.text)}
		}
		lp.Content = append(lp.Content, chatTokenLogprob{Token: t.text, Logprob: t.logprob, Bytes: byteValues(t.text), TopLogprobs: top})
	}
	return lp
}

// byteValues is s's bytes as JSON numbers, as OpenAI's bytes fields are.
func byteValues(s string) []int {
	out := make([]int, len(s))
	for i := range len(s) {
		out[i] = int(s[i])
	}
	return out
}
