package model

import (
	"strings"
	"testing"

	"github.com/goformer/goformer/model/modeltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const tinyConfigJSON = modeltest.TinyConfigJSON

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(tinyConfigJSON))
	require.NoError(t, err)
	assert.Equal(t, Config{ModelType: "gpt2", VocabSize: 7, NPositions: 5, NEmbd: 4, NLayer: 2, NHead: 2, NInner: 12,
		LayerNormEps: 1e-5, Activation: "gelu_new", BOS: 6, EOS: 5, Arch: GPT2Arch}, c)
	assert.Equal(t, 2, c.HeadDim())
}

// Keys Hugging Face defaults take GPT-2's values; n_ctx stands in for n_positions.
func TestParseConfigDefaults(t *testing.T) {
	c, err := ParseConfig([]byte(`{"vocab_size": 50257, "n_ctx": 64, "n_embd": 96, "n_layer": 1, "n_head": 3, "n_inner": null}`))
	require.NoError(t, err)
	assert.Equal(t, 64, c.NPositions)
	assert.Equal(t, 384, c.NInner, "n_inner null is 4·n_embd")
	assert.Equal(t, float32(1e-5), c.LayerNormEps)
	assert.Equal(t, "gelu_new", c.Activation)
	assert.Equal(t, 50256, c.BOS)
	assert.Equal(t, 50256, c.EOS)
	assert.Equal(t, GPT2Arch, c.Arch)

	c, err = ParseConfig([]byte(`{"vocab_size": 7, "n_positions": 5, "n_ctx": 5, "n_embd": 4, "n_layer": 1, "n_head": 1,
		"activation_function": "gelu_pytorch_tanh", "tie_word_embeddings": false, "bos_token_id": 0, "eos_token_id": 0,
		"architectures": ["GPT2Model"], "scale_attn_weights": true, "scale_attn_by_inverse_layer_idx": false,
		"reorder_and_upcast_attn": true, "unknown_key": [1, 2]}`))
	require.NoError(t, err)
	assert.Equal(t, "gelu_new", c.Activation, "gelu_pytorch_tanh is the same tanh approximation")
	assert.False(t, c.Arch.TiedEmbeddings)
	assert.Equal(t, 16, c.NInner)
}

func TestParseConfigRejects(t *testing.T) {
	base := `"vocab_size": 7, "n_positions": 5, "n_embd": 4, "n_layer": 2, "n_head": 2`
	for _, c := range []struct{ name, json, want string }{
		{"malformed JSON", `{"n_embd": 4,`, "unexpected end of JSON"},
		{"not an object", `[1]`, "the config is a JSON array, want an object"},
		{"n_embd a string", `{"n_embd": "96"}`, "n_embd is a JSON string, want int"},
		{"n_embd fractional", `{"n_embd": 9.5}`, "n_embd is a JSON number 9.5, want int"},
		{"missing n_embd", `{"vocab_size": 7, "n_positions": 5, "n_layer": 2, "n_head": 2}`, "n_embd is missing"},
		{"missing vocab_size", `{"n_positions": 5, "n_embd": 4, "n_layer": 2, "n_head": 2}`, "vocab_size is missing"},
		{"missing n_positions", `{"vocab_size": 7, "n_embd": 4, "n_layer": 2, "n_head": 2}`, "n_positions (or n_ctx) is missing"},
		{"n_embd not divisible", `{"vocab_size": 7, "n_positions": 5, "n_embd": 100, "n_layer": 2, "n_head": 3}`, "n_embd 100 is not divisible by n_head 3"},
		{"n_head zero", `{"vocab_size": 7, "n_positions": 5, "n_embd": 4, "n_layer": 2, "n_head": 0}`, "n_head 0 is outside 1..16777216"},
		{"negative n_layer", `{"vocab_size": 7, "n_positions": 5, "n_embd": 4, "n_layer": -1, "n_head": 2}`, "n_layer -1 is outside 1..4096"},
		{"huge vocab", `{"vocab_size": 100000000, "n_positions": 5, "n_embd": 4, "n_layer": 2, "n_head": 2}`, "vocab_size 100000000 is outside 1..16777216"},
		{"n_inner zero", `{` + base + `, "n_inner": 0}`, "n_inner 0 is outside"},
		{"n_ctx disagrees", `{` + base + `, "n_ctx": 6}`, "n_ctx 6 and n_positions 5 disagree"},
		{"activation relu", `{` + base + `, "activation_function": "relu"}`, `activation_function "relu" is not implemented`},
		{"activation exact gelu", `{` + base + `, "activation_function": "gelu"}`, `activation_function "gelu" is not implemented`},
		{"eps zero", `{` + base + `, "layer_norm_epsilon": 0}`, "layer_norm_epsilon 0 is not a positive float32"},
		{"eps below float32", `{` + base + `, "layer_norm_epsilon": 1e-50}`, "layer_norm_epsilon 1e-50 is not a positive float32"},
		{"eos outside vocab", `{` + base + `}`, "bos_token_id 50256 is outside the vocabulary of 7 tokens"},
		{"bos negative", `{` + base + `, "bos_token_id": -1, "eos_token_id": 0}`, "bos_token_id -1 is outside"},
		{"architectures", `{` + base + `, "architectures": ["LlamaForCausalLM"]}`, `architectures has "LlamaForCausalLM"`},
		{"inverse layer scaling", `{` + base + `, "scale_attn_by_inverse_layer_idx": true}`, "scale_attn_by_inverse_layer_idx true is not implemented"},
		{"unscaled attention", `{` + base + `, "scale_attn_weights": false}`, "scale_attn_weights false is not implemented"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.json))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			assert.Contains(t, err.Error(), c.want)
			assert.True(t, strings.HasPrefix(err.Error(), "invalid model config: "), err.Error())
		})
	}
}

// An architecture goformer does not run is ErrUnsupported, not a malformed
// config: callers branch on the difference.
func TestParseConfigUnsupportedModelType(t *testing.T) {
	_, err := ParseConfig([]byte(`{"model_type": "gemma2", "vocab_size": 7}`))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.NotErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), `model_type "gemma2" (goformer reads gpt2, llama, mistral, qwen2)`)
}
