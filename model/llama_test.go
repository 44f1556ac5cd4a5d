package model

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/goformer/goformer/model/internal/safetensorstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyLlama is a two-layer Llama checkpoint's tensors, named and shaped as
// Hugging Face's LlamaForCausalLM (and Qwen2ForCausalLM with qkvBias)
// saves them, written out by hand: vocab 100, hidden 64, 8 query heads
// and 2 kv heads of 16, intermediate 96, untied unless tied.
func tinyLlama(qkvBias, tied bool) []tinyTensor {
	rng := rand.New(rand.NewPCG(7, 7))
	var ts []tinyTensor
	add := func(name string, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			// Multiples of 1/64 in [-2, 2): exact in BF16 and F16.
			v[i] = float32(rng.IntN(256)-128) / 64
		}
		ts = append(ts, tinyTensor{name: name, shape: shape, values: v})
	}
	add("model.embed_tokens.weight", 100, 64)
	for l := range 2 {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", 64)
		add(p+"self_attn.q_proj.weight", 128, 64)
		add(p+"self_attn.k_proj.weight", 32, 64)
		add(p+"self_attn.v_proj.weight", 32, 64)
		if qkvBias {
			add(p+"self_attn.q_proj.bias", 128)
			add(p+"self_attn.k_proj.bias", 32)
			add(p+"self_attn.v_proj.bias", 32)
		}
		add(p+"self_attn.o_proj.weight", 64, 128)
		add(p+"post_attention_layernorm.weight", 64)
		add(p+"mlp.gate_proj.weight", 96, 64)
		add(p+"mlp.up_proj.weight", 96, 64)
		add(p+"mlp.down_proj.weight", 64, 96)
	}
	add("model.norm.weight", 64)
	if !tied {
		add("lm_head.weight", 100, 64)
	}
	return ts
}

// tinyLlamaConfig is llamaBase with tie_word_embeddings as given.
func tinyLlamaConfig(modelType string, tied bool) string {
	c := "{" + strings.Replace(llamaBase, `"tie_word_embeddings": true`, fmt.Sprintf(`"tie_word_embeddings": %v`, tied), 1) + "}"
	if modelType != "llama" {
		c = strings.Replace(c, `"model_type": "llama", "architectures": ["LlamaForCausalLM"]`,
			fmt.Sprintf(`"model_type": %q, "architectures": ["Qwen2ForCausalLM"]`, modelType), 1)
	}
	return c
}

func TestLoadTinyLlama(t *testing.T) {
	for _, c := range []struct {
		modelType  string
		tied, bias bool
	}{{"llama", false, false}, {"llama", true, false}, {"qwen2", true, true}} {
		for _, dtype := range []string{"F32", "BF16"} {
			t.Run(fmt.Sprintf("%s/tied=%v/%s", c.modelType, c.tied, dtype), func(t *testing.T) {
				ts := tinyLlama(c.bias, c.tied)
				dir := writeCheckpointDir(t, tinyLlamaConfig(c.modelType, c.tied), map[string][]byte{SafetensorsFile: encodeTensors(ts, dtype, "")})
				ck, err := LoadDir(dir)
				require.NoError(t, err)
				cfg, w := ck.Config, ck.Weights
				assert.Equal(t, c.modelType, cfg.ModelType)
				assert.Equal(t, c.tied, cfg.Arch.TiedEmbeddings)
				v := func(name string) []float32 { return findTiny(ts, name).values }
				assert.Equal(t, v("model.embed_tokens.weight"), w.TokenEmbedding.F32)
				assert.Equal(t, v("model.norm.weight"), w.FinalNorm.Gain)
				assert.Nil(t, w.FinalNorm.Bias, "RMSNorm")
				for l, L := range w.Layers {
					p := fmt.Sprintf("model.layers.%d.", l)
					assert.Equal(t, v(p+"self_attn.q_proj.weight"), L.Q.F32)
					assert.Equal(t, [2]int{32, 64}, [2]int{L.K.Rows, L.K.Cols})
					assert.Equal(t, v(p+"self_attn.o_proj.weight"), L.O.F32)
					assert.Equal(t, [2]int{64, 128}, [2]int{L.O.Rows, L.O.Cols})
					assert.Equal(t, v(p+"mlp.gate_proj.weight"), L.Gate.F32)
					assert.Equal(t, v(p+"mlp.down_proj.weight"), L.Down.F32)
					assert.Equal(t, v(p+"post_attention_layernorm.weight"), L.MLPNorm.Gain)
					if c.bias {
						assert.Equal(t, v(p+"self_attn.k_proj.bias"), L.KBias)
					} else {
						assert.Nil(t, L.QBias)
					}
					assert.Nil(t, L.OBias)
					assert.Nil(t, L.UpBias)
				}
				if c.tied {
					assert.Nil(t, w.Output)
				} else {
					assert.Equal(t, v("lm_head.weight"), w.Output.F32)
				}
			})
		}
	}
}

func TestLoadTinyLlamaErrors(t *testing.T) {
	rename := func(ts []tinyTensor, from, to string) []tinyTensor {
		out := append([]tinyTensor(nil), ts...)
		for i := range out {
			if out[i].name == from {
				out[i].name = to
			}
		}
		return out
	}
	drop := func(ts []tinyTensor, name string) []tinyTensor {
		var out []tinyTensor
		for _, t := range ts {
			if t.name != name {
				out = append(out, t)
			}
		}
		return out
	}
	reshape := func(ts []tinyTensor, name string, rows, cols int) []tinyTensor {
		out := append([]tinyTensor(nil), ts...)
		for i := range out {
			if out[i].name == name {
				out[i].shape, out[i].values = []int{rows, cols}, make([]float32, rows*cols)
			}
		}
		return out
	}
	with := func(ts []tinyTensor, name string, shape ...int) []tinyTensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return append(append([]tinyTensor(nil), ts...), tinyTensor{name: name, shape: shape, values: make([]float32, n)})
	}
	untied := tinyLlama(false, false)
	buffer := append(tinyLlama(false, false), tinyTensor{name: "model.layers.0.self_attn.rotary_emb.inv_freq", shape: []int{8}, values: make([]float32, 8)})
	for _, c := range []struct {
		name, config string
		ts           []tinyTensor
		want         string
	}{
		{"lm_head missing", tinyLlamaConfig("llama", false), drop(untied, "lm_head.weight"),
			`tensor "lm_head.weight" [100 64] is missing, and config.json says tie_word_embeddings false`},
		{"k shape", tinyLlamaConfig("llama", false), reshape(untied, "model.layers.1.self_attn.k_proj.weight", 128, 64),
			`tensor "model.layers.1.self_attn.k_proj.weight" has shape [128 64], expected [32 64]`},
		{"extra layer", tinyLlamaConfig("llama", false), with(untied, "model.layers.2.mlp.up_proj.weight", 96, 64),
			`unknown tensor "model.layers.2.mlp.up_proj.weight" [96 64]: config.json has num_hidden_layers 2`},
		{"unknown", tinyLlamaConfig("llama", false), with(untied, "model.final_norm.weight", 64),
			`unknown tensor "model.final_norm.weight" [64]`},
		{"qwen2 bias missing", tinyLlamaConfig("qwen2", true), tinyLlama(false, true),
			`tensor "model.layers.0.self_attn.q_proj.bias" [128] is missing`},
		{"bias without attention_bias", tinyLlamaConfig("llama", true), tinyLlama(true, true),
			`unknown tensor "model.layers.0.self_attn.k_proj.bias" [32]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeCheckpointDir(t, c.config, map[string][]byte{SafetensorsFile: encodeTensors(c.ts, "F32", "")})
			_, err := LoadDir(dir)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrTensorMismatch)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), SafetensorsFile, "names the file")
		})
	}

	// Older checkpoints save the rotary frequencies; goformer computes them.
	dir := writeCheckpointDir(t, tinyLlamaConfig("llama", false), map[string][]byte{SafetensorsFile: encodeTensors(buffer, "F32", "")})
	_, err := LoadDir(dir)
	assert.NoError(t, err)

	// An I8 tensor is refused by name.
	var tensors []safetensorstest.Tensor
	for _, t := range rename(untied, "model.embed_tokens.weight", "skip") {
		if t.name != "skip" {
			tensors = append(tensors, safetensorstest.Tensor{Name: t.name, DType: "F32", Shape: t.shape, Data: safetensorstest.F32(t.values)})
		}
	}
	tensors = append(tensors, safetensorstest.Tensor{Name: "model.embed_tokens.weight", DType: "I8", Shape: []int{100, 64}, Data: make([]byte, 6400)})
	bad := safetensorstest.Encode(nil, tensors...)
	dir = writeCheckpointDir(t, tinyLlamaConfig("llama", false), map[string][]byte{SafetensorsFile: bad})
	_, err = LoadDir(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tensor "model.embed_tokens.weight" [100 64] has dtype I8`)
}

// TestGenerationConfigEndIDs: generation_config.json's eos ids (an id or a
// list) end generation too, after config.json's.
func TestGenerationConfigEndIDs(t *testing.T) {
	ts := tinyLlama(false, false)
	cfg := strings.Replace(tinyLlamaConfig("llama", false), `"eos_token_id": [2, 3]`, `"eos_token_id": 2`, 1)
	for _, c := range []struct {
		gen  string
		want []int
	}{{`{"eos_token_id": [2, 7, 3]}`, []int{2, 7, 3}}, {`{"eos_token_id": 9}`, []int{2, 9}}, {`{"do_sample": false}`, []int{2}}} {
		dir := writeCheckpointDir(t, cfg, map[string][]byte{SafetensorsFile: encodeTensors(ts, "F32", ""), GenerationFile: []byte(c.gen)})
		ck, err := LoadDir(dir)
		require.NoError(t, err)
		assert.Equal(t, c.want, ck.Config.EndIDs, c.gen)
	}
	dir := writeCheckpointDir(t, cfg, map[string][]byte{SafetensorsFile: encodeTensors(ts, "F32", ""), GenerationFile: []byte(`{"eos_token_id": [2, 100]}`)})
	_, err := LoadDir(dir)
	assert.ErrorIs(t, err, ErrInvalidConfig)
	assert.ErrorContains(t, err, GenerationFile+": invalid model config: eos_token_id 100 is outside the vocabulary of 100 tokens")
}
