package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadRequests: every malformed or out-of-range request is a 400 with
// OpenAI's error object, naming the field at fault.
func TestBadRequests(t *testing.T) {
	ts := newTestServer(t, Config{MaxBodyBytes: 4096, MaxTokens: 100})
	long := strings.Repeat("word ", 300) // over the demo's 256 positions
	for _, c := range []struct {
		name, path string
		body       any
		param      string // "" when the error is about the request as a whole
		message    string
	}{
		{"body over the limit", "/v1/completions", `{"prompt": "` + strings.Repeat("x", 5000) + `"}`, "", "over 4096 bytes"},
		{"empty body", "/v1/completions", "", "", "empty"},
		{"malformed JSON", "/v1/completions", `{"prompt": "x",`, "", "malformed JSON"},
		{"bad syntax", "/v1/completions", `{"prompt" "x"}`, "", "malformed JSON at byte"},
		{"not an object", "/v1/completions", `[1, 2]`, "", "want an object"},
		{"trailing data", "/v1/completions", `{"prompt": "x"} {}`, "", "more after"},
		{"max_tokens a string", "/v1/completions", `{"prompt": "x", "max_tokens": "ten"}`, "max_tokens", "want an integer"},
		{"temperature a string", "/v1/completions", `{"prompt": "x", "temperature": "hot"}`, "temperature", "want a number"},
		{"stream a string", "/v1/completions", `{"prompt": "x", "stream": "yes"}`, "stream", "want true or false"},
		{"include_usage a number", "/v1/completions", `{"prompt": "x", "stream": true, "stream_options": {"include_usage": 1}}`, "stream_options.include_usage", "true or false"},
		{"stop a number", "/v1/completions", `{"prompt": "x", "stop": 5}`, "stop", "string or an array"},
		{"prompt an object", "/v1/completions", `{"prompt": {"text": "x"}}`, "prompt", "want a string"},
		{"seed a string", "/v1/completions", `{"prompt": "x", "seed": "abc"}`, "seed", "want an integer"},
		{"n of 2", "/v1/completions", obj{"prompt": "x", "n": 2}, "n", "only 1"},
		{"two prompts", "/v1/completions", obj{"prompt": []string{"a", "b"}}, "prompt", "one prompt"},
		{"temperature 3", "/v1/completions", obj{"prompt": "x", "temperature": 3}, "temperature", "0 to 2"},
		{"top_p 2", "/v1/completions", obj{"prompt": "x", "top_p": 2}, "top_p", "0 to 1"},
		{"min_p -1", "/v1/completions", obj{"prompt": "x", "min_p": -1}, "min_p", "0 to 1"},
		{"top_k -2", "/v1/completions", obj{"prompt": "x", "top_k": -2}, "top_k", "0 or more"},
		{"presence_penalty 5", "/v1/completions", obj{"prompt": "x", "presence_penalty": 5}, "presence_penalty", "-2 to 2"},
		{"repetition_penalty 0", "/v1/completions", obj{"prompt": "x", "repetition_penalty": 0}, "repetition_penalty", "want a number"},
		{"five stops", "/v1/completions", obj{"prompt": "x", "stop": []string{"a", "b", "c", "d", "e"}}, "stop", "at most 4"},
		{"logprobs 30", "/v1/completions", obj{"prompt": "x", "logprobs": 30}, "logprobs", "0 to 20"},
		{"echo", "/v1/completions", obj{"prompt": "x", "echo": true}, "echo", "not supported"},
		{"best_of", "/v1/completions", obj{"prompt": "x", "best_of": 3}, "best_of", "only 1"},
		{"logit_bias", "/v1/completions", obj{"prompt": "x", "logit_bias": obj{"50256": -100}}, "logit_bias", "not supported"},
		{"stream_options without stream", "/v1/completions", obj{"prompt": "x", "stream_options": obj{"include_usage": true}}, "stream_options", "only allowed when stream"},
		{"a token outside the vocabulary", "/v1/completions", obj{"prompt": []int{1, 60000}}, "prompt", "outside the vocabulary"},
		{"prompt longer than the context", "/v1/completions", obj{"prompt": long, "max_tokens": 1}, "prompt", "no room"},
		{"max_tokens 0", "/v1/completions", obj{"prompt": "x", "max_tokens": 0}, "max_tokens", "at least 1"},
		{"max_tokens over the limit", "/v1/completions", obj{"prompt": "x", "max_tokens": 101}, "max_tokens", "over the server's limit of 100"},
		{"max_tokens past the context", "/v1/completions", obj{"prompt": strings.Repeat("word ", 200), "max_tokens": 80}, "max_tokens", "do not fit the context of 256"},
		{"no messages", "/v1/chat/completions", obj{"messages": []obj{}}, "messages", "at least one"},
		{"a bad role", "/v1/chat/completions", obj{"messages": []obj{{"role": "robot", "content": "hi"}}}, "messages.0.role", "want system"},
		{"an image part", "/v1/chat/completions", obj{"messages": []obj{{"role": "user", "content": []obj{{"type": "image_url"}}}}}, "messages.content", "only parts of type"},
		{"top_logprobs without logprobs", "/v1/chat/completions", obj{"messages": []obj{{"role": "user", "content": "hi"}}, "top_logprobs": 2}, "top_logprobs", "only allowed when logprobs"},
		{"tools", "/v1/chat/completions", obj{"messages": []obj{{"role": "user", "content": "hi"}}, "tools": []obj{{"type": "function"}}}, "tools", "not supported"},
		{"messages a string", "/v1/chat/completions", `{"messages": "hi"}`, "messages", "want an array"},
		{"content missing its template", "/v1/chat/completions", obj{"messages": []obj{{"role": "user", "content": "hi"}}}, "messages", "no chat template"},
		{"tokenize without content", "/tokenize", obj{}, "content", "required"},
		{"detokenize a bad id", "/detokenize", obj{"tokens": []int{-1}}, "tokens", "outside the vocabulary"},
		{"detokenize strings", "/detokenize", obj{"tokens": []string{"a"}}, "tokens", "want an array of token ids"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := ts.post(t, c.path, c.body)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", body)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			e, ok := decodeJSON(t, body)["error"].(obj)
			require.True(t, ok, "an OpenAI error object: %s", body)
			assert.Equal(t, "invalid_request_error", e["type"])
			assert.Contains(t, e["message"], c.message)
			if c.param == "" {
				assert.Nil(t, e["param"])
			} else {
				assert.Equal(t, c.param, e["param"])
				assert.True(t, strings.HasPrefix(e["message"].(string), c.param+": "), "the message names %s: %s", c.param, e["message"])
			}
			assert.Contains(t, e, "code")
		})
	}
}

// TestRoutes: an unknown path is a 404 and a known one with the wrong
// method a 405, both as OpenAI error objects.
func TestRoutes(t *testing.T) {
	ts := newTestServer(t, Config{})
	resp, body := ts.do(t, "GET", "/v1/nothing", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, decodeJSON(t, body)["error"].(obj)["message"], "/v1/nothing")
	resp, body = ts.do(t, "GET", "/v1/completions", nil, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "POST", resp.Header.Get("Allow"))
	assert.Contains(t, decodeJSON(t, body), "error")
}

// TestAPIKey: with --api-key every endpoint but /health and /metrics wants
// the bearer key.
func TestAPIKey(t *testing.T) {
	ts := newTestServer(t, Config{APIKey: "sk-test-123"})
	req := obj{"prompt": "Hi", "max_tokens": 2}
	for _, h := range []http.Header{nil, {"Authorization": {"Bearer sk-test-12"}}, {"Authorization": {"sk-test-123"}}, {"Authorization": {"Bearer sk-test-1234"}}} {
		resp, body := ts.do(t, "POST", "/v1/completions", req, h)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%v", h)
		assert.Equal(t, "invalid_api_key", decodeJSON(t, body)["error"].(obj)["code"])
		assert.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))
	}
	resp, _ := ts.do(t, "GET", "/v1/models", nil, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	key := http.Header{"Authorization": {"Bearer sk-test-123"}}
	resp, body := ts.do(t, "POST", "/v1/completions", req, key)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	resp, _ = ts.do(t, "GET", "/v1/models", nil, key)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	for _, path := range []string{"/health", "/metrics"} {
		resp, _ := ts.do(t, "GET", path, nil, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
}

// TestHealthWhileLoadingAndDraining: /health and the generation endpoints
// answer 503 until the model is there and once the server drains.
func TestHealthWhileLoadingAndDraining(t *testing.T) {
	s, err := New(Config{Logger: discardLogger()})
	require.NoError(t, err)
	ts := &testServer{Server: s}
	ts.ts = httptestServer(t, s.Handler())
	resp, body := ts.do(t, "GET", "/health", nil, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "model_loading", decodeJSON(t, body)["error"].(obj)["code"])
	resp, _ = ts.post(t, "/v1/completions", obj{"prompt": "x"})
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	resp, _ = ts.do(t, "GET", "/v1/models", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the models list needs no model")

	require.NoError(t, s.Start(demoLM(t)))
	resp, body = ts.do(t, "GET", "/health", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, obj{"status": "ok"}, decodeJSON(t, body))

	s.Drain()
	resp, body = ts.do(t, "GET", "/health", nil, nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "shutting_down", decodeJSON(t, body)["error"].(obj)["code"])
	resp, _ = ts.post(t, "/v1/completions", obj{"prompt": "x"})
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Wait(ctx), "an idle scheduler stops at once")
}
