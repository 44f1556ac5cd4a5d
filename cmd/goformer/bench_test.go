package main

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
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

// TestBenchActivations: --activations reaches the model and --json says
// which ran.
func TestBenchActivations(t *testing.T) {
	for _, act := range []string{"int8", "int8x2"} {
		code, out, errOut := runCLI("", "bench", "--prompt-tokens", "8", "--gen", "2", "--reps", "1", "--weights", "int8", "--activations", act, "--json")
		require.Equal(t, 0, code, errOut)
		var res benchResult
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		assert.Equal(t, act, res.Activations)
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
// defaults, capped at the demo model's 256 positions, and bench says so.
func TestBenchDefaultsFitTheModel(t *testing.T) {
	code, out, errOut := runCLI("", "bench", "--reps", "1", "--json")
	require.Equal(t, 0, code, errOut)
	var res benchResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	assert.Equal(t, 256, res.PromptTokens)
	assert.Equal(t, 128, res.GenTokens)
	assert.Contains(t, errOut, "goformer bench: --prompt-tokens 512 capped at the model's 256 positions\n")
	assert.NotContains(t, errOut, "--gen", "128 fits: no notice")
}

// TestBenchProgress: each warm-up and repetition is a line on stderr as it
// ends; on a terminal one line is rewritten in place and cleared at the
// end.
func TestBenchProgress(t *testing.T) {
	code, _, errOut := runCLI("", "bench", "--prompt-tokens", "8", "--gen", "2", "--reps", "2")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	require.Len(t, lines, 6, errOut)
	for i, prefix := range []string{"pp8 warm-up", "pp8 rep 1/2 ", "pp8 rep 2/2 ", "tg2 warm-up", "tg2 rep 1/2 ", "tg2 rep 2/2 "} {
		assert.True(t, strings.HasPrefix(lines[i], prefix), "line %d: %q", i, lines[i])
	}
	assert.Regexp(t, `^pp8 rep 1/2 +[0-9.]+ tokens/s$`, lines[1])

	var b strings.Builder
	p := benchProgress{w: &b, tty: true}
	p.report("tg2 rep %d/%d", 1, 2)
	p.report("tg2 rep %d/%d", 2, 2)
	p.done()
	assert.Equal(t, "\r\033[Ktg2 rep 1/2\r\033[Ktg2 rep 2/2\r\033[K", b.String())
}

func TestBenchText(t *testing.T) {
	code, out, errOut := runCLI("", "bench", "--prompt-tokens", "0", "--gen", "3", "--reps", "1", "--threads", "1")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "model demo  threads 1  isa ")
	assert.NotContains(t, out, "weights", "the header names what runs (the model line), not the flags")
	assert.Contains(t, out, "\ngpt2  3 layers  d 128  4 heads  4 kv heads  head dim 32  d_ff 512  vocab 50257  tied  file F16 ×40  runs layers f32, token table int8\n")
	assert.Contains(t, out, "tg3 ")
	assert.NotContains(t, out, "pp")
}

// llamaMiniLayers and llamaMiniHead are the weights of llama-mini's
// layers (3 × q, k, v, o, gate, up, down) and of its output projection.
const (
	llamaMiniLayers = 3 * (2*256*256 + 2*64*256 + 3*768*256)
	llamaMiniHead   = 50259 * 256
)

// int8Row is the bytes of n values as int8 with a float32 scale per 32.
func int8Row(n int) int { return n + 4*n/32 }

// panelBytes is the bytes of an fp32 rows×cols matrix packed into the
// active tier's panels (kernels.Panels), rows rounded up to whole panels.
func panelBytes(rows, cols int) int {
	w := len(kernels.PackPanels([]float32{0}, 1, 1).Data)
	return (rows + w - 1) / w * w * cols * 4
}

// f32Layers is the packed bytes of a Llama-family model's layers: the
// fused q/k/v and gate/up, the attention output and down.
func f32Layers(layers, d, kvRows, ff int) int {
	return layers * (panelBytes(d+2*kvRows, d) + panelBytes(d, d) + panelBytes(2*ff, d) + panelBytes(d, ff))
}

// TestBenchLlamaFamily: the Llama-family fixtures bench at llama-bench's
// pp512 and tg128 capped at their positions, and the header and --json
// name the shape, the file's tensor types and what the matrices run as.
func TestBenchLlamaFamily(t *testing.T) {
	for _, c := range []struct {
		fixture, weights string
		want             benchModel
		pp               int
	}{
		{"llama-mini", "f32", benchModel{ModelType: "llama", NLayer: 3, NEmbd: 256, NHead: 8, NKVHead: 2, HeadDim: 32, NInner: 768, Vocab: 50259,
			KVBytesPerToken: 2 * 3 * 2 * 32 * 4, FileTypes: map[string]int{"BF16": 30}, Layers: "f32", TokenTable: "int8", Output: "f32",
			WeightBytesPerToken: f32Layers(3, 256, 64, 768) + panelBytes(50259, 256) + int8Row(256)}, 512},
		{"llama-mini", "int8", benchModel{ModelType: "llama", NLayer: 3, NEmbd: 256, NHead: 8, NKVHead: 2, HeadDim: 32, NInner: 768, Vocab: 50259,
			KVBytesPerToken: 2 * 3 * 2 * 32 * 4, FileTypes: map[string]int{"BF16": 30}, Layers: "int8", TokenTable: "int8", Output: "int8",
			WeightBytesPerToken: int8Row(llamaMiniLayers) + int8Row(llamaMiniHead) + int8Row(256)}, 512},
		{"qwen2-mini", "f32", benchModel{ModelType: "qwen2", NLayer: 2, NEmbd: 128, NHead: 4, NKVHead: 2, HeadDim: 32, NInner: 384, Vocab: 50257, Tied: true,
			KVBytesPerToken: 2 * 2 * 2 * 32 * 4, FileTypes: map[string]int{"F32": 26}, Layers: "f32", TokenTable: "int8", Output: "tied",
			WeightBytesPerToken: f32Layers(2, 128, 64, 384) + int8Row(50257*128) + int8Row(128)}, 256},
	} {
		dir := testkit.Fixture(c.fixture)
		if _, err := os.Stat(dir); err != nil {
			t.Skipf("skipping: the %s fixture is not at %s", c.fixture, dir)
		}
		code, out, errOut := runCLI("", "bench", "-m", dir, "--weights", c.weights, "--reps", "1", "--json")
		require.Equal(t, 0, code, errOut)
		var res benchResult
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		assert.Equal(t, c.want, res.benchModel, c.fixture)
		assert.Equal(t, c.pp, res.PromptTokens, c.fixture)
		assert.Equal(t, 128, res.GenTokens, c.fixture)
		assert.Greater(t, res.TGTokensPerS, 0.0, c.fixture)

		code, out, errOut = runCLI("", "bench", "-m", dir, "--weights", c.weights, "--reps", "1", "--prompt-tokens", "4", "--gen", "2")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, c.want.String()+"\n", c.fixture)
	}
	assert.Equal(t, "llama  3 layers  d 256  8 heads  2 kv heads  head dim 32  d_ff 768  vocab 50259  file BF16 ×30  runs layers int8, token table int8, output int8",
		benchModel{ModelType: "llama", NLayer: 3, NEmbd: 256, NHead: 8, NKVHead: 2, HeadDim: 32, NInner: 768, Vocab: 50259,
			FileTypes: map[string]int{"BF16": 30}, Layers: "int8", TokenTable: "int8", Output: "int8"}.String())
}

// TestBenchQ8GGUF: a Q8_0 GGUF's matrices run as int8 whatever --weights
// and --embeddings say. The file is qwen2-mini converted by the project's
// llama_gguf_convert.py (../shared/peers).
func TestBenchQ8GGUF(t *testing.T) {
	path := testkit.ConvertedGGUF(t, "qwen2-mini", "q8_0")
	code, stdout, errOut := runCLI("", "bench", "-m", path, "--weights", "f32", "--embeddings", "f32", "--reps", "1", "--prompt-tokens", "4", "--gen", "2", "--json")
	require.Equal(t, 0, code, errOut)
	var res benchResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	assert.Equal(t, "qwen2", res.ModelType)
	// 2 layers × 7 matrices and the token embedding are Q8_0; the norms and
	// q/k/v biases stay F32.
	assert.Equal(t, map[string]int{"Q8_0": 15, "F32": 11}, res.FileTypes)
	assert.Equal(t, "int8", res.Layers)
	assert.Equal(t, "int8", res.TokenTable)
	assert.Equal(t, "tied", res.Output)
}

// TestBenchBadFlags: one line on standard error, exit status 2.
func TestBenchBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--reps", "0"},
		{"--gen", "-1"},
		{"--prompt-tokens", "0", "--gen", "0"},
		{"--weights", "q4"},
		{"--embeddings", "f16"},
		{"--activations", "int16"},
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
