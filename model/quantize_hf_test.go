package model

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model/gguf"
	"github.com/goformer/goformer/model/modeltest"
)

// tinyTokenizerJSON is a byte-level BPE tokenizer.json of 258 tokens: the
// 256 bytes, one merge and a special token.
func tinyTokenizerJSON() []byte {
	vocab := map[string]int{"!\"": 256}
	for i, b := range modeltest.ByteAlphabet() {
		vocab[b.(string)] = i
	}
	tj := map[string]any{
		"model":         map[string]any{"type": "BPE", "vocab": vocab, "merges": []string{"! \""}},
		"added_tokens":  []map[string]any{{"id": 257, "content": "<|end|>", "special": true}},
		"pre_tokenizer": map[string]any{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
		"decoder":       map[string]any{"type": "ByteLevel"},
	}
	b, _ := json.Marshal(tj)
	return b
}

// TestQuantizeHFFolder converts tiny Hugging Face llama and qwen2 folders:
// the file holds llama.cpp's names and keys, and goformer loads from it the
// weights it loads from the folder (q and k permuted there and back).
func TestQuantizeHFFolder(t *testing.T) {
	for _, c := range []struct {
		modelType  string
		tied, bias bool
	}{{"llama", false, false}, {"qwen2", true, true}} {
		ts := tinyLlama(c.bias, c.tied)
		for i := range ts { // 258 tokens: the tokenizer's
			if ts[i].shape[0] == 100 {
				ts[i].shape = []int{258, 64}
				for len(ts[i].values) < 258*64 {
					ts[i].values = append(ts[i].values, ts[i].values[len(ts[i].values)%6400]/2)
				}
			}
		}
		config := strings.Replace(tinyLlamaConfig(c.modelType, c.tied), `"vocab_size": 100`, `"vocab_size": 258`, 1)
		dir := writeCheckpointDir(t, config, map[string][]byte{SafetensorsFile: encodeTensors(ts, "F32", "")})
		require.NoError(t, os.Remove(filepath.Join(dir, VocabFile)))
		require.NoError(t, os.Remove(filepath.Join(dir, MergesFile)))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), tinyTokenizerJSON(), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer_config.json"),
			[]byte(`{"bos_token": "<|end|>", "eos_token": "<|end|>", "chat_template": "{{ messages[0].content }}"}`), 0o644))
		out := filepath.Join(t.TempDir(), "q8.gguf")
		r, err := Quantize(context.Background(), dir, out, preset(t, "Q8_0"))
		require.NoError(t, err, c.modelType)
		names := map[string]bool{}
		for _, qt := range r.Tensors {
			names[qt.Name] = true
		}
		assert.True(t, names["rope_freqs.weight"], "llama3 scaling becomes rope_freqs")
		assert.Equal(t, !c.tied, names["output.weight"])

		f, err := gguf.Open(out)
		require.NoError(t, err)
		arch, _ := f.String("general.architecture")
		assert.Equal(t, c.modelType, arch)
		toks, err := f.Strings("tokenizer.ggml.tokens")
		require.NoError(t, err)
		assert.Len(t, toks, 258)
		assert.Equal(t, "<|end|>", toks[257])
		assert.Equal(t, "!\"", toks[256])
		types, _ := f.Ints("tokenizer.ggml.token_type")
		assert.Equal(t, int64(3), types[257])
		assert.Equal(t, int64(1), types[256])
		merges, _ := f.Strings("tokenizer.ggml.merges")
		assert.Equal(t, []string{"! \""}, merges)
		bos, _ := f.Int("tokenizer.ggml.bos_token_id")
		assert.Equal(t, int64(257), bos)
		tmpl, _ := f.String("tokenizer.chat_template")
		assert.Equal(t, "{{ messages[0].content }}", tmpl)
		_, hasBias := f.Tensor("blk.0.attn_q.bias")
		assert.Equal(t, c.bias, hasBias)
		f.Close()

		// Q8_0 of the file against Q8_0 of the folder's own weights, loaded.
		fromFile, err := Load(out)
		require.NoError(t, err)
		fromDir, err := LoadDir(dir)
		require.NoError(t, err)
		for l := range fromDir.Weights.Layers {
			want := &fromDir.Weights.Layers[l]
			got := &fromFile.Weights.Layers[l]
			for name, pair := range map[string][2]*Matrix{"q": {want.Q, got.Q}, "k": {want.K, got.K}, "down": {want.Down, got.Down}} {
				w := make([]float32, pair[0].Cols)
				g := make([]float32, pair[0].Cols)
				for r := range pair[0].Rows {
					pair[0].Row(r, w)
					pair[1].Row(r, g)
					for i := range w {
						assert.InDelta(t, w[i], g[i], 2.0/127+1e-6, "%s layer %d %s row %d", c.modelType, l, name, r)
					}
				}
			}
			if c.bias {
				assert.Equal(t, want.QBias, got.QBias, "q bias back in Hugging Face order")
			}
		}
		fromFile.Close()
		fromDir.Close()
	}
}

// TestQuantizeHFFolderErrors: a folder goformer cannot convert is refused
// by name; permuteRoPE makes each head's rotate-half pairs neighbours.
func TestQuantizeHFFolderErrors(t *testing.T) {
	dir := writeCheckpointDir(t, tinyLlamaConfig("llama", true), map[string][]byte{SafetensorsFile: encodeTensors(tinyLlama(false, true), "F32", "")})
	_, err := Quantize(context.Background(), dir, filepath.Join(t.TempDir(), "x.gguf"), preset(t, "Q8_0"))
	assert.ErrorContains(t, err, "vocab.json") // its 1-token vocab.json is not a byte-level one
	assert.Equal(t, []float32{1, 2}, permuteRoPE([]float32{1, 2}, 1, 2))
	v := []float32{0, 1, 2, 3, 4, 5, 6, 7}
	assert.Equal(t, []float32{0, 2, 1, 3, 4, 6, 5, 7}, permuteRoPE(v, 1, 4), fmt.Sprint("pairs (j, j+hd/2) become neighbours"))
}
