//go:build unix

package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openaiPackage is the version of the official openai npm package the
// integration test installs: the 6.x line runs on Node 20 (7.x wants 22).
const openaiPackage = "openai@6"

// openaiNodeModules returns a node_modules folder holding the openai
// package: $GOFORMER_OPENAI_NPM's, or a scratch one under the temporary
// directory, installed with npm when missing (never into the project or
// ../shared). It skips the test when node, npm or the registry are not
// there.
func openaiNodeModules(t *testing.T) string {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the openai client test needs Node ≥ 20")
	}
	out, err := exec.Command(node, "-p", "process.versions.node.split('.')[0]").Output()
	if major, _ := strconv.Atoi(strings.TrimSpace(string(out))); err != nil || major < 20 {
		t.Skipf("node %s: the openai client test needs Node ≥ 20", strings.TrimSpace(string(out)))
	}
	dir := os.Getenv("GOFORMER_OPENAI_NPM")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "goformer-openai-npm")
	}
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "openai", "package.json")); err == nil {
		return modules
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed: the openai client test installs the openai package with it")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name": "goformer-openai-npm", "private": true}`+"\n"), 0o644))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--no-audit", "--no-fund", openaiPackage)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("npm install %s in %s failed (no registry?): %v\n%s", openaiPackage, dir, err, out)
	}
	return modules
}

// runJSON is what `goformer run --json` prints for args.
func runJSON(t *testing.T, args ...string) runResult {
	out, err := exec.Command(goformerBinary(t), append([]string{"run", "--json", "--threads", "1"}, args...)...).Output()
	require.NoError(t, err, "goformer run %v", args)
	var res runResult
	require.NoError(t, json.Unmarshal(out, &res))
	return res
}

// TestOpenAINodeClient: the official openai npm package drives goformer
// serve (completions whole and streamed, logprobs, stop strings, sampling
// with a seed, the models list, errors), and what it parses equals `goformer
// run --json` for the same prompt, seed and settings.
func TestOpenAINodeClient(t *testing.T) {
	if testing.Short() {
		t.Skip("the openai client test builds the binary and runs node: not in -short")
	}
	modules := openaiNodeModules(t)
	// The demo model ships no chat template: ChatML, from the chat
	// package's test data, for both the server and goformer chat.
	template, err := filepath.Abs(filepath.Join("..", "..", "model", "chat", "testdata", "extra", "chatml.jinja"))
	require.NoError(t, err)
	s := startServe(t, "--api-key", "sk-goformer-test", "--max-tokens", "1000", "--template", template)
	cmd := exec.Command("node", filepath.Join("testdata", "openai_client.cjs"))
	cmd.Env = append(os.Environ(), "GOFORMER_URL="+s.url, "GOFORMER_KEY=sk-goformer-test", "NODE_PATH="+modules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "node: %s\nserver: %s", stderr.String(), s.log())
	type failure struct {
		Status      int
		Type, Param string
		Code        string
		Message     string
	}
	var got struct {
		Models []string
		Greedy struct {
			Text         string
			FinishReason string `json:"finish_reason"`
			Usage        map[string]int
		}
		GreedyStream struct {
			Text         string
			FinishReason string `json:"finish_reason"`
			Usage        map[string]int
			Chunks       int
		} `json:"greedy_stream"`
		Logprobs struct {
			Text          string
			Tokens        []string
			TokenLogprobs []float64            `json:"token_logprobs"`
			TopLogprobs   []map[string]float64 `json:"top_logprobs"`
		}
		Sampled struct{ Text string }
		Chat    struct {
			Text, Role   string
			FinishReason string `json:"finish_reason"`
			Usage        map[string]int
			Logprobs     []float64
		}
		ChatStream struct {
			Text, Role   string
			FinishReason string `json:"finish_reason"`
		} `json:"chat_stream"`
		Stop struct {
			Text         string
			FinishReason string `json:"finish_reason"`
		}
		Errors map[string]failure
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	const prompt = "The meaning of life is"
	assert.Equal(t, []string{"demo"}, got.Models)

	greedy := runJSON(t, "--temp", "0", "-n", "16", prompt)
	assert.Equal(t, greedy.Text, got.Greedy.Text)
	assert.Equal(t, greedy.FinishReason, got.Greedy.FinishReason)
	assert.Equal(t, map[string]int{"prompt_tokens": len(greedy.PromptTokens), "completion_tokens": len(greedy.Tokens), "total_tokens": len(greedy.PromptTokens) + len(greedy.Tokens)}, got.Greedy.Usage)
	assert.Equal(t, greedy.Text, got.GreedyStream.Text, "streamed")
	assert.Equal(t, greedy.FinishReason, got.GreedyStream.FinishReason)
	assert.Equal(t, got.Greedy.Usage, got.GreedyStream.Usage, "include_usage")
	assert.Greater(t, got.GreedyStream.Chunks, 2)

	lp := runJSON(t, "--temp", "0", "-n", "8", "--top-logprobs", "2", prompt)
	assert.Equal(t, lp.Text, got.Logprobs.Text)
	require.Len(t, got.Logprobs.TokenLogprobs, len(lp.Logprobs))
	for i := range lp.Logprobs {
		assert.InDelta(t, lp.Logprobs[i], got.Logprobs.TokenLogprobs[i], 1e-5, "token %d", i)
		for _, top := range lp.TopLogprobs[i] {
			assert.InDelta(t, top.Logprob, got.Logprobs.TopLogprobs[i][top.Text], 1e-5, "token %d, top %q", i, top.Text)
		}
	}

	sampled := runJSON(t, "--temp", "0.8", "--top-p", "0.95", "--top-k", "40", "--seed", "7", "-n", "20", prompt)
	assert.Equal(t, sampled.Text, got.Sampled.Text, "the same seed and settings")

	cut := strings.Index(greedy.Text, ".")
	require.GreaterOrEqual(t, cut, 0, "the greedy text has a full stop: %q", greedy.Text)
	assert.Equal(t, greedy.Text[:cut], got.Stop.Text)
	assert.Equal(t, "stop", got.Stop.FinishReason)

	assert.Equal(t, 400, got.Errors["n"].Status)
	assert.Equal(t, "invalid_request_error", got.Errors["n"].Type)
	assert.Equal(t, "n", got.Errors["n"].Param)
	assert.Equal(t, 400, got.Errors["max_tokens"].Status)
	assert.Equal(t, "max_tokens", got.Errors["max_tokens"].Param)
	messages := filepath.Join(t.TempDir(), "messages.json")
	require.NoError(t, os.WriteFile(messages, []byte(`[{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Tell me about the county."}]`), 0o644))
	out, err = exec.Command(goformerBinary(t), "chat", "--json", "--threads", "1", "--template", template, "--messages", messages, "--temp", "0", "-n", "16").Output()
	require.NoError(t, err, "goformer chat")
	var reply runResult
	require.NoError(t, json.Unmarshal(out, &reply))
	assert.Equal(t, reply.Text, got.Chat.Text, "the chat reply is goformer chat's")
	assert.Equal(t, "assistant", got.Chat.Role)
	assert.Equal(t, reply.FinishReason, got.Chat.FinishReason)
	assert.Equal(t, len(reply.PromptTokens), got.Chat.Usage["prompt_tokens"])
	require.Len(t, got.Chat.Logprobs, len(reply.Logprobs))
	for i := range reply.Logprobs {
		assert.InDelta(t, reply.Logprobs[i], got.Chat.Logprobs[i], 1e-5)
	}
	assert.Equal(t, reply.Text, got.ChatStream.Text, "streamed")
	assert.Equal(t, "assistant", got.ChatStream.Role)
	assert.Equal(t, reply.FinishReason, got.ChatStream.FinishReason)

	assert.Equal(t, 400, got.Errors["chat"].Status)
	assert.Equal(t, "messages.0.role", got.Errors["chat"].Param)
	assert.Equal(t, 401, got.Errors["auth"].Status)
	assert.Equal(t, "invalid_api_key", got.Errors["auth"].Code)
}
