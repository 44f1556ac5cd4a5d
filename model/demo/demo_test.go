package demo

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigShape(t *testing.T) {
	raw, err := fs.ReadFile(FS, "config.json")
	require.NoError(t, err)
	var cfg struct {
		ModelType    string   `json:"model_type"`
		Arch         []string `json:"architectures"`
		VocabSize    int      `json:"vocab_size"`
		NPositions   int      `json:"n_positions"`
		NCtx         int      `json:"n_ctx"`
		NEmbd        int      `json:"n_embd"`
		NLayer       int      `json:"n_layer"`
		NHead        int      `json:"n_head"`
		NInner       *int     `json:"n_inner"`
		Activation   string   `json:"activation_function"`
		LayerNormEps float64  `json:"layer_norm_epsilon"`
		Tied         bool     `json:"tie_word_embeddings"`
		BOS          int      `json:"bos_token_id"`
		EOS          int      `json:"eos_token_id"`
	}
	require.NoError(t, json.Unmarshal(raw, &cfg))
	assert.Equal(t, "gpt2", cfg.ModelType)
	assert.Equal(t, []string{"GPT2LMHeadModel"}, cfg.Arch)
	assert.Equal(t, 50257, cfg.VocabSize)
	assert.Equal(t, 256, cfg.NPositions)
	assert.Equal(t, 256, cfg.NCtx)
	assert.Equal(t, 128, cfg.NEmbd)
	assert.Equal(t, 3, cfg.NLayer)
	assert.Equal(t, 4, cfg.NHead)
	assert.Nil(t, cfg.NInner, "n_inner null means 4·n_embd")
	assert.Equal(t, "gelu_new", cfg.Activation)
	assert.Equal(t, 1e-5, cfg.LayerNormEps)
	assert.True(t, cfg.Tied)
	assert.Equal(t, 50256, cfg.BOS)
	assert.Equal(t, 50256, cfg.EOS)
}

// TestSafetensorsLayout reads the header by hand: every tensor is F16, the
// data regions tile the file exactly, and the names and shapes are GPT-2's.
func TestSafetensorsLayout(t *testing.T) {
	raw, err := fs.ReadFile(FS, "model.safetensors")
	require.NoError(t, err)
	require.Greater(t, len(raw), 8)
	n := binary.LittleEndian.Uint64(raw[:8])
	require.LessOrEqual(t, n, uint64(len(raw)-8))
	var header map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw[8:8+n], &header))
	delete(header, "__metadata__")

	const d, vocab, positions, layers = 128, 50257, 256, 3
	want := map[string][]int{
		"wte.weight": {vocab, d}, "wpe.weight": {positions, d},
		"ln_f.weight": {d}, "ln_f.bias": {d},
	}
	for i := range layers {
		p := fmt.Sprintf("h.%d.", i)
		for name, shape := range map[string][]int{
			"ln_1.weight": {d}, "ln_1.bias": {d}, "ln_2.weight": {d}, "ln_2.bias": {d},
			"attn.c_attn.weight": {d, 3 * d}, "attn.c_attn.bias": {3 * d},
			"attn.c_proj.weight": {d, d}, "attn.c_proj.bias": {d},
			"mlp.c_fc.weight": {d, 4 * d}, "mlp.c_fc.bias": {4 * d},
			"mlp.c_proj.weight": {4 * d, d}, "mlp.c_proj.bias": {d},
		} {
			want[p+name] = shape
		}
	}
	require.Len(t, header, len(want))

	total := 0
	for name, shape := range want {
		var info struct {
			DType   string `json:"dtype"`
			Shape   []int  `json:"shape"`
			Offsets [2]int `json:"data_offsets"`
		}
		require.Contains(t, header, name)
		require.NoError(t, json.Unmarshal(header[name], &info), name)
		assert.Equal(t, "F16", info.DType, name)
		assert.Equal(t, shape, info.Shape, name)
		elems := 1
		for _, s := range shape {
			elems *= s
		}
		assert.Equal(t, 2*elems, info.Offsets[1]-info.Offsets[0], name)
		total += 2 * elems
	}
	assert.Equal(t, len(raw)-8-int(n), total, "tensor data must fill the file")
}

func TestTokenizerFiles(t *testing.T) {
	raw, err := fs.ReadFile(FS, "vocab.json")
	require.NoError(t, err)
	var vocab map[string]int
	require.NoError(t, json.Unmarshal(raw, &vocab))
	assert.Len(t, vocab, 50257)
	assert.Equal(t, 50256, vocab["<|endoftext|>"])
	assert.Equal(t, 464, vocab["The"])

	merges, err := fs.ReadFile(FS, "merges.txt")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimRight(string(merges), "\n"), "\n")
	assert.True(t, strings.HasPrefix(lines[0], "#version"), "merges.txt starts with its version line")
	assert.Len(t, lines, 1+50000, "GPT-2 has 50,000 merges")
	assert.Equal(t, "Ġ t", lines[1])
}
