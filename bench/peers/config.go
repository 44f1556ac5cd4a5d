package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// modelConfig is what peers reads from a Hugging Face folder's config.json:
// which converter writes its GGUF files, how long a context it has, and the
// shape of its KV cache.
type modelConfig struct {
	ModelType string // "gpt2", "llama", "qwen2" or "mistral"
	// Context is GPT-2's n_positions or the Llama family's
	// max_position_embeddings: the GGUF's context_length.
	Context                         int
	NLayer, NHead, NKVHead, HeadDim int
}

// readConfig reads dir/config.json.
func readConfig(dir string) (modelConfig, error) {
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return modelConfig{}, err
	}
	var f struct {
		ModelType string `json:"model_type"`
		// GPT-2
		NPositions int `json:"n_positions"`
		NLayer     int `json:"n_layer"`
		NHead      int `json:"n_head"`
		NEmbd      int `json:"n_embd"`
		// Llama, Qwen2, Mistral
		MaxPositions int `json:"max_position_embeddings"`
		Layers       int `json:"num_hidden_layers"`
		Heads        int `json:"num_attention_heads"`
		KVHeads      int `json:"num_key_value_heads"`
		Hidden       int `json:"hidden_size"`
		HeadDim      int `json:"head_dim"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return modelConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	c := modelConfig{ModelType: f.ModelType}
	switch f.ModelType {
	case "gpt2":
		c.Context, c.NLayer, c.NHead, c.NKVHead = f.NPositions, f.NLayer, f.NHead, f.NHead
		if f.NHead > 0 {
			c.HeadDim = f.NEmbd / f.NHead
		}
	case "llama", "qwen2", "mistral":
		c.Context, c.NLayer, c.NHead, c.NKVHead, c.HeadDim = f.MaxPositions, f.Layers, f.Heads, f.KVHeads, f.HeadDim
		if c.NKVHead == 0 {
			c.NKVHead = c.NHead
		}
		if c.HeadDim == 0 && c.NHead > 0 {
			c.HeadDim = f.Hidden / c.NHead
		}
	default:
		return modelConfig{}, fmt.Errorf("%s: model_type %q: peers converts gpt2, llama, qwen2 and mistral", path, f.ModelType)
	}
	if c.Context < 2 || c.NLayer < 1 || c.NHead < 1 || c.NKVHead < 1 || c.HeadDim < 1 {
		return modelConfig{}, fmt.Errorf("%s: %s with context %d, %d layers, %d heads, %d kv heads of %d: not a model peers can measure",
			path, c.ModelType, c.Context, c.NLayer, c.NHead, c.NKVHead, c.HeadDim)
	}
	return c, nil
}

// converter is the peer tool that writes the model's GGUF files, as a path
// inside the scratch folder (see setup).
func (c modelConfig) converter() string {
	if c.ModelType == "gpt2" {
		return "gguf_convert.py"
	}
	return llamaConverter
}

// pp and tg are llama-bench's pp512 and tg128, capped one below the context
// (node-llama-cpp keeps a cell free).
func (c modelConfig) pp() int { return min(512, c.Context-1) }
func (c modelConfig) tg() int { return min(128, c.Context-1) }

// kvBytesPerToken is what one position adds to an fp32 KV cache:
// 2·n_layer·n_kv_head·head_dim·4.
func (c modelConfig) kvBytesPerToken() int { return 2 * c.NLayer * c.NKVHead * c.HeadDim * 4 }

// asLlama writes, for a Mistral folder, a folder of the same name under
// scratch whose config.json says llama and whose other files link to the
// original's: llama.cpp's converter writes Mistral as its llama
// architecture (q/k permuted), and llama_gguf_convert.py writes the
// architecture config.json names. The sliding window is lost with it, for
// llama.cpp and goformer alike, which runs the same file; it does not
// matter while pp and tg fit in the window.
func asLlama(dir, scratch string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return "", err
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return "", err
	}
	cfg["model_type"], cfg["architectures"] = "llama", []string{"LlamaForCausalLM"}
	out := filepath.Join(scratch, "mistral-as-llama", filepath.Base(filepath.Clean(dir)))
	if err := os.RemoveAll(out); err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.Name() != "config.json" {
			if err := os.Symlink(filepath.Join(abs, e.Name()), filepath.Join(out, e.Name())); err != nil {
				return "", err
			}
		}
	}
	b, err := json.MarshalIndent(cfg, "", " ")
	if err != nil {
		return "", err
	}
	return out, os.WriteFile(filepath.Join(out, "config.json"), b, 0o644)
}
