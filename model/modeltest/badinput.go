package modeltest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	gt "github.com/goformer/goformer/model/internal/gguftest"
)

// BadInput is one case of the bad-input corpus: the files of a checkpoint
// directory, or a GGUF file's bytes, that some loader must refuse.
type BadInput struct {
	Name  string
	Files map[string][]byte // a directory's files; nil for a GGUF file
	GGUF  []byte
	Fault string // the file the error must name, for a directory
}

// BadInputs generates the bad-input corpus: every safetensors, GGUF (each
// block type's too), config.json, vocab.json, merges.txt, tokenizer.json
// and tokenizer_config.json fault the loaders
// know, plus truncations and byte flips of valid files. It is generated,
// not committed, so that it grows with the loaders: a new format or loader
// adds its cases here and runs the same checks.
func BadInputs() []BadInput {
	var corpus []BadInput
	ts := TinyTensors(11)
	good := EncodeTensors(ts, "F32", "")
	vocab := []byte(`{"a": 0}`)
	dir := func(name, fault string, over map[string][]byte) {
		files := map[string][]byte{ConfigFile: []byte(TinyConfigJSON), SafetensorsFile: good, VocabFile: vocab, MergesFile: []byte("#version: 0.2\n")}
		for k, v := range over {
			if v == nil {
				delete(files, k)
				continue
			}
			files[k] = v
		}
		corpus = append(corpus, BadInput{Name: name, Files: files, Fault: fault})
	}

	// safetensors: every truncation point of the header and a spread of
	// them through the data; byte flips in the length and the header; the
	// faults of each field.
	n := int(binary.LittleEndian.Uint64(good))
	for _, cut := range []int{0, 1, 7, 8, 9, 8 + n/2, 8 + n - 1, 8 + n, 8 + n + 1, len(good) / 2, len(good) - 4, len(good) - 1} {
		dir(fmt.Sprintf("safetensors cut at %d", cut), SafetensorsFile, map[string][]byte{SafetensorsFile: good[:cut]})
	}
	for _, at := range []int{0, 3, 7, 8, 12, 8 + n/3, 8 + n/2, 8 + n - 2} {
		for _, b := range []byte{0x00, 0xff, '"', '}', '9'} {
			bad := bytes.Clone(good)
			bad[at] = b
			if bytes.Equal(bad, good) {
				continue
			}
			dir(fmt.Sprintf("safetensors byte %d = %#x", at, b), SafetensorsFile, map[string][]byte{SafetensorsFile: bad})
		}
	}
	header := func(h string, data int) []byte {
		out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(out, h...), make([]byte, data)...)
	}
	for i, h := range []string{
		`{}x`, `[]`, `{"w": 1}`, `{"w": {"dtype": "F32"}}`, `{"w": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}`,
		`{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}}`, `{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}`,
		`{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}}`,
		`{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}`,
		`{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}`,
		`{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}`,
		`{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}`,
		`{"__metadata__": {"a": 1}}`,
	} {
		dir(fmt.Sprintf("safetensors header %d", i), SafetensorsFile, map[string][]byte{SafetensorsFile: header(h, 16)})
	}
	for _, x := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		for _, dtype := range []string{"F32", "F16", "BF16"} {
			bad := slices.Clone(ts)
			for i, t := range bad {
				if t.Name == "h.1.mlp.c_fc.weight" {
					bad[i].Values = slices.Clone(t.Values)
					bad[i].Values[len(t.Values)-1] = x
				}
			}
			dir(fmt.Sprintf("safetensors %s %v", dtype, x), SafetensorsFile, map[string][]byte{SafetensorsFile: EncodeTensors(bad, dtype, "")})
		}
	}
	dir("index without shards", "model-00001-of-00002.safetensors", map[string][]byte{SafetensorsFile: nil,
		IndexFile: Index(map[string][]string{"model-00001-of-00002.safetensors": {"wte.weight"}})})
	dir("index malformed", IndexFile, map[string][]byte{SafetensorsFile: nil, IndexFile: []byte(`{"weight_map": [`)})

	// config.json and generation_config.json.
	for i, c := range []string{
		``, `{`, `[]`, `null`, `{"model_type": "gpt2"}`, `{"model_type": "bert"}`,
		strings.Replace(TinyConfigJSON, `"n_embd": 4`, `"n_embd": -4`, 1),
		strings.Replace(TinyConfigJSON, `"n_embd": 4`, `"n_embd": 1e300`, 1),
		strings.Replace(TinyConfigJSON, `"n_embd": 4`, `"n_embd": "4"`, 1),
		strings.Replace(TinyConfigJSON, `"n_head": 2`, `"n_head": 3`, 1),
		strings.Replace(TinyConfigJSON, `"n_layer": 2`, `"n_layer": 99999999`, 1),
		strings.Replace(TinyConfigJSON, `"vocab_size": 7`, `"vocab_size": 0`, 1),
		strings.Replace(TinyConfigJSON, `"layer_norm_epsilon": 1e-5`, `"layer_norm_epsilon": -1`, 1),
		strings.Replace(TinyConfigJSON, `"eos_token_id": 5`, `"eos_token_id": 700`, 1),
	} {
		dir(fmt.Sprintf("config %d", i), ConfigFile, map[string][]byte{ConfigFile: []byte(c)})
	}
	for i, g := range []string{`{`, `{"eos_token_id": 99}`, `{"eos_token_id": "x"}`, `{"eos_token_id": [1, -1]}`} {
		dir(fmt.Sprintf("generation config %d", i), GenerationFile, map[string][]byte{GenerationFile: []byte(g)})
	}

	// GGUF: truncations, flips of the header's counts and of the first
	// tensor infos, and the faults of each part.
	gg := TinyGGUF(gt.Q8_0).Bytes()
	step := max(1, len(gg)/97)
	for cut := 0; cut < len(gg); cut += step {
		corpus = append(corpus, BadInput{Name: fmt.Sprintf("gguf cut at %d", cut), GGUF: gg[:cut]})
	}
	for _, at := range []int{0, 4, 5, 8, 12, 15, 16, 23, 24, 30, 40, 60} {
		for _, b := range []byte{0x00, 0xff, 0x7f} {
			bad := bytes.Clone(gg)
			bad[at] = b
			if !bytes.Equal(bad, gg) {
				corpus = append(corpus, BadInput{Name: fmt.Sprintf("gguf byte %d = %#x", at, b), GGUF: bad})
			}
		}
	}
	ggufCase := func(name string, mod func(*gt.File)) {
		f := TinyGGUF(gt.F32)
		mod(&f)
		corpus = append(corpus, BadInput{Name: "gguf " + name, GGUF: f.Bytes()})
	}
	for _, x := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		ggufCase(fmt.Sprintf("F32 %v", x), func(f *gt.File) { copy(f.Tensors[3].Data, gt.F32Bytes([]float32{x})) })
	}
	// Every block type in blk.0.ffn_up.weight ([32 64]): for the 32-value
	// ones a NaN scale in the first block; for the 256-value K-quants, whose
	// super-blocks the tiny model's 32 columns cannot fill, rows that are
	// not whole blocks (their NaN scales are quant's TestFromBlocksErrors:
	// one check reads every format's scales).
	for _, bt := range []struct {
		name          string
		typ           uint32
		values, bytes int
	}{
		{"Q8_0", gt.Q8_0, 32, 34}, {"Q4_0", 2, 32, 18}, {"Q4_1", 3, 32, 20}, {"Q5_0", 6, 32, 22}, {"Q5_1", 7, 32, 24}, {"IQ4_NL", 20, 32, 18},
		{"Q2_K", 10, 256, 84}, {"Q3_K", 11, 256, 110}, {"Q4_K", 12, 256, 144}, {"Q5_K", 13, 256, 176},
		{"Q6_K", 14, 256, 210}, {"IQ4_XS", 23, 256, 136},
	} {
		if bt.values == 32 {
			ggufCase(bt.name+" scale NaN", func(f *gt.File) {
				for i := range f.Tensors {
					if f.Tensors[i].Name == "blk.0.ffn_up.weight" {
						f.Tensors[i].Type, f.Tensors[i].Data = bt.typ, make([]byte, 64*bt.bytes)
						f.Tensors[i].Data[0], f.Tensors[i].Data[1] = 0x00, 0x7e // d, the first block's fp16 scale: NaN
					}
				}
			})
		} else {
			ggufCase(bt.name+" rows not whole blocks", func(f *gt.File) {
				for i := range f.Tensors {
					if f.Tensors[i].Name == "blk.0.ffn_up.weight" {
						f.Tensors[i].Type, f.Tensors[i].Data = bt.typ, make([]byte, 8*bt.bytes)
					}
				}
			})
		}
	}
	ggufCase("overlapping tensors", func(f *gt.File) { f.Tensors[1].Offset = 0 })
	corpus = append(corpus, BadInput{Name: "gguf data no tensor covers", GGUF: append(TinyGGUF(gt.F32).Bytes(), make([]byte, 64)...)})
	ggufCase("tensor dims larger than its data", func(f *gt.File) { f.Tensors[0].Dims = []uint64{32, 300} })
	for _, kv := range []gt.KV{
		{Key: "general.architecture", Type: gt.String, Value: "mamba"},
		{Key: "gpt2.block_count", Type: gt.Uint32, Value: 0},
		{Key: "gpt2.embedding_length", Type: gt.Uint64, Value: uint64(1 << 62)},
		{Key: "tokenizer.ggml.bos_token_id", Type: gt.Int64, Value: int64(-1 << 62)},
		{Key: "tokenizer.ggml.tokens", Type: gt.Array, Elem: gt.String, Value: []any{}},
		{Key: "tokenizer.ggml.merges", Type: gt.Array, Elem: gt.String, Value: []any{"a"}},
		{Key: "tokenizer.ggml.model", Type: gt.String, Value: "llama"},
	} {
		ggufCase("key "+kv.Key, func(f *gt.File) {
			for i := range f.KVs {
				if f.KVs[i].Key == kv.Key {
					f.KVs[i] = kv
				}
			}
		})
	}

	// vocab.json and merges.txt, as the tokenizer loader reads them.
	for i, v := range []string{``, `{`, `[]`, `{"a": -1}`, `{"a": 0, "b": 0}`, `{"a": 0, "a": 1}`, `{"a": 1}`, `{"a": "0"}`, `{"a": 0} x`} {
		dir(fmt.Sprintf("vocab %d", i), VocabFile, map[string][]byte{VocabFile: []byte(v)})
	}
	for i, m := range []string{"a\n", "a  b\n", " a\n", "#version: 0.2\na b c\n"} {
		dir(fmt.Sprintf("merges %d", i), MergesFile, map[string][]byte{MergesFile: []byte(m)})
	}
	// tokenizer_config.json beside a vocabulary that loads (GPT-2's 256
	// byte tokens, one merge and <|endoftext|>, with a model to match).
	for i, c := range []string{``, `{`, `[]`, `{"add_bos_token": "yes"}`, `{"add_eos_token": 1}`, `{"chat_template": 5}`,
		`{"chat_template": [{"name": "default"}]}`, `{"bos_token": 5}`, `{"eos_token": {"content": 5}}`} {
		files := ByteLevelFiles()
		files[TokenizerConfig] = []byte(c)
		corpus = append(corpus, BadInput{Name: fmt.Sprintf("tokenizer_config.json %d", i), Files: files, Fault: TokenizerConfig})
	}
	for i, j := range []string{``, `{`, `{"model": {"type": "Unigram"}}`, `{"model": {"type": "BPE", "vocab": [], "merges": []}}`} {
		dir(fmt.Sprintf("tokenizer.json %d", i), TokenizerFile, map[string][]byte{VocabFile: nil, MergesFile: nil, TokenizerFile: []byte(j)})
	}
	return corpus
}

// Kind is the format a case exercises: the first word of its name
// (safetensors, gguf, config, vocab, merges, ...).
func (c BadInput) Kind() string { return strings.Fields(c.Name)[0] }

// Write writes the case under root: a GGUF case as root/bad.gguf, a
// directory case as root's files. It returns the path to load and the
// name the error must hold.
func (c BadInput) Write(root string) (path, fault string, err error) {
	if c.Files == nil {
		path = filepath.Join(root, "bad.gguf")
		return path, path, os.WriteFile(path, c.GGUF, 0o644)
	}
	for name, data := range c.Files {
		if err := os.WriteFile(filepath.Join(root, name), data, 0o644); err != nil {
			return "", "", err
		}
	}
	return root, c.Fault, nil
}

// ByteLevelFiles is a checkpoint directory that loads whole: TinyTensors'
// GPT-2 widened to a vocabulary of GPT-2's 256 byte tokens, the merge
// "Ġ t" and <|endoftext|> (258 tokens), with its vocab.json and merges.txt.
func ByteLevelFiles() map[string][]byte {
	ts := TinyTensors(12)
	wte := make([]float32, 258*4)
	for i := range wte {
		wte[i] = float32(i%9-4) / 64
	}
	ts[0] = Tensor{Name: "wte.weight", Shape: []int{258, 4}, Values: wte}
	vocab := map[string]int{"Ġt": 256, "<|endoftext|>": 257}
	for i, b := range ByteAlphabet() {
		vocab[b.(string)] = i
	}
	vj, err := json.Marshal(vocab)
	if err != nil {
		panic(err)
	}
	return map[string][]byte{
		ConfigFile:      []byte(strings.Replace(TinyConfigJSON, `"vocab_size": 7`, `"vocab_size": 258`, 1)),
		SafetensorsFile: EncodeTensors(ts, "F32", ""),
		VocabFile:       vj,
		MergesFile:      []byte("#version: 0.2\nĠ t\n"),
	}
}
