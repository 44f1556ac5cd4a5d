package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// llamaConfigJSON holds the keys of a Hugging Face LlamaConfig,
// MistralConfig or Qwen2Config that goformer reads. Pointers tell a missing
// key from a zero value.
type llamaConfigJSON struct {
	ModelType           *string          `json:"model_type"`
	Architectures       []string         `json:"architectures"`
	VocabSize           *int             `json:"vocab_size"`
	Hidden              *int             `json:"hidden_size"`
	Intermediate        *int             `json:"intermediate_size"`
	Layers              *int             `json:"num_hidden_layers"`
	Heads               *int             `json:"num_attention_heads"`
	KVHeads             *int             `json:"num_key_value_heads"`
	HeadDim             *int             `json:"head_dim"`
	MaxPositions        *int             `json:"max_position_embeddings"`
	RMSNormEps          *float64         `json:"rms_norm_eps"`
	RoPETheta           *float64         `json:"rope_theta"`
	RoPEScaling         *json.RawMessage `json:"rope_scaling"`
	PartialRotaryFactor *float64         `json:"partial_rotary_factor"`
	HiddenAct           *string          `json:"hidden_act"`
	TieEmbeddings       *bool            `json:"tie_word_embeddings"`
	AttentionBias       *bool            `json:"attention_bias"`
	MLPBias             *bool            `json:"mlp_bias"`
	BOS                 *int             `json:"bos_token_id"`
	EOS                 *tokenIDs        `json:"eos_token_id"`
	SlidingWindow       *int             `json:"sliding_window"`
	UseSlidingWindow    *bool            `json:"use_sliding_window"`
	MaxWindowLayers     *int             `json:"max_window_layers"`
	LayerTypes          []string         `json:"layer_types"`
}

// tokenIDs is a token id or a list of them, as eos_token_id may be (the
// only key of this type).
type tokenIDs []int

func (t *tokenIDs) UnmarshalJSON(b []byte) error {
	var one int
	if err := json.Unmarshal(b, &one); err == nil {
		*t = tokenIDs{one}
		return nil
	}
	var many []int
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("eos_token_id: want a token id or a list of them, got %s", b)
	}
	*t = many
	return nil
}

// llamaFamilies maps the model_type values of the Llama family to the
// architectures entries their causal-LM checkpoints carry.
var llamaFamilies = map[string]string{
	"llama":   "LlamaForCausalLM",
	"mistral": "MistralForCausalLM",
	"qwen2":   "Qwen2ForCausalLM",
}

// llamaUnimplemented are config keys of features goformer does not run:
// a checkpoint that sets them would be silently wrong.
var llamaUnimplemented = []string{
	"attn_logit_softcapping", "final_logit_softcapping", "sliding_window_pattern",
	"query_pre_attn_scalar", "use_qk_norm", "qk_layernorm",
}

// parseLlamaConfig reads the config.json of a Llama-family checkpoint.
func parseLlamaConfig(data []byte, modelType string) (Config, error) {
	var j llamaConfigJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return Config{}, jsonConfigError(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return Config{}, jsonConfigError(err)
	}
	for _, key := range llamaUnimplemented {
		if v, ok := raw[key]; ok && string(v) != "null" && string(v) != "false" {
			return Config{}, fmt.Errorf("%w: %s %s is not implemented", ErrUnsupported, key, v)
		}
	}
	for _, a := range j.Architectures {
		if a != llamaFamilies[modelType] {
			return Config{}, fmt.Errorf("%w: architectures has %q; goformer reads %s for model_type %s", ErrUnsupported, a, llamaFamilies[modelType], modelType)
		}
	}
	c := Config{ModelType: modelType, Arch: LlamaArch}
	c.AttentionBias = j.AttentionBias != nil && *j.AttentionBias
	c.MLPBias = j.MLPBias != nil && *j.MLPBias
	for _, d := range []struct {
		key   string
		value *int
		dst   *int
		max   int
	}{
		{"vocab_size", j.VocabSize, &c.VocabSize, maxDim},
		{"hidden_size", j.Hidden, &c.NEmbd, maxDim},
		{"intermediate_size", j.Intermediate, &c.NInner, maxDim},
		{"num_hidden_layers", j.Layers, &c.NLayer, maxLayers},
		{"num_attention_heads", j.Heads, &c.NHead, maxDim},
		{"max_position_embeddings", j.MaxPositions, &c.NPositions, math.MaxInt32},
	} {
		if d.value == nil {
			return Config{}, fmt.Errorf("%w: %s is missing", ErrInvalidConfig, d.key)
		}
		if err := checkDim(d.key, *d.value, d.max); err != nil {
			return Config{}, err
		}
		*d.dst = *d.value
	}
	if j.KVHeads != nil {
		if err := checkDim("num_key_value_heads", *j.KVHeads, maxDim); err != nil {
			return Config{}, err
		}
		c.NKVHead = *j.KVHeads
	}
	if j.HeadDim != nil {
		c.HeadSize = *j.HeadDim
		if c.HeadSize <= 0 {
			return Config{}, fmt.Errorf("%w: head_dim %d is not positive", ErrInvalidConfig, c.HeadSize)
		}
	}
	if err := checkHeads(&c, "num_key_value_heads", "head_dim"); err != nil {
		return Config{}, err
	}
	if c.NKVHead == c.NHead {
		c.NKVHead = 0
	}
	if c.HeadSize == c.NEmbd/c.NHead && c.NEmbd%c.NHead == 0 {
		c.HeadSize = 0
	}
	if err := checkMatrixSizes(&c); err != nil {
		return Config{}, err
	}

	eps := 1e-6 // LlamaConfig's default
	if j.RMSNormEps != nil {
		eps = *j.RMSNormEps
	}
	var err error
	if c.LayerNormEps, err = checkEps("rms_norm_eps", eps); err != nil {
		return Config{}, err
	}
	if j.HiddenAct != nil && *j.HiddenAct != "silu" {
		return Config{}, fmt.Errorf("%w: hidden_act %q is not implemented (the Llama family's MLP is SwiGLU: silu)", ErrUnsupported, *j.HiddenAct)
	}

	if err := llamaRoPE(&c, &j); err != nil {
		return Config{}, err
	}
	if err := llamaSlidingWindow(&c, &j, modelType); err != nil {
		return Config{}, err
	}

	if j.BOS != nil {
		c.BOS = *j.BOS
	}
	if j.EOS != nil && len(*j.EOS) > 0 {
		c.EOS, c.EndIDs = (*j.EOS)[0], []int(*j.EOS)
	} else {
		c.EOS, c.EndIDs = c.BOS, []int{c.BOS}
	}
	for _, id := range append([]int{c.BOS}, c.EndIDs...) {
		if id < 0 || id >= c.VocabSize {
			return Config{}, fmt.Errorf("%w: token id %d (bos_token_id or eos_token_id) is outside the vocabulary of %d tokens", ErrInvalidConfig, id, c.VocabSize)
		}
	}
	c.Arch.TiedEmbeddings = j.TieEmbeddings != nil && *j.TieEmbeddings
	return c, nil
}

// llamaRoPE reads rope_theta, partial_rotary_factor and rope_scaling.
func llamaRoPE(c *Config, j *llamaConfigJSON) error {
	c.RoPETheta = 10000
	if j.RoPETheta != nil {
		c.RoPETheta = *j.RoPETheta
		if !(c.RoPETheta > 1) || math.IsInf(c.RoPETheta, 0) {
			return fmt.Errorf("%w: rope_theta %g is not a finite base above 1", ErrInvalidConfig, c.RoPETheta)
		}
	}
	if f := j.PartialRotaryFactor; f != nil {
		r := int(float64(c.HeadDim()) * *f)
		if !(*f > 0 && *f <= 1) || r < 2 || r%2 != 0 {
			return fmt.Errorf("%w: partial_rotary_factor %g gives %d rotary dimensions of %d: want an even number ≥ 2", ErrInvalidConfig, *f, r, c.HeadDim())
		}
		if r != c.HeadDim() {
			c.RotaryDim = r
		}
	}
	if j.RoPEScaling == nil || string(*j.RoPEScaling) == "null" {
		return nil
	}
	s, err := parseRoPEScaling(*j.RoPEScaling)
	if err != nil {
		return err
	}
	c.RoPEScaling = s
	return nil
}

// parseRoPEScaling reads a rope_scaling object: its type under rope_type
// (or the older type), linear and llama3 with their keys; other types are
// not implemented.
func parseRoPEScaling(raw []byte) (RoPEScaling, error) {
	var j struct {
		RopeType        *string  `json:"rope_type"`
		Type            *string  `json:"type"`
		Factor          *float64 `json:"factor"`
		LowFreqFactor   *float64 `json:"low_freq_factor"`
		HighFreqFactor  *float64 `json:"high_freq_factor"`
		OriginalContext *int     `json:"original_max_position_embeddings"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return RoPEScaling{}, fmt.Errorf("rope_scaling: %w", jsonConfigError(err))
	}
	kind := ""
	switch {
	case j.RopeType != nil:
		kind = *j.RopeType
	case j.Type != nil:
		kind = *j.Type
	default:
		return RoPEScaling{}, fmt.Errorf("%w: rope_scaling has neither rope_type nor type", ErrInvalidConfig)
	}
	positive := func(key string, v *float64) (float64, error) {
		if v == nil {
			return 0, fmt.Errorf("%w: rope_scaling.%s is missing (rope_type %s)", ErrInvalidConfig, key, kind)
		}
		if !(*v > 0) || math.IsInf(*v, 0) {
			return 0, fmt.Errorf("%w: rope_scaling.%s %g is not a positive number", ErrInvalidConfig, key, *v)
		}
		return *v, nil
	}
	s := RoPEScaling{Type: kind}
	var err error
	switch kind {
	case "default":
		return RoPEScaling{}, nil
	case "linear":
		s.Factor, err = positive("factor", j.Factor)
	case "llama3":
		if s.Factor, err = positive("factor", j.Factor); err != nil {
			break
		}
		if s.LowFreqFactor, err = positive("low_freq_factor", j.LowFreqFactor); err != nil {
			break
		}
		if s.HighFreqFactor, err = positive("high_freq_factor", j.HighFreqFactor); err != nil {
			break
		}
		if s.HighFreqFactor <= s.LowFreqFactor {
			return RoPEScaling{}, fmt.Errorf("%w: rope_scaling.high_freq_factor %g is not above low_freq_factor %g", ErrInvalidConfig, s.HighFreqFactor, s.LowFreqFactor)
		}
		if j.OriginalContext == nil || *j.OriginalContext <= 0 {
			return RoPEScaling{}, fmt.Errorf("%w: rope_scaling.original_max_position_embeddings is missing or not positive (rope_type llama3)", ErrInvalidConfig)
		}
		s.OriginalContext = *j.OriginalContext
	default:
		return RoPEScaling{}, fmt.Errorf("%w: rope_scaling type %q is not implemented (goformer implements linear and llama3)", ErrUnsupported, kind)
	}
	if err != nil {
		return RoPEScaling{}, err
	}
	return s, nil
}

// llamaSlidingWindow reads Mistral's sliding_window, and Qwen2's with
// use_sliding_window and max_window_layers (layers from that index on use
// the window), or the layer_types newer configs list. goformer runs a
// window on every layer or on none.
func llamaSlidingWindow(c *Config, j *llamaConfigJSON, modelType string) error {
	sliding := 0
	for i, t := range j.LayerTypes {
		switch t {
		case "sliding_attention":
			sliding++
		case "full_attention":
		default:
			return fmt.Errorf("%w: layer_types[%d] %q is not implemented", ErrUnsupported, i, t)
		}
	}
	if len(j.LayerTypes) > 0 && len(j.LayerTypes) != c.NLayer {
		return fmt.Errorf("%w: layer_types lists %d layers, num_hidden_layers is %d", ErrInvalidConfig, len(j.LayerTypes), c.NLayer)
	}
	if sliding > 0 && sliding < c.NLayer {
		return fmt.Errorf("%w: layer_types mixes %d sliding-window and %d full-attention layers", ErrUnsupported, sliding, c.NLayer-sliding)
	}
	if j.SlidingWindow == nil || *j.SlidingWindow <= 0 {
		if sliding > 0 {
			return fmt.Errorf("%w: layer_types has sliding_attention layers but sliding_window is not set", ErrInvalidConfig)
		}
		return nil
	}
	on := modelType == "mistral"
	if j.UseSlidingWindow != nil {
		on = *j.UseSlidingWindow
	}
	if len(j.LayerTypes) > 0 {
		on = sliding > 0
	} else if on && modelType == "qwen2" && j.MaxWindowLayers != nil {
		switch mwl := *j.MaxWindowLayers; {
		case mwl >= c.NLayer:
			on = false
		case mwl > 0:
			return fmt.Errorf("%w: use_sliding_window with max_window_layers %d of %d layers (a window on some layers only) is not implemented",
				ErrUnsupported, mwl, c.NLayer)
		}
	}
	if on {
		c.SlidingWindow = *j.SlidingWindow
	}
	return nil
}

// jsonConfigError words a json.Unmarshal error about a config, naming the
// key whose value has the wrong type.
func jsonConfigError(err error) error {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return fmt.Errorf("%w: the config is a JSON %s, want an object", ErrInvalidConfig, typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Errorf("%w: %s is a JSON %s, want %s", ErrInvalidConfig, typeErr.Field, typeErr.Value, typeErr.Type)
	}
	return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
}

// modelTypes lists the model_type values goformer reads, for messages.
func modelTypes() string {
	names := []string{"gpt2"}
	for k := range llamaFamilies {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
