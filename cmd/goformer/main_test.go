package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gpt2Dir is the tokenizer test data: GPT-2's vocab.json and merges.txt.
var gpt2Dir = filepath.Join("..", "..", "model", "tokenizer", "testdata")

func runCLI(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTokenizeStdin(t *testing.T) {
	code, out, errOut := runCLI("Hello world", "tokenize", "-m", gpt2Dir)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "15496 995\n", out)

	// Byte for byte: a trailing newline is text too, and so is <|endoftext|>.
	code, out, _ = runCLI("Hello world<|endoftext|>\n", "tokenize", "--json", "-m", gpt2Dir)
	require.Equal(t, 0, code)
	assert.Equal(t, `{"tokens":[15496,995,27,91,437,1659,5239,91,29,198],"tokenizer":"bpe/gpt-2"}`+"\n", out)

	// --special: the special token's text is its id.
	code, out, _ = runCLI("Hello world<|endoftext|>\n", "tokenize", "--special", "-m", gpt2Dir)
	require.Equal(t, 0, code)
	assert.Equal(t, "15496 995 50256 198\n", out)

	code, out, _ = runCLI("", "tokenize", "-json", "-m", gpt2Dir)
	require.Equal(t, 0, code)
	assert.Equal(t, `{"tokens":[],"tokenizer":"bpe/gpt-2"}`+"\n", out)
}

// TestTokenizeDemo: without -m, the tokenizer of the demo model built into
// goformer, which is GPT-2's.
func TestTokenizeDemo(t *testing.T) {
	code, out, errOut := runCLI("Hello world", "tokenize")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "15496 995\n", out)
}

func TestTokenizeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	require.NoError(t, os.WriteFile(path, []byte("a \xff\r\n"), 0o644))
	// Flags after the file work too. 0xFF is invalid UTF-8 and becomes its byte
	// token, 187 ("ÿ" in the byte alphabet).
	code, out, errOut := runCLI("ignored", "tokenize", path, "-m", gpt2Dir, "--json")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, `{"tokens":[64,220,187,201,198],"tokenizer":"bpe/gpt-2"}`+"\n", out)

	code, out, _ = runCLI("from stdin", "tokenize", "-m", gpt2Dir, "-")
	require.Equal(t, 0, code)
	assert.Equal(t, "6738 14367 259\n", out)
}

// TestTokenizeErrors: one line on stderr naming the problem, a non-zero
// exit status, nothing on stdout.
func TestTokenizeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown flag", []string{"tokenize", "-m", gpt2Dir, "--bogus"}, 2, "flag provided but not defined: --bogus"},
		{"two files", []string{"tokenize", "-m", gpt2Dir, "a", "b"}, 2, "one FILE at most"},
		{"missing file", []string{"tokenize", "-m", gpt2Dir, "/nonexistent/in.txt"}, 1, "/nonexistent/in.txt: no such file"},
		{"missing model", []string{"tokenize", "-m", "/nonexistent/model"}, 1, "/nonexistent/model/vocab.json"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	} {
		code, out, errOut := runCLI("x", c.args...)
		assert.Equal(t, c.code, code, c.name)
		assert.Empty(t, out, c.name)
		assert.Contains(t, errOut, c.want, c.name)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "%s: one line: %q", c.name, errOut)
	}
}

func TestTokenizeBadModel(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "vocab.json"), []byte(`{"a": 0,`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "merges.txt"), nil, 0o644))
	code, _, errOut := runCLI("x", "tokenize", "-m", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, filepath.Join(dir, "vocab.json")+":1: malformed JSON")
}

// TestHelp: asked for, help goes to standard output with status 0;
// "goformer help CMD" is CMD's help; each default is printed once.
func TestHelp(t *testing.T) {
	code, out, errOut := runCLI("", "help")
	assert.Equal(t, 0, code)
	assert.Empty(t, errOut)
	assert.Contains(t, out, "tokenize")
	code, out, errOut = runCLI("", "tokenize", "-h")
	assert.Equal(t, 0, code)
	assert.Empty(t, errOut)
	assert.Contains(t, out, "usage: goformer tokenize [-m MODEL] [--special] [--json] [FILE | -p TEXT]")
	for _, args := range [][]string{{"run", "--help"}, {"help", "run"}, {"run", "-h", "Hello"}} {
		code, out, errOut = runCLI("", args...)
		assert.Equal(t, 0, code, args)
		assert.Empty(t, errOut, args)
		assert.True(t, strings.HasPrefix(out, "usage: goformer run "), "%v: %s", args, out)
		assert.Contains(t, out, "--temp", args)
		for _, line := range strings.Split(out, "\n") {
			assert.LessOrEqual(t, strings.Count(line, "(default"), 1, "%v: a default printed twice: %s", args, line)
		}
		assert.Contains(t, out, "-t, --threads N", args)
	}
	code, _, errOut = runCLI("", "help", "frobnicate")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `unknown command "frobnicate"`)
	// With no command at all, the list is a usage error, on stderr.
	code, out, errOut = runCLI("")
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "commands:")
}

// TestUnknownFlagSuggests: a mistyped flag gets one line naming the
// closest flag, not the whole usage.
func TestUnknownFlagSuggests(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--tmp", "0.5", "x"}, "flag provided but not defined: --tmp; did you mean --temp?"},
		{[]string{"run", "--top_k", "5", "x"}, "did you mean --top-k?"},
		{[]string{"score", "--line", "f"}, "did you mean --lines?"},
		{[]string{"tokenize", "-jsn"}, "did you mean --json?"},
	} {
		code, out, errOut := runCLI("", c.args...)
		assert.Equal(t, 2, code, c.args)
		assert.Empty(t, out, c.args)
		assert.Contains(t, errOut, c.want, c.args)
		assert.NotContains(t, errOut, "[-m MODEL]", "%v: not the whole usage", c.args)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "%v: one line: %q", c.args, errOut)
	}
	code, _, errOut := runCLI("", "run", "--frobnicate", "x")
	assert.Equal(t, 2, code)
	assert.NotContains(t, errOut, "did you mean", "nothing is close")
	assert.Contains(t, errOut, "goformer help run")
}

// TestShortForms: llama-cli's -p, -t, -c and -s are run's --prompt,
// --threads, --ctx and --seed.
func TestShortForms(t *testing.T) {
	code, long, errOut := runCLI("", "run", "--seed", "3", "--threads", "1", "--ctx", "64", "-n", "6", "--prompt", "The meaning of life is")
	require.Equal(t, 0, code, errOut)
	code, short, errOut := runCLI("", "run", "-s", "3", "-t", "1", "-c", "64", "-n", "6", "-p", "The meaning of life is")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, long, short)
	code, positional, errOut := runCLI("", "run", "-s", "3", "-t", "1", "-c", "64", "-n", "6", "The meaning of life is")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, long, positional)

	code, _, errOut = runCLI("", "run", "-p", "a", "b")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "not both")
	code, _, errOut = runCLI("", "run", "-c", "300", "x")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--ctx 300")
}

// TestGGUFModel: -m takes a GGUF file wherever it takes a checkpoint
// directory. tokenize reads the tokenizer from its metadata (the ids equal
// those of vocab.json/merges.txt); run and score run its Q8_0 weights.
func TestGGUFModel(t *testing.T) {
	fixture := filepath.Join("..", "..", "..", "shared", "fixtures", "gpt2-mini")
	convert := filepath.Join("..", "..", "..", "shared", "peers", "gguf_convert.py")
	if _, err := os.Stat(convert); err != nil {
		t.Skipf("skipping: %s is absent (it lives in the project's shared/ folder)", convert)
	}
	var py string
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import numpy").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		t.Skip("skipping: no python3 with numpy to run gguf_convert.py")
	}
	path := filepath.Join(t.TempDir(), "mini.gguf")
	out, err := exec.Command(py, convert, fixture, "--type", "q8_0", "-o", path, "--no-check").CombinedOutput()
	require.NoError(t, err, "%s", out)
	text := "Hello world<|endoftext|> it's 2024!\n"
	_, want, _ := runCLI(text, "tokenize", "-m", gpt2Dir)
	code, got, errOut := runCLI(text, "tokenize", "-m", path)
	assert.Equal(t, 0, code, errOut)
	assert.Equal(t, want, got)

	code, got, errOut = runCLI("", "run", "-m", path, "--temp", "0", "-n", "4", "--json", "A small boat")
	require.Equal(t, 0, code, errOut)
	var res runResult
	require.NoError(t, json.Unmarshal([]byte(got), &res))
	assert.Len(t, res.Tokens, 4)

	code, got, errOut = runCLI(text, "score", "-m", path, "--json")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, got, `"log_likelihood":`)
}

func TestTokenizeNotGGUF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.bin")
	require.NoError(t, os.WriteFile(path, []byte("not a model at all"), 0o644))
	code, _, errOut := runCLI("x", "tokenize", "-m", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, path)
	assert.Contains(t, errOut, "not a GGUF file")
}

// TestTokenizeWarnsOfShortMerges: a merges.txt cut in half still loads, and
// the command says so in one line on stderr, naming the file.
func TestTokenizeWarnsOfShortMerges(t *testing.T) {
	dir := t.TempDir()
	vocab, err := os.ReadFile(filepath.Join(gpt2Dir, "vocab.json"))
	require.NoError(t, err)
	merges, err := os.ReadFile(filepath.Join(gpt2Dir, "merges.txt"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "vocab.json"), vocab, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "merges.txt"), merges[:bytes.LastIndexByte(merges[:len(merges)/2], '\n')+1], 0o644))

	code, out, errOut := runCLI("Hello world", "tokenize", "-m", dir)
	require.Equal(t, 0, code, errOut)
	assert.NotEmpty(t, out)
	assert.Contains(t, errOut, "goformer: warning: "+filepath.Join(dir, "merges.txt")+": ")
	assert.Contains(t, errOut, "will never be encoded: is it cut short?")
	assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)

	code, _, errOut = runCLI("Hello world", "tokenize", "-m", gpt2Dir)
	require.Equal(t, 0, code)
	assert.Empty(t, errOut, "the whole file")
}
