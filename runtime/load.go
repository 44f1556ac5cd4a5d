package runtime

import (
	"fmt"
	"io/fs"
	"slices"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/model/tokenizer"
)

// Load reads the checkpoint at path and prepares it for inference. path is
// a Hugging Face directory of GPT-2 or the Llama family (Llama, Mistral,
// Qwen2: config.json, model.safetensors or its shards, vocab.json and
// merges.txt or a tokenizer.json) or a llama.cpp GGUF file of architecture
// gpt2, llama or qwen2 (F32, F16, BF16 or Q8_0 tensors; the tokenizer from
// its metadata). A GGUF
// file stays mapped until Close; its Q8_0 matrices run on the int8 kernels
// and its Q8_0 token embedding is the int8 table whatever opts.Embeddings
// says. With opts.Weights set to Int8Weights every fp32 matrix is quantized
// to int8 blocks here, once. A failed load returns an error naming the file, tensor or value at
// fault and keeps nothing.
func Load(path string, opts Options) (*Model, error) {
	ck, err := model.Load(path)
	if err != nil {
		return nil, err
	}
	tok := ck.Tokenizer
	if tok == nil {
		if tok, err = tokenizer.LoadDir(path); err != nil {
			return nil, err
		}
	}
	m, err := fromCheckpoint(ck, tok, path, opts)
	if err != nil {
		ck.Close()
		return nil, err
	}
	// The model holds what it needs; the checkpoint's own references would
	// keep the loader's copies of the matrices alive until Close.
	ck.Weights = model.Weights{}
	m.release = ck.Close
	return m, nil
}

// LoadFS is Load for a checkpoint held in a file system, such as the demo
// model embedded in the goformer command (model/demo).
func LoadFS(fsys fs.FS, opts Options) (*Model, error) {
	ck, err := model.LoadFS(fsys)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.LoadFS(fsys, ".")
	if err != nil {
		return nil, err
	}
	return fromCheckpoint(ck, tok, "embedded checkpoint", opts)
}

func fromCheckpoint(ck *model.Checkpoint, tok *tokenizer.Tokenizer, name string, opts Options) (*Model, error) {
	if tok.VocabSize() > ck.Config.VocabSize {
		return nil, fmt.Errorf("%s: the tokenizer has %d tokens but the model's vocabulary only %d", name, tok.VocabSize(), ck.Config.VocabSize)
	}
	cfg := ck.Config
	cfg.EndIDs = endIDs(cfg, tok)
	m, err := newModel(cfg, &ck.Weights, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m.tok = tok
	m.warnings = slices.Clip(ck.Warnings)
	if w := tok.Warning(); w != "" {
		m.warnings = append(m.warnings, w)
	}
	return m, nil
}

// Tokenizer returns the model's tokenizer.
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.tok }

// Warnings are the doubts about the checkpoint's files that did not stop the
// load, each one line naming the file: a stored lm_head that the config's
// tie_word_embeddings leaves unused, a merges file that seems cut short
// (the tokenizer's Warning). A command prints them; nil when there are none.
func (m *Model) Warnings() []string { return m.warnings }

// endIDs is the stop set of generation: the config's end ids (the
// checkpoint's EOS, GGUF's eot and eom ids, generation_config.json's
// eos_token_id list), then the tokenizer's EOS and the end-of-turn tokens
// llama.cpp stops at (tokenizer.EndOfGeneration), so that run, chat and
// the server stop where llama.cpp does.
func endIDs(cfg model.Config, tok *tokenizer.Tokenizer) []int {
	var ids []int
	for _, id := range tok.EndOfGeneration() {
		if id < cfg.VocabSize && !cfg.IsEnd(id) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if ids == nil {
		return cfg.EndIDs // nothing to add: the config's list as it is
	}
	if len(cfg.EndIDs) == 0 {
		return append([]int{cfg.EOS}, ids...)
	}
	return append(slices.Clone(cfg.EndIDs), ids...)
}
