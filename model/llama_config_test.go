package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// llamaBase is a Llama-3-shaped config.json: GQA 8/2, an explicit head_dim
// that is not hidden/heads, llama3 RoPE scaling, an eos list.
const llamaBase = `"model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 100,
	"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 8,
	"num_key_value_heads": 2, "head_dim": 16, "max_position_embeddings": 131072, "rms_norm_eps": 1e-5,
	"rope_theta": 500000.0, "hidden_act": "silu", "tie_word_embeddings": true, "bos_token_id": 1,
	"eos_token_id": [2, 3],
	"rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}`

func TestParseLlamaConfig(t *testing.T) {
	c, err := ParseConfig([]byte("{" + llamaBase + "}"))
	require.NoError(t, err)
	assert.Equal(t, Config{
		ModelType: "llama", VocabSize: 100, NPositions: 131072, NEmbd: 64, NLayer: 2, NHead: 8, NKVHead: 2, HeadSize: 16,
		NInner: 96, LayerNormEps: 1e-5, BOS: 1, EOS: 2, EndIDs: []int{2, 3}, Arch: Arch{
			Norm: PreNorm, NormKind: RMSNorm, MLP: SwiGLUMLP, FinalNorm: true, Positions: RoPE, RoPEStyle: RotateHalf, TiedEmbeddings: true},
		RoPETheta:   500000,
		RoPEScaling: RoPEScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 8192},
	}, c)
	assert.Equal(t, 128, c.QueryDim())
	assert.Equal(t, 32, c.KVDim())
	assert.True(t, c.IsEnd(3))
	assert.False(t, c.IsEnd(1))

	// Defaults: kv heads = heads, head_dim = hidden/heads, theta 10000, eps
	// 1e-6, untied, no scaling; a single eos id.
	c, err = ParseConfig([]byte(`{"model_type": "mistral", "vocab_size": 10, "hidden_size": 32, "intermediate_size": 40,
		"num_hidden_layers": 1, "num_attention_heads": 4, "max_position_embeddings": 64, "eos_token_id": 2,
		"sliding_window": 16}`))
	require.NoError(t, err)
	assert.Equal(t, 4, c.KVHeads())
	assert.Equal(t, 8, c.HeadDim())
	assert.Equal(t, 10000.0, c.RoPEBase())
	assert.Equal(t, float32(1e-6), c.LayerNormEps)
	assert.False(t, c.Arch.TiedEmbeddings)
	assert.Equal(t, []int{2}, c.EndIDs)
	assert.Equal(t, 16, c.SlidingWindow, "Mistral's window is on unless use_sliding_window says otherwise")

	// Qwen2 keeps its window off unless use_sliding_window; partial rotation.
	c, err = ParseConfig([]byte(`{"model_type": "qwen2", "vocab_size": 10, "hidden_size": 32, "intermediate_size": 40,
		"num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
		"sliding_window": 16, "use_sliding_window": false, "max_window_layers": 1, "partial_rotary_factor": 0.5,
		"layer_types": ["full_attention", "full_attention"]}`))
	require.NoError(t, err)
	assert.Zero(t, c.SlidingWindow)
	assert.Equal(t, 4, c.RotaryDims())
}

func TestParseLlamaConfigRejects(t *testing.T) {
	replace := func(old, new string) string { return "{" + strings.Replace(llamaBase, old, new, 1) + "}" }
	for _, c := range []struct {
		name, json string
		sentinel   error
		want       string
	}{
		{"kv heads", replace(`"num_key_value_heads": 2`, `"num_key_value_heads": 3`), ErrInvalidConfig, "num_key_value_heads 3 does not divide the 8 query heads"},
		{"kv heads above heads", replace(`"num_key_value_heads": 2`, `"num_key_value_heads": 16`), ErrInvalidConfig, "num_key_value_heads 16 does not divide"},
		{"hidden missing", replace(`"hidden_size": 64,`, ``), ErrInvalidConfig, "hidden_size is missing"},
		{"head_dim", replace(`"head_dim": 16`, `"head_dim": -4`), ErrInvalidConfig, "head_dim -4"},
		{"no head_dim, indivisible", `{"model_type": "llama", "vocab_size": 10, "hidden_size": 30, "intermediate_size": 40, "num_hidden_layers": 1, "num_attention_heads": 4, "max_position_embeddings": 64}`, ErrInvalidConfig, "width 30 is not divisible by the 4 heads"},
		{"yarn", replace(`"rope_type": "llama3"`, `"rope_type": "yarn"`), ErrUnsupported, `rope_scaling type "yarn" is not implemented`},
		{"dynamic", replace(`"rope_type": "llama3"`, `"type": "dynamic"`), ErrUnsupported, `rope_scaling type "dynamic"`},
		{"llama3 key missing", replace(`"low_freq_factor": 1.0, `, ``), ErrInvalidConfig, "rope_scaling.low_freq_factor is missing (rope_type llama3)"},
		{"llama3 factors", replace(`"high_freq_factor": 4.0`, `"high_freq_factor": 0.5`), ErrInvalidConfig, "high_freq_factor 0.5 is not above low_freq_factor 1"},
		{"llama3 context", replace(`, "original_max_position_embeddings": 8192`, ``), ErrInvalidConfig, "original_max_position_embeddings is missing"},
		{"linear factor", replace(`"rope_type": "llama3", "factor": 32.0`, `"rope_type": "linear", "factor": -1`), ErrInvalidConfig, "rope_scaling.factor -1 is not a positive number"},
		{"no scaling type", replace(`"rope_type": "llama3", `, ``), ErrInvalidConfig, "rope_scaling has neither rope_type nor type"},
		{"scaling not an object", replace(`"rope_scaling": {`, `"rope_scaling": 3, "x": {`), ErrInvalidConfig, "rope_scaling"},
		{"theta", replace(`"rope_theta": 500000.0`, `"rope_theta": 0.5`), ErrInvalidConfig, "rope_theta 0.5 is not a finite base above 1"},
		{"activation", replace(`"hidden_act": "silu"`, `"hidden_act": "gelu"`), ErrUnsupported, `hidden_act "gelu" is not implemented`},
		{"softcapping", replace(`"hidden_act": "silu"`, `"hidden_act": "silu", "attn_logit_softcapping": 50.0`), ErrUnsupported, "attn_logit_softcapping 50.0 is not implemented"},
		{"qk norm", replace(`"hidden_act": "silu"`, `"hidden_act": "silu", "use_qk_norm": true`), ErrUnsupported, "use_qk_norm true is not implemented"},
		{"mixed layers", replace(`"hidden_act": "silu"`, `"hidden_act": "silu", "sliding_window": 8, "layer_types": ["sliding_attention", "full_attention"]`), ErrUnsupported, "layer_types mixes 1 sliding-window and 1 full-attention layers"},
		{"layer_types count", replace(`"hidden_act": "silu"`, `"hidden_act": "silu", "layer_types": ["full_attention"]`), ErrInvalidConfig, "layer_types lists 1 layers, num_hidden_layers is 2"},
		{"unknown layer type", replace(`"hidden_act": "silu"`, `"hidden_act": "silu", "layer_types": ["chunked_attention", "full_attention"]`), ErrUnsupported, `layer_types[0] "chunked_attention"`},
		{"eos outside", replace(`"eos_token_id": [2, 3]`, `"eos_token_id": [2, 300]`), ErrInvalidConfig, "token id 300 (bos_token_id or eos_token_id) is outside the vocabulary of 100 tokens"},
		{"eos type", replace(`"eos_token_id": [2, 3]`, `"eos_token_id": "two"`), ErrInvalidConfig, "eos_token_id"},
		{"partial rotary", replace(`"hidden_act": "silu"`, `"hidden_act": "silu", "partial_rotary_factor": 0.1`), ErrInvalidConfig, "partial_rotary_factor 0.1 gives 1 rotary dimensions of 16"},
		{"architectures", replace(`["LlamaForCausalLM"]`, `["Qwen2ForCausalLM"]`), ErrUnsupported, `architectures has "Qwen2ForCausalLM"; goformer reads LlamaForCausalLM for model_type llama`},
		{"eps", replace(`"rms_norm_eps": 1e-5`, `"rms_norm_eps": 0`), ErrInvalidConfig, "rms_norm_eps 0 is not a positive float32"},
		{"qwen2 window on some layers", `{"model_type": "qwen2", "vocab_size": 10, "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 4,
			"num_attention_heads": 4, "max_position_embeddings": 64, "sliding_window": 16, "use_sliding_window": true, "max_window_layers": 2}`,
			ErrUnsupported, "max_window_layers 2 of 4 layers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.json))
			require.Error(t, err)
			assert.ErrorIs(t, err, c.sentinel)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// TestRoPEFrequenciesLlama3 checks the llama3 scaling against the float64
// frequencies llama-mini's reference.json lists (computed by the fixture's
// own PyTorch code), and linear scaling against its definition.
func TestRoPEFrequenciesLlama3(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "fixtures", "llama-mini")
	raw, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Skipf("skipping: the llama-mini fixture is not at %s: %v", dir, err)
	}
	var ref struct {
		RoPE struct {
			InvFreq []float64 `json:"inv_freq"`
		} `json:"rope"`
	}
	require.NoError(t, json.Unmarshal(raw, &ref))
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	require.NoError(t, err)
	c, err := ParseConfig(data)
	require.NoError(t, err)
	got := c.RoPEFrequencies()
	require.Len(t, got, len(ref.RoPE.InvFreq))
	for i, want := range ref.RoPE.InvFreq {
		assert.InEpsilon(t, want, got[i], 1e-14, "pair %d", i)
	}

	c.RoPEScaling = RoPEScaling{Type: "linear", Factor: 4}
	c.RoPETheta, c.HeadSize = 10000, 8
	for k, f := range c.RoPEFrequencies() {
		assert.InEpsilon(t, 1/(4*math.Pow(10000, float64(2*k)/8)), f, 1e-15)
	}
}
