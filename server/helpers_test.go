package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goformer/goformer/model/demo"
	"github.com/goformer/goformer/runtime"
	"github.com/stretchr/testify/require"
)

var (
	demoOnce  sync.Once
	demoModel *runtime.Model
	demoErr   error
)

// demoLM is the demo model built into goformer, loaded once: a Model is
// read-only and every test server gets its own Batch on it.
func demoLM(t testing.TB) *runtime.Model {
	demoOnce.Do(func() { demoModel, demoErr = runtime.LoadFS(demo.FS, runtime.Options{}) })
	require.NoError(t, demoErr)
	return demoModel
}

// testServer is a started Server on the demo model behind an httptest
// server on 127.0.0.1.
type testServer struct {
	*Server
	ts   *httptest.Server
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer for a logger that handlers write from many
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newTestServer starts a server with cfg (8 slots, a queue of 64 and a
// 10 s timeout where cfg leaves them out). It is stopped when the test ends.
func newTestServer(t testing.TB, cfg Config) *testServer {
	logs := &syncBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = 64
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.ModelName == "" {
		cfg.ModelName = "demo"
	}
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Start(demoLM(t)))
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Abort()
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, s.Wait(ctx))
	})
	return &testServer{Server: s, ts: ts, logs: logs}
}

// post sends body (a string, or a value marshalled to JSON) to path.
func (ts *testServer) post(t testing.TB, path string, body any) (*http.Response, []byte) {
	t.Helper()
	return ts.do(t, http.MethodPost, path, body, nil)
}

func (ts *testServer) do(t testing.TB, method, path string, body any, header http.Header) (*http.Response, []byte) {
	t.Helper()
	resp := ts.send(t, context.Background(), method, path, body, header)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// send starts a request and returns the response unread.
func (ts *testServer) send(t testing.TB, ctx context.Context, method, path string, body any, header http.Header) *http.Response {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, ts.ts.URL+path, r)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := ts.ts.Client().Do(req)
	require.NoError(t, err)
	return resp
}

// obj is a JSON object as a test reads it.
type obj = map[string]any

func decodeJSON(t testing.TB, b []byte) obj {
	t.Helper()
	var v obj
	require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	return v
}

// readEvents reads a server-sent event stream to its end: the JSON of each
// "data:" line, and whether it ended with [DONE].
func readEvents(t testing.TB, body io.Reader) (events []obj, done bool) {
	t.Helper()
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		require.True(t, ok, "not an event line: %q", line)
		require.False(t, done, "an event after [DONE]")
		if data == "[DONE]" {
			done = true
			continue
		}
		events = append(events, decodeJSON(t, []byte(data)))
	}
	return events, done
}

// streamText is the concatenated text of a completion stream's chunks,
// and the finish_reason of its last choice.
func streamText(t testing.TB, events []obj) (text, finish string) {
	t.Helper()
	for _, ev := range events {
		require.NotContains(t, ev, "error", "an error event")
		for _, c := range ev["choices"].([]any) {
			ch := c.(obj)
			if s, ok := ch["text"].(string); ok {
				text += s
			}
			if d, ok := ch["delta"].(obj); ok {
				if s, ok := d["content"].(string); ok {
					text += s
				}
			}
			if f, ok := ch["finish_reason"].(string); ok {
				finish = f
			}
		}
	}
	return text, finish
}

// alone is what a Session generates for prompt with opts: the reference
// the server must equal.
func alone(t testing.TB, m *runtime.Model, prompt []int, opts runtime.GenerateOptions) (ids []int, logprobs []float64) {
	t.Helper()
	s, err := m.NewSession(runtime.SessionOptions{})
	require.NoError(t, err)
	for tok, err := range s.Generate(context.Background(), prompt, opts) {
		if err != nil {
			require.ErrorIs(t, err, runtime.ErrContextFull)
			break
		}
		ids = append(ids, tok.ID)
		logprobs = append(logprobs, tok.Logprob)
	}
	return ids, logprobs
}

// aloneText is alone's text for a prompt encoded as the server does.
func aloneText(t testing.TB, m *runtime.Model, prompt string, opts runtime.GenerateOptions) string {
	t.Helper()
	ids, _ := alone(t, m, m.EncodePrompt(prompt), opts)
	text, err := m.Tokenizer().Decode(ids)
	require.NoError(t, err)
	return text
}

// greedy are the options of a greedy request of n tokens.
func greedy(n int) runtime.GenerateOptions { return runtime.GenerateOptions{MaxTokens: n} }

// waitFor polls cond every few milliseconds for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// httptestServer serves h on 127.0.0.1 until the test ends.
func httptestServer(t testing.TB, h http.Handler) *httptest.Server {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

var jsonUnmarshal = json.Unmarshal

// runtimeModel is the model a Run load callback returns.
type runtimeModel = runtime.Model

// runtimeRequest is a greedy request of n tokens past the end of text.
func runtimeRequest(prompt []int, n int) runtime.BatchRequest {
	return runtime.BatchRequest{Prompt: prompt, GenerateOptions: runtime.GenerateOptions{MaxTokens: n, IgnoreEOS: true}}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
