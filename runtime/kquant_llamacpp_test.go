package runtime

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/model"
)

// llamaCppBin is the folder of llama.cpp's native tools: $GOFORMER_LLAMACPP_BIN,
// else where ../shared/peers/build_llamacpp.sh puts them by default.
func llamaCppBin(t *testing.T, tool string) string {
	t.Helper()
	dir := os.Getenv("GOFORMER_LLAMACPP_BIN")
	if dir == "" {
		dir = "/tmp/llamacpp-native/build/bin"
	}
	path := filepath.Join(dir, tool)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("skipping: llama.cpp's %s is not at %s (build it with ../shared/peers/build_llamacpp.sh, ~20 min, "+
			"and set GOFORMER_LLAMACPP_BIN to its bin folder)", tool, dir)
	}
	return path
}

var quantizedCache sync.Map // "fixture/type" → path

// quantizedGGUF is the fixture's F32 GGUF quantized to typ by llama.cpp's
// llama-quantize (once per test binary), or skips saying what is missing.
func quantizedGGUF(t *testing.T, fixture, typ string) string {
	t.Helper()
	key := fixture + "/" + typ
	if p, ok := quantizedCache.Load(key); ok {
		return p.(string)
	}
	quantize := llamaCppBin(t, "llama-quantize")
	in := testkit.ConvertedGGUF(t, fixture, "f32")
	out := filepath.Join(filepath.Dir(in), fixture+"-"+typ+".gguf")
	cmd := exec.Command(quantize, in, out, typ)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s %s %s: %v\n%s", quantize, in, out, typ, err, b)
	}
	quantizedCache.Store(key, out)
	return out
}

// pathFidelity is how three forward passes agree along llama.cpp's greedy
// paths: the largest |Δ log p| of goformer against llama.cpp, of llama.cpp
// against the float64 reference over the same dequantized weights, and of
// goformer against that reference; and the steps where goformer's argmax
// is another token, each a near-tie of the float64 pass.
type pathFidelity struct {
	goLlama, llamaRef, goRef float64
	// The root mean squares of the same differences.
	rmsGoLlama, rmsLlamaRef, rmsGoRef float64
	steps, ties                       int
}

// tieMargin is the float64 logit margin below which two tokens are a tie
// that either pass may break either way: about twice the largest |Δ log p|
// between goformer and llama.cpp (1e-2).
const tieMargin = 0.02

// TestLlamaCppAgreementQuantized runs llama.cpp and goformer on the files
// of the table below that llama-quantize makes of llama-mini (its widths
// are whole K-quant super-blocks, so every matrix keeps its type) and of
// gpt2-mini (whose width 96 makes llama-quantize fall back to Q5_0, Q5_1
// and Q8_0), and computes
// the float64 forward pass over each file's weights as ggml dequantizes
// them. Along llama.cpp's 32-step greedy path of every
// prompt, goformer (fed the same tokens) picks the same token at every step
// but at near-ties of the float64 pass, it is as faithful to the float64
// pass as llama.cpp, and it is no further from llama.cpp than the two
// passes' own distances from the float64 pass explain.
//
// Both quantize every matmul's activations to 8 bits (Q8_0 blocks for the
// types of 32, Q8_K for the K-quants) nearly as the other does, and that
// is almost all of either's distance from the float64 pass: goformer is as
// faithful as llama.cpp, not more. Measured (|Δ log p| along the paths,
// max and rms; goformer–llama.cpp, llama.cpp–float64, goformer–float64):
//
//	llama-mini Q4_0    0.018 0.033 0.040   rms 0.0034  0.0107 0.0113
//	llama-mini Q4_K_M  0.0098 0.052 0.052  rms 0.0013  0.0140 0.0140
//	llama-mini Q5_K_M  0.0025 0.053 0.053  rms 0.00023 0.0149 0.0149
//	llama-mini Q6_K    0.0033 0.055 0.055  rms 0.00039 0.0144 0.0144
//	llama-mini Q4_1    0.019 0.038 0.038   rms 0.0035  0.0113 0.0110
//	llama-mini Q5_0    0.018 0.038 0.045   rms 0.0043  0.0105 0.0106
//	llama-mini Q5_1    0.013 0.043 0.047   rms 0.0035  0.0117 0.0116
//	llama-mini IQ4_NL  0.017 0.040 0.037   rms 0.0037  0.0112 0.0115
//	llama-mini IQ4_XS  0.023 0.048 0.051   rms 0.0049  0.0157 0.0152
//	llama-mini Q3_K_M  0.019 0.047 0.051   rms 0.0029  0.0144 0.0146
//	llama-mini Q2_K    0.0044 0.073 0.073  rms 0.00046 0.0168 0.0168
//	gpt2-mini Q4_0     0.026 0.028 0.0063  rms 0.0098  0.0105 0.0020
//	gpt2-mini Q4_K_M   0.018 0.018 0.0082  rms 0.0080  0.0080 0.0017
//	gpt2-mini Q6_K     0.019 0.021 0.0064  rms 0.0089  0.0093 0.0019
//
// On the K-quants the two round the activations alike (their Q8_K values
// agree but for ties) and land within 1e-5 of each other; with Q8_0
// activations llama.cpp's scales are fp16 and its ties go to even, so the
// two errors are independent draws of one size: goformer's rms is within
// 10% of llama.cpp's, its largest of 150 steps within 1.5×. gpt2-mini's
// tied output head is a Q8_0 table that goformer multiplies with int16
// activations (llama.cpp: Q8_0), most likely what takes it 4× nearer the float64
// pass than llama.cpp; its distance from llama.cpp is then llama.cpp's
// own from the float64 pass, which is why the bound is the hypotenuse.
func TestLlamaCppAgreementQuantized(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping llama.cpp comparison in -short mode")
	}
	skipUnderRace(t)
	modules := llamaCppModules(t)
	type file struct{ fixture, typ string }
	// These files hold every block type between them (gpt2-mini's Q4_K_M
	// is Q5_0 and Q8_0); GOFORMER_LLAMACPP_ALL_FILES=1 adds the rest of the
	// table above, which the CI's 15 minutes have no room for.
	files := []file{
		{"llama-mini", "Q4_0"}, {"llama-mini", "Q6_K"}, {"llama-mini", "Q4_1"}, {"llama-mini", "Q5_1"},
		{"llama-mini", "IQ4_NL"}, {"llama-mini", "IQ4_XS"}, {"llama-mini", "Q3_K_M"}, {"llama-mini", "Q2_K"},
		{"gpt2-mini", "Q4_K_M"},
	}
	if os.Getenv("GOFORMER_LLAMACPP_ALL_FILES") != "" {
		files = append(files, file{"llama-mini", "Q4_K_M"}, file{"llama-mini", "Q5_K_M"}, file{"llama-mini", "Q5_0"},
			file{"gpt2-mini", "Q4_0"}, file{"gpt2-mini", "Q6_K"})
	}
	for _, c := range files {
		fixture, typ := c.fixture, c.typ
		t.Run(fixture+"/"+typ, func(t *testing.T) {
			// In parallel (two at a time on two cores): a case spends a
			// third of its time waiting on llama.cpp's node process.
			t.Parallel()
			path := quantizedGGUF(t, fixture, typ)
			m, ref := loadNamedFixture(t, fixture, Options{}, path)
			ck, err := model.Load(path)
			require.NoError(t, err)
			defer ck.Close()
			var prompts [][]int
			for _, p := range ref.Prompts {
				prompts = append(prompts, p.TokenIDs)
			}
			llama := runLlamaCpp(t, modules, path, 32, prompts)
			f := measurePaths(t, m, &ck.Config, &ck.Weights, prompts, llama)
			t.Logf("%s %s (%v), llama.cpp %s, %d greedy steps over %d prompts (%d float64 near-ties picked otherwise): "+
				"max |Δ log p| goformer–llama.cpp %.3g, llama.cpp–float64 %.3g, goformer–float64 %.3g; rms %.3g, %.3g, %.3g",
				fixture, typ, m.Footprint().Layers, llama.Build, f.steps, len(prompts), f.ties, f.goLlama, f.llamaRef, f.goRef,
				f.rmsGoLlama, f.rmsLlamaRef, f.rmsGoRef)
			// Two passes whose errors from the float64 pass are independent
			// differ by about the hypotenuse of those errors; where they
			// round the activations alike (the K-quants), by far less. A
			// dequantization bug that goformer and the float64 pass shared
			// would put llama.cpp far from both.
			assert.Less(t, f.llamaRef, 0.15, "llama.cpp is far from the float64 pass over the weights as goformer dequantizes them")
			assert.LessOrEqual(t, f.rmsGoLlama, 1.2*math.Hypot(f.rmsGoRef, f.rmsLlamaRef), "goformer is further from llama.cpp (rms) than their distances from the float64 pass explain")
			assert.LessOrEqual(t, f.goLlama, 1.2*math.Hypot(f.goRef, f.llamaRef), "goformer is further from llama.cpp (max) than their distances from the float64 pass explain")
			assert.LessOrEqual(t, f.rmsGoRef, 1.1*f.rmsLlamaRef, "goformer is less faithful to the float64 pass than llama.cpp")
			assert.LessOrEqual(t, f.goRef, 1.5*f.llamaRef, "goformer's largest distance from the float64 pass is far beyond llama.cpp's")
		})
	}
}

// measurePaths feeds each prompt and llama.cpp's greedy path after it to
// goformer in one prefill (whose rows are the decode steps' logits bit for
// bit) and to the float64 reference (cfg and w, the loaded checkpoint), and
// compares the log-probs of the path's tokens and the argmaxes.
func measurePaths(t *testing.T, m *Model, cfg *model.Config, w *model.Weights, prompts [][]int, llama llamaCppGreedy) pathFidelity {
	t.Helper()
	var f pathFidelity
	head := refMatrix(refHead(*cfg, w))
	s, err := m.NewSession(SessionOptions{}) // for its sampler's log-sum-exp
	require.NoError(t, err)
	for i, ids := range prompts {
		want := llama.Results[i]
		if len(want.Tokens) == 0 { // the prompt fills gpt2-mini's context
			continue
		}
		seq := append(append([]int(nil), ids...), want.Tokens[:len(want.Tokens)-1]...)
		rows := sessionLogits(t, m, seq, nil)
		hidden := refHidden(*cfg, w, seq, func(t, j int) bool { return j <= t })
		refRows := refLogitsOf(hidden[len(ids)-1:len(ids)-1+len(want.Tokens)], head)
		for step, id := range want.Tokens {
			r := len(ids) - 1 + step
			logits, refLogits := rows[r], refRows[step]
			goLP := float64(logits[id]) - s.sampler.logSumExp(logits)
			refLP := refLogprob(refLogits, id)
			gl, lr, gr := goLP-want.Logprobs[step], want.Logprobs[step]-refLP, goLP-refLP
			f.goLlama, f.llamaRef, f.goRef = max(f.goLlama, math.Abs(gl)), max(f.llamaRef, math.Abs(lr)), max(f.goRef, math.Abs(gr))
			f.rmsGoLlama, f.rmsLlamaRef, f.rmsGoRef = f.rmsGoLlama+gl*gl, f.rmsLlamaRef+lr*lr, f.rmsGoRef+gr*gr
			f.steps++
			if pick := Greedy(logits); pick != id {
				margin := math.Abs(refLogits[pick] - refLogits[id])
				require.Less(t, margin, tieMargin, "prompt %d step %d: goformer picks %d, llama.cpp %d, %.3g apart in the float64 pass", i, step, pick, id, margin)
				f.ties++
			}
		}
	}
	for _, r := range []*float64{&f.rmsGoLlama, &f.rmsLlamaRef, &f.rmsGoRef} {
		*r = math.Sqrt(*r / float64(f.steps))
	}
	return f
}

// refLogitsOf is head·h in float64 for each hidden state h, each row of
// the head read once for all of them: the vocabulary-wide products are
// most of the comparison's time, bound by reading the float64 head.
func refLogitsOf(hs [][]float64, head []float64) [][]float64 {
	d := len(hs[0])
	out := make([][]float64, len(hs))
	for r := range out {
		out[r] = make([]float64, len(head)/d)
	}
	for v := range len(head) / d {
		row := head[v*d : (v+1)*d]
		for r, h := range hs {
			var s float64
			for i, x := range h {
				s += x * row[i]
			}
			out[r][v] = s
		}
	}
	return out
}
