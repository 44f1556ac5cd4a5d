package runtime

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/goformer/goformer/model/demo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var demoOnce struct {
	sync.Once
	m   *Model
	err error
}

// demoModel is the demo model with the default options, loaded once per
// test binary and shared: a Model is read-only once loaded, and parsing its
// vocabulary and quantizing its embeddings again in every test is most of
// what those tests would cost (and ten times that under the race detector).
// Tests that close or load with other options load their own.
func demoModel(t *testing.T) *Model {
	t.Helper()
	demoOnce.Do(func() { demoOnce.m, demoOnce.err = LoadFS(demo.FS, Options{}) })
	require.NoError(t, demoOnce.err)
	return demoOnce.m
}

// TestDemoMatchesReference: the demo model the repository ships, loaded
// from its embedded files, against the float64 PyTorch reference its
// training script wrote from the same F16 weights. It runs without
// ../shared, on every kernel tier.
func TestDemoMatchesReference(t *testing.T) {
	skipUnderRace(t)
	raw, err := os.ReadFile(filepath.Join("..", "model", "demo", "reference.json"))
	require.NoError(t, err)
	// The same schema as the gpt2-mini fixture's, less the last-position
	// fields.
	var ref fixtureReference
	require.NoError(t, json.Unmarshal(raw, &ref))
	require.NotEmpty(t, ref.Prompts)
	m, err := LoadFS(demo.FS, Options{Embeddings: F32Embeddings})
	require.NoError(t, err)
	forEachISA(t, func(t *testing.T) {
		s, err := m.NewSession(SessionOptions{})
		require.NoError(t, err)
		for _, p := range ref.Prompts {
			ids := m.Tokenizer().Encode(p.Text)
			require.Equal(t, p.TokenIDs, ids)
			sc, err := s.Score(context.Background(), ids)
			require.NoError(t, err)
			assert.InDelta(t, p.LogLikelihood.Total, sc.LogLikelihood, 1e-4)
			assert.InDeltaSlice(t, p.LogLikelihood.TokenLogprobs, sc.TokenLogprobs, 2e-5)
			var got []int
			var lps []float64
			for tok, err := range s.Generate(context.Background(), ids, GenerateOptions{MaxTokens: len(p.Greedy.TokenIDs), IgnoreEOS: true}) {
				require.NoError(t, err)
				got = append(got, tok.ID)
				lps = append(lps, tok.Logprob)
			}
			assert.Equal(t, p.Greedy.TokenIDs, got, p.Text)
			assert.InDeltaSlice(t, p.Greedy.Logprobs, lps, 2e-5, p.Text)
		}
	})
}
