package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeConfig(t *testing.T, cfg string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644))
	return dir
}

// TestReadConfig: the converter, context and KV-cache shape of each family,
// from the keys its config.json uses.
func TestReadConfig(t *testing.T) {
	for _, c := range []struct {
		cfg       string
		want      modelConfig
		converter string
		pp, tg    int
		kv        int
	}{
		{`{"model_type": "gpt2", "n_positions": 1024, "n_layer": 12, "n_head": 12, "n_embd": 768}`,
			modelConfig{"gpt2", 1024, 12, 12, 12, 64}, "gguf_convert.py", 512, 128, 73728},
		{`{"model_type": "gpt2", "n_positions": 128, "n_layer": 2, "n_head": 4, "n_embd": 64}`,
			modelConfig{"gpt2", 128, 2, 4, 4, 16}, "gguf_convert.py", 127, 127, 1024},
		// SmolLM2-135M: no head_dim key, so hidden / heads.
		{`{"model_type": "llama", "max_position_embeddings": 8192, "num_hidden_layers": 30, "num_attention_heads": 9,
		   "num_key_value_heads": 3, "hidden_size": 576, "n_positions": 3}`,
			modelConfig{"llama", 8192, 30, 9, 3, 64}, llamaConverter, 512, 128, 46080},
		{`{"model_type": "qwen2", "max_position_embeddings": 32768, "num_hidden_layers": 24, "num_attention_heads": 14,
		   "num_key_value_heads": 2, "hidden_size": 896, "head_dim": 64}`,
			modelConfig{"qwen2", 32768, 24, 14, 2, 64}, llamaConverter, 512, 128, 24576},
		// No num_key_value_heads: one per query head.
		{`{"model_type": "mistral", "max_position_embeddings": 300, "num_hidden_layers": 2, "num_attention_heads": 4,
		   "hidden_size": 128}`,
			modelConfig{"mistral", 300, 2, 4, 4, 32}, llamaConverter, 299, 128, 2048},
	} {
		got, err := readConfig(writeConfig(t, c.cfg))
		require.NoError(t, err, c.cfg)
		assert.Equal(t, c.want, got, c.cfg)
		assert.Equal(t, c.converter, got.converter(), c.cfg)
		assert.Equal(t, c.pp, got.pp(), c.cfg)
		assert.Equal(t, c.tg, got.tg(), c.cfg)
		assert.Equal(t, c.kv, got.kvBytesPerToken(), c.cfg)
	}
}

func TestReadConfigRefuses(t *testing.T) {
	for cfg, msg := range map[string]string{
		`{"model_type": "gemma", "max_position_embeddings": 8192}`:                                          `model_type "gemma"`,
		`{"n_positions": 1024, "n_layer": 12, "n_head": 12, "n_embd": 768}`:                                 `model_type ""`,
		`{"model_type": "llama", "num_hidden_layers": 2, "num_attention_heads": 4, "hidden_size": 128}`:     "context 0",
		`{"model_type": "gpt2", "max_position_embeddings": 1024, "n_layer": 2, "n_head": 4, "n_embd": 128}`: "context 0",
		`{"model_type": "llama"`: "config.json",
	} {
		_, err := readConfig(writeConfig(t, cfg))
		require.Error(t, err, cfg)
		assert.Contains(t, err.Error(), msg, cfg)
	}
	_, err := readConfig(t.TempDir())
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestAsLlama: a Mistral folder is staged as llama's, every other file
// linked, every other config key kept.
func TestAsLlama(t *testing.T) {
	dir := writeConfig(t, `{"model_type": "mistral", "architectures": ["MistralForCausalLM"], "sliding_window": 4096, "hidden_size": 128}`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte("weights"), 0o644))
	scratch := t.TempDir()
	for range 2 { // a second run replaces the first
		out, err := asLlama(dir, scratch)
		require.NoError(t, err)
		assert.Equal(t, filepath.Base(dir), filepath.Base(out))
		var cfg map[string]any
		raw, err := os.ReadFile(filepath.Join(out, "config.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, &cfg))
		assert.Equal(t, map[string]any{"model_type": "llama", "architectures": []any{"LlamaForCausalLM"}, "sliding_window": 4096.0, "hidden_size": 128.0}, cfg)
		b, err := os.ReadFile(filepath.Join(out, "model.safetensors"))
		require.NoError(t, err)
		assert.Equal(t, "weights", string(b))
		orig, err := os.ReadFile(filepath.Join(dir, "config.json"))
		require.NoError(t, err)
		assert.Contains(t, string(orig), "mistral")
	}
}
