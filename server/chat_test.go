package server

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/goformer/goformer/model/chat"
	"github.com/goformer/goformer/runtime"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// turnTemplate is a chat template for the tests: each message as
// "Role: content" on its own line, then "Assistant:", each turn ended by
// GPT-2's <|endoftext|> special token.
type turnTemplate struct{}

func (turnTemplate) render(msgs []chatMessage) (string, error) {
	var sb strings.Builder
	for _, m := range msgs {
		if m.Role == "tool" {
			return "", errors.New("this template has no tool turns")
		}
		sb.WriteString(strings.ToUpper(m.Role[:1]) + m.Role[1:] + ": " + string(m.Content) + "<|endoftext|>\n")
	}
	sb.WriteString("Assistant:")
	return sb.String(), nil
}

// withChat gives the test server's engine the test template.
func withChat(ts *testServer) *testServer {
	e := *ts.engine.Load()
	e.chat = turnTemplate{}
	ts.engine.Store(&e)
	return ts
}

// TestChatMatchesSession: a chat completion is the rendered conversation's
// completion (its special tokens as their ids), whole and streamed, in
// OpenAI's chat shapes, with the chat logprobs.
func TestChatMatchesSession(t *testing.T) {
	ts := withChat(newTestServer(t, Config{}))
	m := demoLM(t)
	msgs := []obj{
		{"role": "system", "content": "You are terse."},
		{"role": "user", "content": []obj{{"type": "text", "text": "Tell me "}, {"type": "text", "text": "a story."}}},
	}
	rendered := "System: You are terse.<|endoftext|>\nUser: Tell me a story.<|endoftext|>\nAssistant:"
	ids := m.Tokenizer().EncodeChat(rendered)
	require.Contains(t, ids, 50256, "the template's special token is its id")
	want, lps := alone(t, m, ids, greedy(20))
	wantText, err := m.Tokenizer().Decode(want)
	require.NoError(t, err)

	resp, body := ts.post(t, "/v1/chat/completions", obj{"model": "x", "messages": msgs, "max_completion_tokens": 20, "temperature": 0, "logprobs": true, "top_logprobs": 2})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	v := decodeJSON(t, body)
	assert.Equal(t, "chat.completion", v["object"])
	assert.True(t, strings.HasPrefix(v["id"].(string), "chatcmpl-"))
	choice := v["choices"].([]any)[0].(obj)
	msg := choice["message"].(obj)
	assert.Equal(t, "assistant", msg["role"])
	assert.Equal(t, wantText, msg["content"])
	assert.EqualValues(t, len(ids), v["usage"].(obj)["prompt_tokens"])
	content := choice["logprobs"].(obj)["content"].([]any)
	require.Len(t, content, len(want))
	for i, c := range content {
		c := c.(obj)
		piece, _ := m.Tokenizer().Token(want[i])
		assert.Equal(t, string(piece), c["token"])
		assert.InDelta(t, lps[i], c["logprob"], 1e-9)
		assert.Len(t, c["bytes"], len(piece))
		assert.Len(t, c["top_logprobs"], 2)
	}

	resp2 := ts.send(t, context.Background(), "POST", "/v1/chat/completions", obj{"messages": msgs, "max_tokens": 20, "temperature": 0, "stream": true, "stream_options": obj{"include_usage": true}}, nil)
	events, done := readEvents(t, resp2.Body)
	resp2.Body.Close()
	require.True(t, done)
	first := events[0]["choices"].([]any)[0].(obj)["delta"].(obj)
	assert.Equal(t, obj{"role": "assistant", "content": ""}, first, "the first chunk opens the assistant's message")
	for _, ev := range events {
		assert.Equal(t, "chat.completion.chunk", ev["object"])
	}
	text, finish := streamText(t, events)
	assert.Equal(t, wantText, text)
	assert.Equal(t, choice["finish_reason"], finish)
	assert.EqualValues(t, len(ids), events[len(events)-1]["usage"].(obj)["prompt_tokens"])

	resp, body = ts.post(t, "/v1/chat/completions", obj{"messages": []obj{{"role": "tool", "content": "x"}}})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, decodeJSON(t, body)["error"].(obj)["message"], "no tool turns")
}

// TestTokenizeEndpoints: /tokenize and /detokenize as llama-server has
// them.
func TestTokenizeEndpoints(t *testing.T) {
	ts := newTestServer(t, Config{})
	tok := demoLM(t).Tokenizer()
	text := "Hello world<|endoftext|> é"
	resp, body := ts.post(t, "/tokenize", obj{"content": text})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	ids := tok.EncodeSpecial(text)
	assert.Equal(t, toAny(ids), decodeJSON(t, body)["tokens"], "special tokens parsed by default")
	_, body = ts.post(t, "/tokenize", obj{"content": text, "parse_special": false, "add_special": true})
	assert.Equal(t, toAny(tok.Encode(text)), decodeJSON(t, body)["tokens"], "GPT-2 adds no BOS")
	_, body = ts.post(t, "/tokenize", obj{"content": "é", "with_pieces": true})
	pieces := decodeJSON(t, body)["tokens"].([]any)
	var joined []byte
	for _, p := range pieces {
		switch piece := p.(obj)["piece"].(type) {
		case string:
			joined = append(joined, piece...)
		case []any: // a token cut inside a character: its bytes
			for _, b := range piece {
				joined = append(joined, byte(b.(float64)))
			}
		}
	}
	assert.Equal(t, "é", string(joined))
	resp, body = ts.post(t, "/detokenize", obj{"tokens": ids})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, obj{"content": text}, decodeJSON(t, body))
}

func toAny(ids []int) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = float64(id)
	}
	return out
}

// TestModels: GET /v1/models lists the one model.
func TestModels(t *testing.T) {
	ts := newTestServer(t, Config{Slots: 3, ModelName: "demo-7m"})
	resp, body := ts.do(t, "GET", "/v1/models", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	v := decodeJSON(t, body)
	assert.Equal(t, "list", v["object"])
	card := v["data"].([]any)[0].(obj)
	assert.Equal(t, "demo-7m", card["id"])
	assert.Equal(t, "model", card["object"])
	assert.Equal(t, obj{"n_vocab": 50257.0, "n_ctx": 256.0, "n_ctx_train": 256.0, "n_embd": 128.0, "slots": 3.0}, card["meta"])
}

// TestChatWithJinjaTemplate: a real Jinja template (ChatML, from the chat
// package's test data) through Config.ChatTemplate renders what the
// template renders, and the reply is that prompt's completion alone; a
// conversation the template refuses is a 400 naming messages.
func TestChatWithJinjaTemplate(t *testing.T) {
	m := demoLM(t)
	src, err := os.ReadFile("../model/chat/testdata/extra/chatml.jinja")
	require.NoError(t, err)
	tmpl, err := chat.Parse(string(src), m.ChatSpecials())
	require.NoError(t, err)
	ts := newTestServer(t, Config{ChatTemplate: func(*runtime.Model) (*chat.Template, error) { return tmpl, nil }})
	turns := []chat.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hello there"}}
	text, err := tmpl.RenderOptions(turns, chat.Options{AddGenerationPrompt: true, FoldSystem: true})
	require.NoError(t, err)
	require.Contains(t, text, "<|im_start|>assistant")
	want, _ := alone(t, m, m.Tokenizer().EncodeChat(text), greedy(12))
	wantText, err := m.Tokenizer().Decode(want)
	require.NoError(t, err)
	resp, body := ts.post(t, "/v1/chat/completions", obj{"messages": turns, "max_tokens": 12, "temperature": 0})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, wantText, decodeJSON(t, body)["choices"].([]any)[0].(obj)["message"].(obj)["content"])

	// A template that raises an exception on a conversation.
	strict, err := chat.Parse(`{% if messages[0].role != 'user' %}{{ raise_exception('the first message must be the user\'s') }}{% endif %}{{ messages[0].content }}`, m.ChatSpecials())
	require.NoError(t, err)
	ts = newTestServer(t, Config{ChatTemplate: func(*runtime.Model) (*chat.Template, error) { return strict, nil }})
	resp, body = ts.post(t, "/v1/chat/completions", obj{"messages": []obj{{"role": "assistant", "content": "hi"}}})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	e := decodeJSON(t, body)["error"].(obj)
	assert.Equal(t, "messages", e["param"])
	assert.Contains(t, e["message"], "the first message must be the user's")
}
