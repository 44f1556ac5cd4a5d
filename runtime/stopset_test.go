package runtime

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStopSetHasEndOfTurn: llama-mini without its generation_config.json
// still stops at <|im_end|>, its ChatML end of turn, as llama.cpp would
// (tokenizer.EndOfGeneration), after its EOS; with the file the list is
// the file's.
func TestStopSetHasEndOfTurn(t *testing.T) {
	skipUnderRace(t)
	src := testkit.Fixture("llama-mini")
	if _, err := os.Stat(filepath.Join(src, "model.safetensors")); err != nil {
		t.Skipf("skipping: the llama-mini fixture is not at hand: %v", err)
	}
	dir := t.TempDir()
	for _, name := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} {
		abs, err := filepath.Abs(filepath.Join(src, name))
		require.NoError(t, err)
		require.NoError(t, os.Symlink(abs, filepath.Join(dir, name)))
	}
	m, err := Load(dir, Options{})
	require.NoError(t, err)
	defer m.Close()
	imEnd, ok := m.Tokenizer().SpecialID("<|im_end|>")
	require.True(t, ok)
	cfg := m.Config()
	assert.Equal(t, []int{cfg.EOS, imEnd}, cfg.EndIDs)
	assert.True(t, cfg.IsEnd(imEnd))

	full, err := Load(src, Options{})
	require.NoError(t, err)
	defer full.Close()
	assert.Equal(t, []int{50256, 50258}, full.Config().EndIDs)
}
