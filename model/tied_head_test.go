package model

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/goformer/goformer/model/internal/safetensorstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTiedConfigFollowedOverLMHead: a config with tie_word_embeddings true
// (GPT-2's default when absent) and an lm_head that differs from the
// embedding loads as the config says, the embedding being the output
// projection, as Hugging Face ties it; Checkpoint.Warnings says so in one
// line naming the file and both tensors. An lm_head equal to the embedding,
// or tie_word_embeddings false, warns of nothing.
func TestTiedConfigFollowedOverLMHead(t *testing.T) {
	ts := tinyTensors(2)
	other := tinyTensors(3)[0] // wte of another seed: the same shape, other values
	require.NotEqual(t, findTiny(ts, "wte.weight").values, other.values)
	other.name = "lm_head.weight"
	gpt2 := func(head tinyTensor) []byte {
		var out []safetensorstest.Tensor
		for _, t := range append(append([]tinyTensor{}, ts...), head) {
			name := "transformer." + t.name
			if t.name == "lm_head.weight" {
				name = t.name
			}
			out = append(out, safetensorstest.Tensor{Name: name, DType: "F32", Shape: t.shape, Data: safetensorstest.F32(t.values)})
		}
		return safetensorstest.Encode(nil, out...)
	}
	tied := strings.Replace(tinyConfigJSON, `"n_inner": 12,`, `"n_inner": 12, "tie_word_embeddings": true,`, 1)
	for _, config := range map[string]string{"explicit": tied, "GPT-2's default": tinyConfigJSON} {
		dir := writeCheckpointDir(t, config, map[string][]byte{SafetensorsFile: gpt2(other)})
		ck, err := LoadDir(dir)
		require.NoError(t, err)
		assert.True(t, ck.Config.Arch.TiedEmbeddings)
		assert.Nil(t, ck.Weights.Output, "lm_head is not used")
		assert.Equal(t, findTiny(ts, "wte.weight").values, ck.Weights.TokenEmbedding.F32)
		require.Len(t, ck.Warnings, 1)
		assert.Equal(t, filepath.Join(dir, SafetensorsFile)+`: tensor "lm_head.weight" differs from "transformer.wte.weight", but config.json says tie_word_embeddings true: the output projection is "transformer.wte.weight", as the config says, and "lm_head.weight" is not used`,
			ck.Warnings[0])
	}
	same := findTiny(ts, "wte.weight")
	same.name = "lm_head.weight"
	ck, err := LoadDir(writeCheckpointDir(t, tied, map[string][]byte{SafetensorsFile: gpt2(same)}))
	require.NoError(t, err)
	assert.Empty(t, ck.Warnings, "a copy of wte")

	// The Llama family: the same rule, the same warning.
	llama := append(tinyLlama(false, true), tinyTensor{name: "lm_head.weight", shape: []int{100, 64}, values: make([]float32, 6400)})
	for i := range llama[len(llama)-1].values {
		llama[len(llama)-1].values[i] = float32(i%7) / 8
	}
	dir := writeCheckpointDir(t, tinyLlamaConfig("llama", true), map[string][]byte{SafetensorsFile: encodeTensors(llama, "F32", "")})
	ck, err = LoadDir(dir)
	require.NoError(t, err)
	assert.True(t, ck.Config.Arch.TiedEmbeddings)
	assert.Nil(t, ck.Weights.Output)
	assert.Equal(t, findTiny(llama, "model.embed_tokens.weight").values, ck.Weights.TokenEmbedding.F32)
	require.Len(t, ck.Warnings, 1)
	assert.Equal(t, filepath.Join(dir, SafetensorsFile)+`: tensor "lm_head.weight" differs from "model.embed_tokens.weight", but config.json says tie_word_embeddings true: the output projection is "model.embed_tokens.weight", as the config says, and "lm_head.weight" is not used`,
		ck.Warnings[0])
	ck, err = LoadDir(writeCheckpointDir(t, tinyLlamaConfig("llama", false), map[string][]byte{SafetensorsFile: encodeTensors(llama, "F32", "")}))
	require.NoError(t, err)
	assert.Empty(t, ck.Warnings, "untied")
	assert.Equal(t, llama[len(llama)-1].values, ck.Weights.Output.F32)
}
