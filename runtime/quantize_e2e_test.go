package runtime

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/model"
)

// TestQuantizeLlamaMiniEndToEnd quantizes llama-mini's F32 GGUF to Q4_K_M
// with goformer (model.Quantize). goformer loads and runs the file: its
// log-probs of the fixture's prompts stay within Q4_K_M's rounding of the
// float64 F32 reference (measured: max 0.35, rms 0.06 over every token of
// the 5 prompts; the 1e-2 to 5e-2 of the fidelity tests is against float64
// over the dequantized weights). Where llama.cpp's tools are at hand, the file is
// byte for byte the one llama-quantize makes of the same input, and
// llama.cpp (through node-llama-cpp) loads it and walks the same greedy
// paths with the same log-probs as on llama-quantize's file.
func TestQuantizeLlamaMiniEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: quantizes a 114 MB model in -short mode")
	}
	skipUnderRace(t)
	in := testkit.ConvertedGGUF(t, "llama-mini", "f32")
	preset, err := model.LookupQuantizePreset("Q4_K_M")
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "llama-mini-Q4_K_M.gguf")
	report, err := model.Quantize(context.Background(), in, out, preset)
	require.NoError(t, err)
	types := map[string]int{}
	for _, qt := range report.Tensors {
		types[qt.To.String()]++
	}
	assert.Equal(t, map[string]int{"F32": 8, "Q4_K": 20, "Q6_K": 3}, types)

	// The Hugging Face folder itself gives the same file.
	fromDir := filepath.Join(t.TempDir(), "from-folder.gguf")
	_, err = model.Quantize(context.Background(), testkit.Fixture("llama-mini"), fromDir, preset)
	require.NoError(t, err)
	a, err := os.ReadFile(out)
	require.NoError(t, err)
	b, err := os.ReadFile(fromDir)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(a, b), "quantizing the folder and its converted F32 GGUF give different files")

	m, ref := loadNamedFixture(t, "llama-mini", Options{}, out)
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	worst, sq, n := 0.0, 0.0, 0
	for _, p := range ref.Prompts {
		s.Reset()
		sc, err := s.Score(context.Background(), p.TokenIDs)
		require.NoError(t, err)
		require.Len(t, sc.TokenLogprobs, len(p.LogLikelihood.TokenLogprobs))
		for i, want := range p.LogLikelihood.TokenLogprobs {
			d := want - sc.TokenLogprobs[i]
			worst, sq, n = max(worst, math.Abs(d)), sq+d*d, n+1
		}
	}
	rms := math.Sqrt(sq / float64(n))
	t.Logf("goformer on goformer's Q4_K_M: |Δ log p| against the float64 F32 reference max %.3g, rms %.3g over %d tokens", worst, rms, n)
	assert.Less(t, worst, 0.6, "Q4_K_M is far from F32")
	assert.Less(t, rms, 0.12, "Q4_K_M is far from F32")

	if _, err := os.Stat(filepath.Join(os.Getenv("GOFORMER_LLAMACPP_BIN"), "llama-quantize")); err != nil {
		if _, err := os.Stat("/tmp/llamacpp-native/build/bin/llama-quantize"); err != nil {
			t.Skip("skipping the comparison with llama-quantize: llama.cpp's native tools are absent (set GOFORMER_LLAMACPP_BIN)")
		}
	}
	theirs := quantizedGGUF(t, "llama-mini", "Q4_K_M")
	b, err = os.ReadFile(theirs)
	require.NoError(t, err)
	same := bytes.Equal(a, b)
	assert.True(t, same, "goformer's Q4_K_M (%d bytes) is not llama-quantize's (%d bytes)", len(a), len(b))

	// llama.cpp loads goformer's file; identical bytes make its outputs
	// those of llama-quantize's file, so that one runs only if they differ.
	modules := llamaCppModules(t)
	var prompts [][]int
	for _, p := range ref.Prompts {
		prompts = append(prompts, p.TokenIDs)
	}
	ours := runLlamaCpp(t, modules, out, 8, prompts)
	require.Len(t, ours.Results, len(prompts))
	for i, r := range ours.Results {
		assert.Len(t, r.Tokens, 8, "prompt %d: llama.cpp's greedy path on goformer's file", i)
	}
	if !same {
		want := runLlamaCpp(t, modules, theirs, 8, prompts)
		for i := range want.Results {
			assert.Equal(t, want.Results[i].Tokens, ours.Results[i].Tokens, "prompt %d: llama.cpp's greedy path", i)
			assert.InDeltaSlice(t, want.Results[i].Logprobs, ours.Results[i].Logprobs, 0.05, "prompt %d: llama.cpp's log-probs", i)
		}
	}
}
