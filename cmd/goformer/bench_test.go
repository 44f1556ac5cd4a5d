package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/goformer/goformer/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBenchJSON: a short bench of the demo model prints every field, with
// min ≤ median ≤ max.
func TestBenchJSON(t *testing.T) {
	for _, weights := range []string{"f32", "int8"} {
		code, out, errOut := runCLI("", "bench", "--prompt-tokens", "16", "--gen", "4", "--reps", "2", "--weights", weights, "--json")
		require.Equal(t, 0, code, errOut)
		var fields map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &fields))
		for _, k := range []string{"pp_tokens_per_s", "tg_tokens_per_s", "pp_min", "pp_max", "tg_min", "tg_max", "threads", "isa"} {
			assert.Contains(t, fields, k)
		}
		var res benchResult
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		assert.Equal(t, weights, res.Weights)
		assert.Equal(t, kernels.DefaultThreads(), res.Threads)
		assert.NotEmpty(t, res.ISA)
		for _, r := range [][3]float64{{res.PPMin, res.PPTokensPerS, res.PPMax}, {res.TGMin, res.TGTokensPerS, res.TGMax}} {
			assert.Greater(t, r[0], 0.0)
			assert.LessOrEqual(t, r[0], r[1])
			assert.LessOrEqual(t, r[1], r[2])
		}
	}
}

// TestBenchThreads: --json reports the thread count the kernels ran on.
func TestBenchThreads(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		code, out, errOut := runCLI("", "bench", "--prompt-tokens", "8", "--gen", "2", "--reps", "1", "--threads", strconv.Itoa(n), "--json")
		require.Equal(t, 0, code, errOut)
		var res benchResult
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		assert.Equal(t, n, res.Threads)
	}
}

// TestBenchDefaultsFitTheModel: llama-bench's pp512 and tg128 are the
// defaults, capped at the demo model's 256 positions.
func TestBenchDefaultsFitTheModel(t *testing.T) {
	code, out, errOut := runCLI("", "bench", "--reps", "1", "--json")
	require.Equal(t, 0, code, errOut)
	var res benchResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, 256, res.PromptTokens)
	assert.Equal(t, 128, res.GenTokens)
}

func TestBenchText(t *testing.T) {
	code, out, errOut := runCLI("", "bench", "--prompt-tokens", "0", "--gen", "3", "--reps", "1", "--threads", "1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "model demo  weights f32  embeddings int8  threads 1")
	assert.Contains(t, out, "tg3 ")
	assert.NotContains(t, out, "pp")
}

// TestBenchBadFlags: one line on standard error, exit status 2.
func TestBenchBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--reps", "0"},
		{"--gen", "-1"},
		{"--prompt-tokens", "0", "--gen", "0"},
		{"--weights", "q4"},
		{"--embeddings", "f16"},
		{"--threads", "0"},
		{"--threads", "-2"},
		{"--prompt-tokens", "512"}, // the demo model has 256 positions
		{"--bogus"},
		{"extra"},
	} {
		code, out, errOut := runCLI("", append([]string{"bench"}, args...)...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
		assert.Empty(t, out, "%v", args)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "%v: %q", args, errOut)
		assert.True(t, strings.HasPrefix(errOut, "goformer bench: "), "%v: %q", args, errOut)
	}
}

// TestScoreInt8Weights: the demo model's perplexity with int8 weights is
// within 1% of fp32's on the same text.
func TestScoreInt8Weights(t *testing.T) {
	text := strings.Repeat("The jury said it did not find that many of the reports were true. ", 12)
	ppl := map[string]float64{}
	for _, weights := range []string{"f32", "int8"} {
		code, out, errOut := runCLI(text, "score", "--weights", weights, "--embeddings", weights, "--json")
		require.Equal(t, 0, code, errOut)
		var sc struct{ Perplexity float64 }
		require.NoError(t, json.Unmarshal([]byte(out), &sc))
		ppl[weights] = sc.Perplexity
	}
	assert.NotEqual(t, ppl["f32"], ppl["int8"])
	assert.InDelta(t, 1, ppl["int8"]/ppl["f32"], 0.01)
}
