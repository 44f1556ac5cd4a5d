package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeText writes text to a file of the test's temporary folder.
func writeText(t *testing.T, text string) string {
	name := filepath.Join(t.TempDir(), "text.txt")
	require.NoError(t, os.WriteFile(name, []byte(text), 0o644))
	return name
}

// TestScoreChunks: score --ctx N on a text past the demo's 256 positions
// prints llama-perplexity's running figures on stderr, one per chunk, and
// the estimate with the tokens predicted (N/2−1 of each chunk of N) and
// tokens/s; --json has the same figures; --stride S slides windows and
// predicts every token but the first. The figures themselves are checked
// against a float64 reference by runtime's TestPerplexityMatchesReference.
func TestScoreChunks(t *testing.T) {
	text := strings.Repeat("The man walked into the room and sat down by the fire. ", 60)
	file := writeText(t, text)
	code, out, errOut := runCLI("", "tokenize", "--json", file)
	require.Equal(t, 0, code, errOut)
	var toks struct{ Tokens []int }
	require.NoError(t, json.Unmarshal([]byte(out), &toks))
	n := len(toks.Tokens)
	require.Greater(t, n, 256)

	code, out, errOut = runCLI("", "score", file)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, fmt.Sprintf("score: %d tokens: the context holds 256 positions", n))
	assert.Contains(t, errOut, "--ctx N scores a longer text in chunks of N")

	code, out, errOut = runCLI("", "score", "--ctx", "64", file)
	require.Equal(t, 0, code, errOut)
	chunks := n / 64
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	require.Len(t, lines, 2, errOut)
	assert.Equal(t, fmt.Sprintf("perplexity: %d tokens, %d chunks of 64 tokens, the second half of each predicted", n, chunks), lines[0])
	assert.Equal(t, chunks, strings.Count(lines[1], ","))
	assert.True(t, strings.HasPrefix(lines[1], "[1]"), lines[1])
	assert.Contains(t, lines[1], fmt.Sprintf(",[%d]", chunks))
	assert.Regexp(t, fmt.Sprintf(`^Final estimate: PPL = [0-9.]+ \+/- [0-9.]+  \(%d tokens predicted of %d, %d chunks; [0-9.]+ tokens/s\)\n$`, chunks*31, n, chunks), out)

	var res chunkScore
	code, out, errOut = runCLI("", "score", "-c", "64", "--json", file)
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, chunkScore{Tokens: n, Chunks: chunks, Scored: chunks * 31}, chunkScore{Tokens: res.Tokens, Chunks: res.Chunks, Scored: res.Scored})
	assert.Contains(t, lines[1], fmt.Sprintf("[%d]%.4f,", chunks, res.Perplexity))
	assert.Positive(t, res.TokensPerS)

	code, out, errOut = runCLI("", "score", "--ctx", "64", "--stride", "32", "--json", file)
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, n-1, res.Scored)
	assert.Equal(t, (n-64+31)/32+1, res.Chunks)

	code, _, errOut = runCLI("", "score", "--stride", "3", file)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--stride needs --ctx N")
	code, _, errOut = runCLI("", "score", "--ctx", "300", file)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "session capacity 300")
	code, _, errOut = runCLI("", "score", "--ctx", "64", "--stride", "65", file)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "perplexity stride 65: want 1..64")
}

// TestScoreAndTokenizeTakeText: -p TEXT is the text, as for run; the plain
// score says the first of N tokens is given.
func TestScoreAndTokenizeTakeText(t *testing.T) {
	code, out, errOut := runCLI("", "tokenize", "-m", gpt2Dir, "-p", "Hello world")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "15496 995\n", out)
	code, out, errOut = runCLI("", "tokenize", "--prompt", "")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "\n", out)

	code, out, errOut = runCLI("", "score", "-p", "The man walked into the room.")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `^tokens 7 \(6 predicted: the first is given\)  log-likelihood -[0-9.]+  perplexity [0-9.]+\n$`, out)
	code, _, errOut = runCLI("", "score", "-p", "x", writeText(t, "y"))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "give one of FILE, -p TEXT and --lines FILE")
}
