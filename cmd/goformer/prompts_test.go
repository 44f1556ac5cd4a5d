package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeLines writes texts as a file of JSON strings, one per line.
func writeLines(t *testing.T, texts ...string) string {
	var b strings.Builder
	for _, s := range texts {
		out, err := json.Marshal(s)
		require.NoError(t, err)
		b.Write(append(out, '\n'))
	}
	name := filepath.Join(t.TempDir(), "lines.jsonl")
	require.NoError(t, os.WriteFile(name, []byte(b.String()), 0o644))
	return name
}

// TestRunPromptsMatchesAlone: run --prompts on the demo model prints one
// line per prompt, in input order, each what run --json prints for that
// prompt alone (greedy), the empty prompt included; one past the context
// fails in its own line while the others complete.
func TestRunPromptsMatchesAlone(t *testing.T) {
	long := strings.Repeat("word ", 300)
	texts := []string{"The meaning of life is", "", "Once upon a time there was", long, "He said", "In the beginning"}
	flags := []string{"--temp", "0", "-n", "12", "--top-logprobs", "2", "--json"}
	code, out, errOut := runCLI("", append([]string{"run", "--prompts", writeLines(t, texts...), "--batch", "2"}, flags...)...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(texts))
	for i, text := range texts {
		var got runResult
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &got), lines[i])
		if i == 3 {
			assert.Contains(t, got.Error, "256 positions")
			assert.Empty(t, got.Tokens)
			continue
		}
		assert.Empty(t, got.Error, text)
		code, alone, errOut := runCLI("", append(append([]string{"run"}, flags...), text)...)
		require.Equal(t, 0, code, errOut)
		var want runResult
		require.NoError(t, json.Unmarshal([]byte(alone), &want))
		assert.Equal(t, want.PromptTokens, got.PromptTokens, text)
		assert.Equal(t, want.Tokens, got.Tokens, text)
		assert.Equal(t, want.Text, got.Text, text)
		assert.InDeltaSlice(t, want.Logprobs, got.Logprobs, 1e-4, text)
		require.Len(t, got.TopLogprobs, len(want.TopLogprobs))
		assert.Greater(t, got.DecodeTokensPerS, 0.0)
		assert.NotEmpty(t, got.ISA)
	}
}

// TestRunPromptsEmptyLine: an empty prompt line generates unconditionally
// from the end-of-text token, as run "" does, rather than failing.
func TestRunPromptsEmptyLine(t *testing.T) {
	flags := []string{"--temp", "0", "-n", "8", "--json"}
	code, out, errOut := runCLI("", append([]string{"run", "--prompts", writeLines(t, "")}, flags...)...)
	require.Equal(t, 0, code, errOut)
	var got runResult
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Empty(t, got.Error)
	assert.Equal(t, []int{50256}, got.PromptTokens, "GPT-2's <|endoftext|>")
	assert.Len(t, got.Tokens, 8)

	code, alone, errOut := runCLI("", append(append([]string{"run"}, flags...), "")...)
	require.Equal(t, 0, code, errOut)
	var want runResult
	require.NoError(t, json.Unmarshal([]byte(alone), &want), alone)
	assert.Equal(t, want.PromptTokens, got.PromptTokens)
	assert.Equal(t, want.Tokens, got.Tokens)
	assert.Equal(t, want.Text, got.Text)
	assert.InDeltaSlice(t, want.Logprobs, got.Logprobs, 1e-4)
}

func TestRunPromptsErrors(t *testing.T) {
	name := writeLines(t, "a")
	for _, args := range [][]string{
		{"run", "--prompts", name},                     // no --json
		{"run", "--prompts", name, "--json", "PROMPT"}, // both
		{"run", "--prompts", name, "--json", "--batch", "0"},
		{"run", "--prompts", name, "--json", "--context-shift"},
	} {
		code, _, errOut := runCLI("", args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
	code, _, errOut := runCLI("\"ok\"\nnot json\n", "run", "--prompts", "-", "--json")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "-:2: want one JSON string per line")
}

// TestScoreLinesMatchesAlone: score --lines gives each text what score
// gives it alone, in input order, and an error line for a text too short.
func TestScoreLinesMatchesAlone(t *testing.T) {
	texts := []string{"The man walked into the room and sat down.", "a", "It was a dark and stormy night; the rain fell in torrents.", "Hello"}
	code, out, errOut := runCLI("", "score", "--lines", writeLines(t, texts...), "--batch", "2", "--json", "--embeddings", "f32")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(texts))
	for i, text := range texts {
		var got struct {
			Tokens        int     `json:"tokens"`
			LogLikelihood float64 `json:"log_likelihood"`
			Perplexity    float64 `json:"perplexity"`
			Error         string  `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &got))
		if i == 1 || i == 3 {
			assert.Contains(t, got.Error, "at least 2 tokens", text)
			continue
		}
		code, alone, errOut := runCLI(text, "score", "--json", "--embeddings", "f32")
		require.Equal(t, 0, code, errOut)
		var want struct {
			Tokens        int     `json:"tokens"`
			LogLikelihood float64 `json:"log_likelihood"`
		}
		require.NoError(t, json.Unmarshal([]byte(alone), &want))
		assert.Equal(t, want.Tokens, got.Tokens)
		assert.InDelta(t, want.LogLikelihood, got.LogLikelihood, 1e-4)
		assert.Empty(t, got.Error)
	}
}
