package server

import (
	"context"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/goformer/goformer/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testPrompts = []string{
	"The meaning of life is",
	"Once upon a time",
	"",
	"In the year 1961 the committee reported that the county had spent more than it",
	"She said",
}

// TestCompletionsGreedyMatchesSession: greedy completions, whole and
// streamed, are the text a Session generates alone for the same prompt,
// with its usage and finish_reason.
func TestCompletionsGreedyMatchesSession(t *testing.T) {
	ts := newTestServer(t, Config{})
	m := demoLM(t)
	for _, prompt := range testPrompts {
		want := aloneText(t, m, prompt, greedy(24))
		req := obj{"model": "demo", "prompt": prompt, "max_tokens": 24, "temperature": 0}
		resp, body := ts.post(t, "/v1/completions", req)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		v := decodeJSON(t, body)
		assert.Equal(t, "text_completion", v["object"])
		assert.Equal(t, "demo", v["model"])
		assert.True(t, strings.HasPrefix(v["id"].(string), "cmpl-"))
		choice := v["choices"].([]any)[0].(obj)
		assert.Equal(t, want, choice["text"], "prompt %q", prompt)
		assert.EqualValues(t, 0, choice["index"])
		assert.Nil(t, choice["logprobs"])
		u := v["usage"].(obj)
		promptTokens := len(m.EncodePrompt(prompt))
		assert.EqualValues(t, promptTokens, u["prompt_tokens"])
		completion := len(m.Tokenizer().Encode(want)) // the demo's greedy text re-encodes to its tokens
		if choice["finish_reason"] == "length" {
			assert.EqualValues(t, 24, u["completion_tokens"])
		} else {
			assert.Equal(t, "stop", choice["finish_reason"])
			assert.Less(t, completion, 24)
		}
		assert.EqualValues(t, promptTokens+int(u["completion_tokens"].(float64)), u["total_tokens"])

		req["stream"] = true
		resp2 := ts.send(t, context.Background(), "POST", "/v1/completions", req, nil)
		require.Equal(t, http.StatusOK, resp2.StatusCode)
		assert.Equal(t, "text/event-stream", resp2.Header.Get("Content-Type"))
		events, done := readEvents(t, resp2.Body)
		resp2.Body.Close()
		assert.True(t, done, "the stream ends with [DONE]")
		text, finish := streamText(t, events)
		assert.Equal(t, want, text, "streamed, prompt %q", prompt)
		assert.Equal(t, choice["finish_reason"], finish)
		for _, ev := range events {
			assert.NotContains(t, ev, "usage", "no usage without stream_options.include_usage")
		}
	}
}

// TestCompletionsTokenPrompt: a prompt of token ids, and the batch form of
// one prompt, are the same request as its text.
func TestCompletionsTokenPrompt(t *testing.T) {
	ts := newTestServer(t, Config{})
	m := demoLM(t)
	ids := m.EncodePrompt(testPrompts[0])
	want := aloneText(t, m, testPrompts[0], greedy(10))
	for _, prompt := range []any{ids, []any{ids}, []string{testPrompts[0]}} {
		resp, body := ts.post(t, "/v1/completions", obj{"prompt": prompt, "max_tokens": 10, "temperature": 0})
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		assert.Equal(t, want, decodeJSON(t, body)["choices"].([]any)[0].(obj)["text"])
	}
}

// TestCompletionsSampledMatchesSession: with a seed, sampling (temperature,
// top-k, top-p, min-p and the penalties) gives the tokens a Session gives
// with the same options, and its logprobs are the Session's.
func TestCompletionsSampledMatchesSession(t *testing.T) {
	ts := newTestServer(t, Config{})
	m := demoLM(t)
	prompt := testPrompts[1]
	opts := runtime.GenerateOptions{MaxTokens: 30, TopLogprobs: 3, SampleOptions: runtime.SampleOptions{
		Temperature: 0.9, TopK: 50, TopP: 0.95, MinP: 0.02, Seed: 1234,
		PresencePenalty: 0.5, FrequencyPenalty: 0.3, RepetitionPenalty: 1.1, PenaltyLastN: 32,
	}}
	ids, lps := alone(t, m, m.EncodePrompt(prompt), opts)
	want, err := m.Tokenizer().Decode(ids)
	require.NoError(t, err)
	resp, body := ts.post(t, "/v1/completions", obj{
		"prompt": prompt, "max_tokens": 30, "temperature": 0.9, "top_k": 50, "top_p": 0.95, "min_p": 0.02, "seed": 1234,
		"presence_penalty": 0.5, "frequency_penalty": 0.3, "repetition_penalty": 1.1, "repeat_last_n": 32, "logprobs": 3,
	})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	choice := decodeJSON(t, body)["choices"].([]any)[0].(obj)
	assert.Equal(t, want, choice["text"])
	lp := choice["logprobs"].(obj)
	tokens, tokenLogprobs := lp["tokens"].([]any), lp["token_logprobs"].([]any)
	require.Len(t, tokens, len(ids))
	offsets, tops := lp["text_offset"].([]any), lp["top_logprobs"].([]any)
	text := choice["text"].(string)
	for i := range ids {
		piece, _ := m.Tokenizer().Token(ids[i])
		assert.Equal(t, string(piece), tokens[i])
		assert.InDelta(t, lps[i], tokenLogprobs[i], 1e-9)
		assert.Len(t, tops[i], 3)
		off := int(offsets[i].(float64))
		assert.True(t, strings.HasPrefix(text[off:], string(piece)), "token %d at offset %d", i, off)
	}
}

// TestStopStrings: a stop string that spans tokens ends the text before
// it, whole and streamed, with finish_reason "stop"; the stop string is
// never sent, and the logprobs cover the tokens whose text was sent.
func TestStopStrings(t *testing.T) {
	ts := newTestServer(t, Config{})
	m := demoLM(t)
	prompt := testPrompts[0]
	full := aloneText(t, m, prompt, greedy(40))
	// Two characters on each side of a token boundary, a few tokens in.
	ids, _ := alone(t, m, m.EncodePrompt(prompt), greedy(40))
	head, _ := m.Tokenizer().Decode(ids[:3])
	require.Greater(t, len(full), len(head)+3)
	stop := full[len(head)-2 : len(head)+2]
	cut := strings.Index(full, stop)
	require.True(t, cut >= 0 && cut <= len(head)-2)
	for _, stream := range []bool{false, true} {
		req := obj{"prompt": prompt, "max_tokens": 40, "temperature": 0, "stop": []string{"never seen", stop}, "stream": stream, "logprobs": 0}
		resp := ts.send(t, context.Background(), "POST", "/v1/completions", req, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var text, finish string
		var tokens []any
		if stream {
			events, done := readEvents(t, resp.Body)
			assert.True(t, done)
			text, finish = streamText(t, events)
			for _, ev := range events {
				if lp, ok := ev["choices"].([]any)[0].(obj)["logprobs"].(obj); ok {
					tokens = append(tokens, lp["tokens"].([]any)...)
				}
			}
		} else {
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			choice := decodeJSON(t, body)["choices"].([]any)[0].(obj)
			text, finish = choice["text"].(string), choice["finish_reason"].(string)
			tokens = choice["logprobs"].(obj)["tokens"].([]any)
		}
		resp.Body.Close()
		assert.Equal(t, full[:cut], text, "stream %v", stream)
		assert.Equal(t, "stop", finish)
		var joined string
		for _, tok := range tokens {
			joined += tok.(string)
		}
		assert.True(t, strings.HasPrefix(joined, text), "the tokens reported start with the text: %q vs %q", joined, text)
		assert.Less(t, len(joined), len(text)+len(stop), "no token wholly inside the stop string")
	}
	// A stop string that never comes changes nothing.
	resp, body := ts.post(t, "/v1/completions", obj{"prompt": prompt, "max_tokens": 40, "temperature": 0, "stop": "zzzz"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, full, decodeJSON(t, body)["choices"].([]any)[0].(obj)["text"])
	// At the very start: nothing is sent.
	resp, body = ts.post(t, "/v1/completions", obj{"prompt": prompt, "max_tokens": 40, "temperature": 0, "stop": full[:2]})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	choice := decodeJSON(t, body)["choices"].([]any)[0].(obj)
	assert.Equal(t, "", choice["text"])
	assert.Equal(t, "stop", choice["finish_reason"])
}

// TestIncludeUsage: stream_options.include_usage adds a last chunk with no
// choice and the usage, before [DONE].
func TestIncludeUsage(t *testing.T) {
	ts := newTestServer(t, Config{})
	resp := ts.send(t, context.Background(), "POST", "/v1/completions",
		obj{"prompt": "Hello", "max_tokens": 5, "temperature": 0, "ignore_eos": true, "stream": true, "stream_options": obj{"include_usage": true}}, nil)
	events, done := readEvents(t, resp.Body)
	resp.Body.Close()
	require.True(t, done)
	require.GreaterOrEqual(t, len(events), 2)
	last := events[len(events)-1]
	assert.Empty(t, last["choices"])
	assert.Equal(t, obj{"prompt_tokens": 1.0, "completion_tokens": 5.0, "total_tokens": 6.0}, last["usage"])
	_, finish := streamText(t, events)
	assert.Equal(t, "length", finish)
}

// TestLogprobsOfCompletion: logprobs are the model's log-probabilities
// (log p at temperature 1 whatever the sampling), top alternatives sorted,
// the chosen token's logprob at most the best alternative's.
func TestLogprobsOfCompletion(t *testing.T) {
	ts := newTestServer(t, Config{})
	resp, body := ts.post(t, "/v1/completions", obj{"prompt": "The", "max_tokens": 6, "temperature": 0, "logprobs": 5, "ignore_eos": true})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	lp := decodeJSON(t, body)["choices"].([]any)[0].(obj)["logprobs"].(obj)
	for i, top := range lp["top_logprobs"].([]any) {
		best := math.Inf(-1)
		for _, v := range top.(obj) {
			best = math.Max(best, v.(float64))
		}
		// Greedy picks the most likely token.
		assert.InDelta(t, best, lp["token_logprobs"].([]any)[i], 1e-12)
		assert.Len(t, top, 5)
	}
}
