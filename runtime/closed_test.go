package runtime

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClosedModel: after Close every session and batch call returns
// ErrClosed, and so do NewSession and NewBatch. For a GGUF file, whose
// quantized matrices lie in the mapping Close releases, this is the
// difference between an error and a SIGSEGV.
func TestClosedModel(t *testing.T) {
	t.Run("heap", func(t *testing.T) { testClosedModel(t, newTestModel(t, variants["gpt2"], 1)) })
	t.Run("gguf", func(t *testing.T) {
		m, err := Load(fixtureGGUF(t, "f32"), Options{Embeddings: F32Embeddings})
		require.NoError(t, err)
		testClosedModel(t, m)
	})
}

func testClosedModel(t *testing.T, m *Model) {
	ctx := context.Background()
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	b, err := m.NewBatch(BatchOptions{Sequences: 2})
	require.NoError(t, err)
	_, err = s.Prefill([]int{1, 2})
	require.NoError(t, err)
	require.NoError(t, m.Close())
	require.NoError(t, m.Close(), "twice")

	_, err = s.Prefill([]int{3})
	assert.ErrorIs(t, err, ErrClosed)
	_, err = s.Decode(3)
	assert.ErrorIs(t, err, ErrClosed)
	_, err = s.Score(ctx, []int{1, 2, 3})
	assert.ErrorIs(t, err, ErrClosed)
	var n int
	for _, err := range s.Generate(ctx, []int{1, 2}, GenerateOptions{MaxTokens: 3}) {
		assert.ErrorIs(t, err, ErrClosed)
		n++
	}
	assert.Equal(t, 1, n, "one error, no token")
	n = 0
	for ev, err := range b.Generate(ctx, []BatchRequest{{Prompt: []int{1, 2}}}) {
		assert.ErrorIs(t, err, ErrClosed)
		assert.False(t, ev.Done)
		n++
	}
	assert.Equal(t, 1, n, "one error, no event")
	_, err = b.Score(ctx, [][]int{{1, 2, 3}})
	assert.ErrorIs(t, err, ErrClosed)
	_, err = m.NewSession(SessionOptions{})
	assert.ErrorIs(t, err, ErrClosed)
	_, err = m.NewBatch(BatchOptions{})
	assert.ErrorIs(t, err, ErrClosed)
}
