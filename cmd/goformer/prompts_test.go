package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
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
// fails in its own line while the others complete, and the command then
// exits with status 1 and counts the failures on stderr.
func TestRunPromptsMatchesAlone(t *testing.T) {
	long := strings.Repeat("word ", 300)
	texts := []string{"The meaning of life is", "", "Once upon a time there was", long, "He said", "In the beginning"}
	flags := []string{"--temp", "0", "-n", "12", "--top-logprobs", "2", "--json"}
	name := writeLines(t, texts...)
	code, out, errOut := runCLI("", append([]string{"run", "--prompts", name, "--batch", "2"}, flags...)...)
	assert.Equal(t, 1, code)
	assert.Equal(t, `goformer run: 1 of 6 prompts failed (see their "error" fields)`+"\n", errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(texts))
	for i, text := range texts {
		var got runResult
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &got), lines[i])
		if i == 3 {
			assert.True(t, strings.HasPrefix(got.Error, name+":4: prompt of "), "the error names the line: %s", got.Error)
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
		assert.Equal(t, "length", got.FinishReason, text)
		assert.Equal(t, want.FinishReason, got.FinishReason, text)
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
	assert.Empty(t, errOut)
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
// gives it alone, in input order, and an error line for a text too short;
// it then exits with status 1 and counts the failures on stderr.
func TestScoreLinesMatchesAlone(t *testing.T) {
	texts := []string{"The man walked into the room and sat down.", "a", "It was a dark and stormy night; the rain fell in torrents.", "Hello"}
	name := writeLines(t, texts...)
	code, out, errOut := runCLI("", "score", "--lines", name, "--batch", "2", "--json", "--embeddings", "f32")
	assert.Equal(t, 1, code)
	assert.Equal(t, `goformer score: 2 of 4 texts failed (see their "error" fields)`+"\n", errOut)
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
			assert.True(t, strings.HasPrefix(got.Error, fmt.Sprintf("%s:%d: ", name, i+1)), "the error names the line: %s", got.Error)
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

// TestLinesExitStatus: run --prompts and score --lines print one line per
// input line, in input order, whether or not some fail. With every line
// done they exit with status 0 and print nothing on stderr; with some
// failed, status 1 and one stderr line counting them.
func TestLinesExitStatus(t *testing.T) {
	long := strings.Repeat("word ", 300) // past the demo model's 256 positions
	runArgs := []string{"run", "--temp", "0", "-n", "3", "--json", "--batch", "2"}
	for _, c := range []struct {
		name    string
		args    []string
		texts   []string
		failing []int  // the lines that fail
		stderr  string // the whole of it
	}{
		{"run all ok", runArgs, []string{"Hello", "", "He said"}, nil, ""},
		{"run some fail", runArgs, []string{long, "Hello", "", long + "word", "He said"}, []int{0, 3},
			`goformer run: 2 of 5 prompts failed (see their "error" fields)` + "\n"},
		{"score all ok", []string{"score", "--json", "--batch", "2"}, []string{"Hello world", "It was a dark and stormy night"}, nil, ""},
		{"score some fail", []string{"score", "--json", "--batch", "2"}, []string{"a", "Hello world", long, "It was", ""}, []int{0, 2, 4},
			`goformer score: 3 of 5 texts failed (see their "error" fields)` + "\n"},
		{"score text some fail", []string{"score", "--batch", "2"}, []string{"Hello world", "a", "It was a dark night"}, []int{1},
			`goformer score: 1 of 3 texts failed (see their "error:" lines)` + "\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			flag := "--prompts"
			if c.args[0] == "score" {
				flag = "--lines"
			}
			code, out, errOut := runCLI("", append(append([]string{}, c.args...), flag, writeLines(t, c.texts...))...)
			if c.failing == nil {
				assert.Equal(t, 0, code)
			} else {
				assert.Equal(t, 1, code)
			}
			assert.Equal(t, c.stderr, errOut)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			require.Len(t, lines, len(c.texts), out)
			for i, text := range c.texts {
				fails := slices.Contains(c.failing, i)
				// The tokenize command's ids tell each line's input apart.
				code, ids, errOut := runCLI(text, "tokenize", "--json")
				require.Equal(t, 0, code, errOut)
				var want struct{ Tokens []int }
				require.NoError(t, json.Unmarshal([]byte(ids), &want))
				switch c.args[0] {
				case "run":
					var got runResult
					require.NoError(t, json.Unmarshal([]byte(lines[i]), &got), lines[i])
					if fails {
						assert.Contains(t, got.Error, fmt.Sprintf("prompt of %d tokens", len(want.Tokens)), "line %d", i)
						continue
					}
					if len(want.Tokens) == 0 {
						want.Tokens = []int{50256} // the end-of-text token
					}
					assert.Empty(t, got.Error, "line %d", i)
					assert.Equal(t, want.Tokens, got.PromptTokens, "line %d", i)
					assert.Len(t, got.Tokens, 3, "line %d", i)
				case "score":
					if !slices.Contains(c.args, "--json") {
						if fails {
							assert.True(t, strings.HasPrefix(lines[i], "error: "), "line %d: %s", i, lines[i])
						} else {
							assert.True(t, strings.HasPrefix(lines[i], fmt.Sprintf("tokens %d ", len(want.Tokens))), "line %d: %s", i, lines[i])
						}
						continue
					}
					var got struct {
						Tokens int    `json:"tokens"`
						Error  string `json:"error"`
					}
					require.NoError(t, json.Unmarshal([]byte(lines[i]), &got), lines[i])
					if fails {
						assert.NotEmpty(t, got.Error, "line %d", i)
						assert.Zero(t, got.Tokens, "line %d", i)
						continue
					}
					assert.Empty(t, got.Error, "line %d", i)
					assert.Equal(t, len(want.Tokens), got.Tokens, "line %d", i)
				}
			}
		})
	}
}

// paddedDemo is the demo model with a tokenizer of its 256 byte tokens
// alone: its 50257 logits are a vocabulary padded far past what the
// tokenizer can decode, which the loader accepts.
func paddedDemo(t *testing.T) string {
	dir := t.TempDir()
	demo, err := filepath.Abs(filepath.Join("..", "..", "model", "demo"))
	require.NoError(t, err)
	for _, name := range []string{"config.json", "model.safetensors"} {
		require.NoError(t, os.Symlink(filepath.Join(demo, name), filepath.Join(dir, name)))
	}
	raw, err := os.ReadFile(filepath.Join(demo, "vocab.json"))
	require.NoError(t, err)
	var vocab map[string]int
	require.NoError(t, json.Unmarshal(raw, &vocab))
	maps.DeleteFunc(vocab, func(_ string, id int) bool { return id >= 256 })
	raw, err = json.Marshal(vocab)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "vocab.json"), raw, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "merges.txt"), nil, 0o644))
	return dir
}

// TestRunPaddedVocabulary: sampling never picks an id the tokenizer lacks,
// so run and run --prompts complete every prompt instead of failing (or,
// for --prompts, losing every later line) on a token they cannot decode.
func TestRunPaddedVocabulary(t *testing.T) {
	dir := paddedDemo(t)
	flags := []string{"-m", dir, "--temp", "1.5", "--top-k", "0", "--top-p", "1", "-n", "16", "--ignore-eos", "--seed", "1", "--json"}
	texts := []string{"Hello", "The man", "It was"}
	code, out, errOut := runCLI("", append([]string{"run", "--prompts", writeLines(t, texts...)}, flags...)...)
	assert.Equal(t, 0, code)
	assert.Empty(t, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(texts), out)
	for i, line := range lines {
		var got runResult
		require.NoError(t, json.Unmarshal([]byte(line), &got), line)
		assert.Empty(t, got.Error, "line %d", i)
		assert.Len(t, got.Tokens, 16, "line %d", i)
		for _, id := range got.Tokens {
			assert.Less(t, id, 256, "line %d", i)
		}
	}
	code, out, errOut = runCLI("", append(append([]string{"run"}, flags...), "Hello")...)
	require.Equal(t, 0, code, errOut)
	var got runResult
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Len(t, got.Tokens, 16)
}

// TestPromptLineKeepsItsError: a result that cannot be printed as JSON (a
// NaN log-probability) becomes an error line naming its input line, so
// that the lines after it are still printed, one per prompt.
func TestPromptLineKeepsItsError(t *testing.T) {
	res := runResult{PromptTokens: []int{1, 2}, Tokens: []int{3}, Logprobs: []float64{math.NaN()}}
	line, ok := promptLine(&res, "p.jsonl:3")
	assert.False(t, ok)
	var got runResult
	require.NoError(t, json.Unmarshal(line, &got), string(line))
	assert.Equal(t, []int{1, 2}, got.PromptTokens)
	assert.True(t, strings.HasPrefix(got.Error, "p.jsonl:3: "), got.Error)
	assert.Contains(t, got.Error, "unsupported value: NaN")
	assert.Equal(t, byte('\n'), line[len(line)-1])

	res.Logprobs = []float64{-1}
	line, ok = promptLine(&res, "p.jsonl:3")
	assert.True(t, ok)
	var fine runResult
	require.NoError(t, json.Unmarshal(line, &fine))
	assert.Empty(t, fine.Error)
}

// cancelOnWrite is standard output that interrupts the command (as Ctrl-C
// does) once the first results have been written to it.
type cancelOnWrite struct {
	bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	defer w.cancel()
	return w.Buffer.Write(p)
}

// TestScoreLinesInterruptedKeepsScored: Ctrl-C during score --lines ends it
// with status 130, and the texts already scored have been printed, in
// input order, as run --prompts keeps its finished lines.
func TestScoreLinesInterruptedKeepsScored(t *testing.T) {
	texts := []string{"The man walked into the room.", "It was a dark night.", "He said hello.", "She sat down.", "The rain fell.", "A dog barked."}
	for _, asJSON := range []bool{false, true} {
		args := []string{"score", "--batch", "2", "--lines", writeLines(t, texts...)}
		if asJSON {
			args = append(args, "--json")
		}
		ctx, cancel := context.WithCancel(context.Background())
		out := &cancelOnWrite{cancel: cancel}
		var errOut bytes.Buffer
		code := run(ctx, args, strings.NewReader(""), out, &errOut)
		assert.Equal(t, 130, code, "json %v", asJSON)
		assert.Equal(t, "goformer score: interrupted\n", errOut.String())
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		assert.NotEmpty(t, out.String(), "json %v: the scored texts are printed", asJSON)
		assert.Less(t, len(lines), len(texts), "json %v: interrupted before the end", asJSON)
		// Each printed line is what the uninterrupted command prints for
		// its text.
		code, all, errAll := runCLI("", args...)
		require.Equal(t, 0, code, errAll)
		assert.Equal(t, strings.Split(all, "\n")[:len(lines)], lines, "json %v", asJSON)
	}
}
