package model

import (
	"encoding/json"
	"fmt"
	"math"
)

// gpt2ConfigJSON holds the keys of a Hugging Face GPT2Config that goformer
// reads. Pointers tell a missing key from a zero value.
type gpt2ConfigJSON struct {
	ModelType     *string  `json:"model_type"`
	Architectures []string `json:"architectures"`
	VocabSize     *int     `json:"vocab_size"`
	NPositions    *int     `json:"n_positions"`
	NCtx          *int     `json:"n_ctx"` // older configs' name for n_positions
	NEmbd         *int     `json:"n_embd"`
	NLayer        *int     `json:"n_layer"`
	NHead         *int     `json:"n_head"`
	NInner        *int     `json:"n_inner"` // null: 4·n_embd
	LayerNormEps  *float64 `json:"layer_norm_epsilon"`
	Activation    *string  `json:"activation_function"`
	BOS           *int     `json:"bos_token_id"`
	EOS           *int     `json:"eos_token_id"`
	TieEmbeddings *bool    `json:"tie_word_embeddings"`
	// Attention variants goformer does not implement; their GPT-2 values are
	// accepted, anything else is an error rather than a silently wrong model.
	ScaleAttnWeights           *bool `json:"scale_attn_weights"`
	ScaleAttnByInverseLayerIdx *bool `json:"scale_attn_by_inverse_layer_idx"`
}

// Defaults of Hugging Face's GPT2Config for the keys goformer lets a config omit.
const (
	gpt2DefaultEps        = 1e-5
	gpt2DefaultActivation = "gelu_new"
	gpt2EndOfText         = 50256 // GPT2Config's bos_token_id and eos_token_id
)

// activations maps the activation_function values goformer implements to the
// name Config uses. gelu_pytorch_tanh is PyTorch's built-in form of the same
// tanh approximation.
var activations = map[string]string{
	"gelu_new":          "gelu_new",
	"gelu_pytorch_tanh": "gelu_new",
}

// gpt2Architectures are the architectures entries whose weights are GPT-2's
// transformer, with or without the tied language-model head.
var gpt2Architectures = map[string]bool{"GPT2LMHeadModel": true, "GPT2Model": true}

// ParseConfig reads a Hugging Face config.json: GPT-2 (model_type gpt2, or
// none) or the Llama family (llama, mistral, qwen2). Keys Hugging Face would
// default take its defaults; the shape keys are required. The result is
// validated; every error names the key and value at fault and wraps
// ErrInvalidConfig, or ErrUnsupported for an architecture or feature
// goformer does not implement.
func ParseConfig(data []byte) (Config, error) {
	var head struct {
		ModelType *string `json:"model_type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Config{}, jsonConfigError(err)
	}
	if head.ModelType != nil && *head.ModelType != "gpt2" {
		if _, ok := llamaFamilies[*head.ModelType]; ok {
			return parseLlamaConfig(data, *head.ModelType)
		}
		return Config{}, fmt.Errorf("%w: model_type %q (goformer reads %s)", ErrUnsupported, *head.ModelType, modelTypes())
	}
	return parseGPT2Config(data)
}

// parseGPT2Config reads a GPT-2 config.json.
func parseGPT2Config(data []byte) (Config, error) {
	var j gpt2ConfigJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return Config{}, jsonConfigError(err)
	}
	return j.config()
}

func (j *gpt2ConfigJSON) config() (Config, error) {
	for _, a := range j.Architectures {
		if !gpt2Architectures[a] {
			return Config{}, fmt.Errorf("%w: architectures has %q; goformer reads GPT2LMHeadModel and GPT2Model", ErrInvalidConfig, a)
		}
	}
	if j.ScaleAttnWeights != nil && !*j.ScaleAttnWeights {
		return Config{}, fmt.Errorf("%w: scale_attn_weights false is not implemented (scores are always scaled by 1/sqrt(head_dim))", ErrInvalidConfig)
	}
	if j.ScaleAttnByInverseLayerIdx != nil && *j.ScaleAttnByInverseLayerIdx {
		return Config{}, fmt.Errorf("%w: scale_attn_by_inverse_layer_idx true is not implemented", ErrInvalidConfig)
	}

	positions, positionsKey := j.NPositions, "n_positions"
	if positions == nil {
		positions, positionsKey = j.NCtx, "n_ctx"
	} else if j.NCtx != nil && *j.NCtx != *j.NPositions {
		return Config{}, fmt.Errorf("%w: n_ctx %d and n_positions %d disagree", ErrInvalidConfig, *j.NCtx, *j.NPositions)
	}
	c := Config{ModelType: "gpt2", Arch: GPT2Arch}
	for _, d := range []struct {
		key   string
		value *int
		dst   *int
		max   int
	}{
		{"vocab_size", j.VocabSize, &c.VocabSize, maxDim},
		{positionsKey, positions, &c.NPositions, maxDim},
		{"n_embd", j.NEmbd, &c.NEmbd, maxDim},
		{"n_layer", j.NLayer, &c.NLayer, maxLayers},
		{"n_head", j.NHead, &c.NHead, maxDim},
	} {
		if d.value == nil {
			if d.key == "n_ctx" {
				return Config{}, fmt.Errorf("%w: n_positions (or n_ctx) is missing", ErrInvalidConfig)
			}
			return Config{}, fmt.Errorf("%w: %s is missing", ErrInvalidConfig, d.key)
		}
		if err := checkDim(d.key, *d.value, d.max); err != nil {
			return Config{}, err
		}
		*d.dst = *d.value
	}
	if c.NEmbd%c.NHead != 0 {
		return Config{}, fmt.Errorf("%w: n_embd %d is not divisible by n_head %d", ErrInvalidConfig, c.NEmbd, c.NHead)
	}
	c.NInner = 4 * c.NEmbd
	if j.NInner != nil {
		if err := checkDim("n_inner", *j.NInner, maxDim); err != nil {
			return Config{}, err
		}
		c.NInner = *j.NInner
	}
	if err := checkMatrixSizes(&c); err != nil {
		return Config{}, err
	}

	eps := gpt2DefaultEps
	if j.LayerNormEps != nil {
		eps = *j.LayerNormEps
	}
	if !(eps > 0) || float32(eps) == 0 || math.IsInf(float64(float32(eps)), 0) {
		return Config{}, fmt.Errorf("%w: layer_norm_epsilon %g is not a positive float32", ErrInvalidConfig, eps)
	}
	c.LayerNormEps = float32(eps)

	act := gpt2DefaultActivation
	if j.Activation != nil {
		act = *j.Activation
	}
	if c.Activation = activations[act]; c.Activation == "" {
		return Config{}, fmt.Errorf("%w: activation_function %q is not implemented (goformer implements gelu_new, also called gelu_pytorch_tanh)", ErrInvalidConfig, act)
	}

	c.BOS, c.EOS = gpt2EndOfText, gpt2EndOfText
	for _, t := range []struct {
		key   string
		value *int
		dst   *int
	}{{"bos_token_id", j.BOS, &c.BOS}, {"eos_token_id", j.EOS, &c.EOS}} {
		if t.value != nil {
			*t.dst = *t.value
		}
		if *t.dst < 0 || *t.dst >= c.VocabSize {
			return Config{}, fmt.Errorf("%w: %s %d is outside the vocabulary of %d tokens", ErrInvalidConfig, t.key, *t.dst, c.VocabSize)
		}
	}

	if j.TieEmbeddings != nil {
		c.Arch.TiedEmbeddings = *j.TieEmbeddings
	}
	return c, nil
}
