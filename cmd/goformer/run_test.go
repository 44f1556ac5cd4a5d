package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fixturePrompt struct {
	Text     string `json:"text"`
	TokenIDs []int  `json:"token_ids"`
	Greedy   struct {
		TokenIDs []int     `json:"token_ids"`
		Logprobs []float64 `json:"logprobs"`
	} `json:"greedy"`
	LogLikelihood struct {
		Total float64 `json:"total"`
	} `json:"log_likelihood"`
}

func fixturePrompts(t *testing.T) []fixturePrompt {
	raw, err := os.ReadFile(filepath.Join(testkit.Fixture("gpt2-mini"), "reference.json"))
	if err != nil {
		t.Skipf("skipping: the gpt2-mini fixture is not at %s (it lives in the project's shared/ folder)", testkit.Fixture("gpt2-mini"))
	}
	var ref struct{ Prompts []fixturePrompt }
	require.NoError(t, json.Unmarshal(raw, &ref))
	return ref.Prompts
}

// TestRunGreedyMatchesReference: the CLI's greedy path equals PyTorch's.
func TestRunGreedyMatchesReference(t *testing.T) {
	p := fixturePrompts(t)[0]
	code, out, errOut := runCLI("", "run", "-m", testkit.Fixture("gpt2-mini"), "--embeddings", "f32", "--temp", "0", "-n", "24",
		"--ignore-eos", "--top-logprobs", "3", "--json", p.Text)
	require.Equal(t, 0, code, errOut)
	var res runResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, p.TokenIDs, res.PromptTokens)
	assert.Equal(t, p.Greedy.TokenIDs, res.Tokens)
	assert.InDeltaSlice(t, p.Greedy.Logprobs, res.Logprobs, 2e-5)
	require.Len(t, res.TopLogprobs, 24)
	for i, top := range res.TopLogprobs {
		require.Len(t, top, 3)
		assert.Equal(t, res.Tokens[i], top[0].ID, "greedy takes the most likely token")
		assert.InDelta(t, res.Logprobs[i], top[0].Logprob, 1e-12)
		assert.GreaterOrEqual(t, top[0].Logprob, top[1].Logprob)
	}
	assert.NotEmpty(t, res.ISA)
	assert.Greater(t, res.DecodeTokensPerS, 0.0)
}

func TestScoreMatchesReference(t *testing.T) {
	for _, p := range fixturePrompts(t)[:3] {
		code, out, errOut := runCLI(p.Text, "score", "-m", testkit.Fixture("gpt2-mini"), "--embeddings", "f32", "--json")
		require.Equal(t, 0, code, errOut)
		var sc struct {
			Tokens        int     `json:"tokens"`
			LogLikelihood float64 `json:"log_likelihood"`
			Perplexity    float64 `json:"perplexity"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &sc))
		assert.Equal(t, len(p.TokenIDs), sc.Tokens)
		assert.InDelta(t, p.LogLikelihood.Total, sc.LogLikelihood, 1e-4)
	}
}

// TestRunDemo: with no -m, the demo model built into the binary answers.
func TestRunDemo(t *testing.T) {
	code, out, errOut := runCLI("", "run", "-n", "12", "--seed", "1", "The meaning of life is")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "The meaning of life is"), out)
	assert.Greater(t, len(out), len("The meaning of life is")+5)

	// Reproducible with a seed; the prompt may come from standard input.
	_, again, _ := runCLI("The meaning of life is", "run", "-n", "12", "--seed", "1")
	assert.Equal(t, out, again)
}

// TestRunErrors: one line on stderr naming the problem, a non-zero exit
// status, no stack trace.
func TestRunErrors(t *testing.T) {
	long := strings.Repeat("word ", 300)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"run", "--frobnicate", "x"}, 2, "flag provided but not defined: --frobnicate"},
		{"bad -n", []string{"run", "-n", "0", "x"}, 2, "-n must be at least 1"},
		{"bad top-p", []string{"run", "--top-p", "1.5", "x"}, 2, "--top-p must be in (0, 1]"},
		{"NaN top-p", []string{"run", "--top-p", "NaN", "x"}, 2, "--top-p must be in (0, 1]"},
		{"NaN temp", []string{"run", "--temp", "NaN", "x"}, 2, "--temp must be a finite number ≥ 0"},
		{"infinite temp", []string{"run", "--temp", "Inf", "x"}, 2, "--temp must be a finite number ≥ 0"},
		{"bad embeddings", []string{"run", "--embeddings", "int4", "x"}, 2, `unknown embeddings "int4"`},
		{"missing model", []string{"run", "-m", "/nonexistent/model", "x"}, 1, "/nonexistent/model"},
		{"prompt too long", []string{"run", long}, 1, "context full"},
		{"score too long", []string{"score", "-"}, 1, "context full"},
		{"score missing file", []string{"score", "/nonexistent/text.txt"}, 1, "/nonexistent/text.txt"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(long, c.args...)
			assert.Equal(t, c.code, code)
			assert.Contains(t, errOut, c.want)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
			assert.NotContains(t, errOut, "goroutine")
			assert.Empty(t, out)
		})
	}
}

// TestRunPastTheContext: the demo model has 256 learned positions. Without
// --context-shift, -n 1000 stops at them with an error naming 256; with it,
// all 1000 tokens come out in one stream.
func TestRunPastTheContext(t *testing.T) {
	code, out, errOut := runCLI("", "run", "-n", "1000", "--ignore-eos", "--seed", "1", "The")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "the context holds 256 positions")
	assert.Contains(t, errOut, "--context-shift")
	assert.True(t, strings.HasPrefix(out, "The"), "the text up to the limit is printed")

	code, out, errOut = runCLI("", "run", "-n", "1000", "--ignore-eos", "--context-shift", "--keep", "4", "--seed", "1", "--json", "The")
	require.Equal(t, 0, code, errOut)
	var res runResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Len(t, res.Tokens, 1000)
	assert.Equal(t, 6, res.ContextShifts, "256 positions, then a shift every 126 tokens")

	code, out, errOut = runCLI("", "run", "-n", "100", "--ignore-eos", "--ctx", "40", "--context-shift", "--seed", "1", "--json", "The")
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Len(t, res.Tokens, 100)
	assert.Positive(t, res.ContextShifts)

	code, _, errOut = runCLI("", "run", "--ctx", "300", "The")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "session capacity 300: want 1..256")
	code, _, errOut = runCLI("", "run", "--ctx", "40", "--keep", "39", "--context-shift", "The")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "session keep 39: want 0..38")
}

// fullWriter accepts room bytes, then fails as a full disk does.
type fullWriter struct{ room int }

var errDiskFull = errors.New("write /dev/stdout: no space left on device")

func (w *fullWriter) Write(p []byte) (int, error) {
	if len(p) > w.room {
		n := w.room
		w.room = 0
		return n, errDiskFull
	}
	w.room -= len(p)
	return len(p), nil
}

// TestRunReportsWriteErrors: when standard output cannot be written, run
// says so in one line and exits with status 1, whether the disk is full
// from the start or fills while the text streams, in text and --json modes.
func TestRunReportsWriteErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		room int
		args []string
	}{
		{"text, full at once", 0, nil},
		{"text, full mid-stream", 30, nil},
		{"json", 0, []string{"--json"}},
		{"json, partly written", 20, []string{"--json"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var errOut bytes.Buffer
			args := append([]string{"run", "-n", "50", "--ignore-eos", "--seed", "1"}, c.args...)
			code := run(context.Background(), append(args, "Hello"), strings.NewReader(""), &fullWriter{room: c.room}, &errOut)
			assert.Equal(t, 1, code)
			assert.Equal(t, "goformer run: "+errDiskFull.Error()+"\n", errOut.String())
		})
	}
}

// TestRunStreamingKeepsNothing: streaming run (no --json) prints each token
// as it comes and keeps none of what only --json prints: with
// --top-logprobs 5000 it allocates about what it does without (before, it
// kept a copy of every list: 80 kB a token).
func TestRunStreamingKeepsNothing(t *testing.T) {
	allocated := func(args ...string) uint64 {
		var before, after goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		// Standard error gets --top-logprobs' lines: discarded, so that
		// only what run itself allocates counts.
		var out bytes.Buffer
		code := run(context.Background(), append([]string{"run", "-n", "400", "--ignore-eos", "--context-shift", "--seed", "1"}, args...),
			strings.NewReader(""), &out, io.Discard)
		goruntime.ReadMemStats(&after)
		require.Equal(t, 0, code)
		require.True(t, strings.HasPrefix(out.String(), "Hello"))
		return after.TotalAlloc - before.TotalAlloc
	}
	plain := allocated("Hello")
	withTop := allocated("--top-logprobs", "5000", "Hello")
	assert.Less(t, withTop, plain+4<<20, "allocated %d bytes with --top-logprobs, %d without", withTop, plain)
}

// TestRunJSONReportsSeedAndFinish: --json names the seed a random run used
// (and --seed with it repeats the run), why it ended, and the text of each
// top-logprobs token.
func TestRunJSONReportsSeedAndFinish(t *testing.T) {
	decode := func(args ...string) runResult {
		code, out, errOut := runCLI("", append([]string{"run", "--json"}, args...)...)
		require.Equal(t, 0, code, errOut)
		var res runResult
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		return res
	}
	random := decode("-n", "12", "--ignore-eos", "--top-logprobs", "2", "The meaning of life is")
	assert.Equal(t, "length", random.FinishReason)
	again := decode("-n", "12", "--ignore-eos", "--top-logprobs", "2", "--seed", strconv.FormatUint(random.Seed, 10), "The meaning of life is")
	assert.Equal(t, random.Tokens, again.Tokens, "the reported seed repeats the run")
	assert.Equal(t, random.Seed, again.Seed)
	require.Len(t, random.TopLogprobs, 12)
	tok, err := loadTokenizer("")
	require.NoError(t, err)
	for _, top := range random.TopLogprobs {
		for _, tl := range top {
			want, err := tok.Decode([]int{tl.ID})
			require.NoError(t, err)
			assert.Equal(t, strings.ToValidUTF8(want, "\uFFFD"), tl.Text)
		}
	}
	assert.Equal(t, " the", random.TopLogprobs[0][0].Text, "the demo's most likely first token")

	// This seed samples the end of text after 78 tokens (with the int16
	// tied logits); past the 256 positions the end is the context's.
	stop := decode("-n", "250", "--temp", "1.2", "--top-k", "0", "--top-p", "1", "--seed", "2", "The end.")
	assert.Equal(t, "stop", stop.FinishReason)
	assert.Len(t, stop.Tokens, 78)
	assert.Equal(t, uint64(0), decode("--temp", "0", "-n", "1", "--seed", "0", "Hi").Seed)

	code, out, _ := runCLI("", "run", "--json", "-n", "300", "--ignore-eos", "The")
	assert.Equal(t, 1, code)
	var full runResult
	require.NoError(t, json.Unmarshal([]byte(out), &full))
	assert.Equal(t, "context", full.FinishReason)
	assert.Len(t, full.Tokens, 256, "the last token needs no position")
}

// TestRunTopLogprobsText: --top-logprobs without --json prints a line per
// generated token on stderr, the token then the K most likely, and leaves
// standard output the text.
func TestRunTopLogprobsText(t *testing.T) {
	code, out, errOut := runCLI("", "run", "--temp", "0", "-n", "3", "--top-logprobs", "2", "The meaning of life is")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "The meaning of life is the world.\n", out)
	assert.Equal(t, `1 " the" -2.78 | top: " the" -2.78, " a" -2.96
2 " world" -3.69 | top: " world" -3.69, " same" -4.54
3 "." -1.49 | top: "." -1.49, " of" -2.28
`, errOut)
}
