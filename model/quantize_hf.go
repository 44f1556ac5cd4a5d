package model

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"unsafe"

	"github.com/goformer/goformer/internal/sidefile"
	"github.com/goformer/goformer/model/gguf"
	"github.com/goformer/goformer/model/tokenizer"
)

// openHFSource reads a Hugging Face folder of the Llama family (llama,
// mistral, qwen2: config.json, safetensors, tokenizer.json and
// tokenizer_config.json) as the GGUF file llama.cpp's convert_hf_to_gguf.py
// would make of it in F32: its keys, its tokenizer keys, and its tensors
// under llama.cpp's names, with a llama file's query and key rows permuted
// back into llama.cpp's RoPE order and llama3 scaling as a rope_freqs
// tensor.
func openHFSource(dir string) (*quantizeSource, error) {
	ck, err := LoadDir(dir)
	if err != nil {
		return nil, err
	}
	c := &ck.Config
	arch, ok := map[string]string{"llama": "llama", "mistral": "llama", "qwen2": "qwen2"}[c.ModelType]
	if !ok {
		ck.Close()
		return nil, fmt.Errorf("%w: %s is a %s model: goformer quantize converts Hugging Face folders of the Llama family (llama, mistral, qwen2); convert others with llama.cpp's convert_hf_to_gguf.py", ErrUnsupported, dir, c.ModelType)
	}
	tok, err := tokenizer.LoadDir(dir)
	if err != nil {
		ck.Close()
		return nil, err
	}
	kvs, err := hfKVs(dir, c, arch, tok)
	if err != nil {
		ck.Close()
		return nil, err
	}
	w := ck.Weights
	var ropeFreqs []float32
	if c.RoPEScaling.Type == "llama3" {
		ropeFreqs = llama3RopeFreqs(c)
	}
	s := &quantizeSource{kvs: kvs, arch: arch, nLayer: c.NLayer, gqa: c.NKVHead != 0 && c.NKVHead != c.NHead, close: ck.Close}
	add := func(name string, dims []int, v []float32) {
		var data []byte
		if len(v) > 0 {
			data = unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
		}
		if !littleEndian {
			data = f32LE(v)
		}
		s.tensors = append(s.tensors, &gguf.Tensor{Name: name, Type: gguf.F32, Dims: dims, Data: data})
	}
	layout := ggufLlamaLayout(c, &w, &ropeFreqs)
	if w.Output != nil {
		layout = append(layout, ggufMatrix(ggufOutput, c.NEmbd, c.VocabSize, &w.Output))
	}
	hd := c.HeadDim()
	for _, t := range layout {
		switch {
		case t.vector != nil && *t.vector != nil:
			v := *t.vector
			if arch == "llama" && (strings.HasSuffix(t.name, "attn_q.bias") || strings.HasSuffix(t.name, "attn_k.bias")) {
				v = permuteRoPE(v, 1, hd)
			}
			add(t.name, t.dims, v)
		case t.matrix != nil && *t.matrix != nil:
			m := *t.matrix
			if m.F32 == nil {
				ck.Close()
				return nil, fmt.Errorf("%w: tensor %q of %s is not float", ErrUnsupported, t.name, dir)
			}
			v := m.F32
			if arch == "llama" && (strings.HasSuffix(t.name, "attn_q.weight") || strings.HasSuffix(t.name, "attn_k.weight")) {
				v = permuteRoPE(v, m.Cols, hd)
			}
			add(t.name, t.dims, v)
		}
	}
	return s, nil
}

// permuteRoPE is unpermuteRoPE's inverse for rows of cols values: Hugging
// Face row r goes to file row ropeFileRow(r, hd).
func permuteRoPE(v []float32, cols, hd int) []float32 {
	out := make([]float32, len(v))
	for r := range len(v) / cols {
		dst := ropeFileRow(r, hd)
		copy(out[dst*cols:(dst+1)*cols], v[r*cols:(r+1)*cols])
	}
	return out
}

func f32LE(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		bits := math.Float32bits(x)
		b = append(b, byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24))
	}
	return b
}

// llama3RopeFreqs are the divisors convert_hf_to_gguf.py writes as
// rope_freqs.weight for llama3 scaling, one per rotated pair, in float32 as
// its torch code computes them (to an ulp).
func llama3RopeFreqs(c *Config) []float32 {
	s := c.RoPEScaling
	dim := c.HeadDim()
	lowWave := float64(s.OriginalContext) / s.LowFreqFactor
	highWave := float64(s.OriginalContext) / s.HighFreqFactor
	out := make([]float32, dim/2)
	for i := range out {
		freq := float32(1 / float32(math.Pow(c.RoPETheta, float64(float32(2*i)/float32(dim)))))
		wave := float32(2*math.Pi) * (1 / freq)
		switch {
		case float64(wave) < highWave:
			out[i] = 1
		case float64(wave) > lowWave:
			out[i] = float32(s.Factor)
		default:
			smooth := (float32(s.OriginalContext)*(1/wave) - float32(s.LowFreqFactor)) / float32(s.HighFreqFactor-s.LowFreqFactor)
			out[i] = 1 / ((1-smooth)/float32(s.Factor) + smooth)
		}
	}
	return out
}

// hfKVs are the metadata convert_hf_to_gguf.py writes for a Llama-family
// folder with a byte-level BPE tokenizer.json.
func hfKVs(dir string, c *Config, arch string, tok *tokenizer.Tokenizer) ([]gguf.KV, error) {
	pre, ok := strings.CutPrefix(tok.Kind(), "bpe/")
	if !ok {
		return nil, fmt.Errorf("%w: %s has a %s tokenizer: goformer quantize converts byte-level BPE tokenizers only", ErrUnsupported, dir, tok.Kind())
	}
	var tj struct {
		Model struct {
			Vocab  map[string]int  `json:"vocab"`
			Merges json.RawMessage `json:"merges"`
		} `json:"model"`
		Added []struct {
			ID      int    `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
	}
	path := filepath.Join(dir, "tokenizer.json")
	raw, err := sidefile.Read(path)
	if err == nil {
		err = json.Unmarshal(raw, &tj)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var merges []string
	if err := json.Unmarshal(tj.Model.Merges, &merges); err != nil {
		var pairs [][2]string
		if err2 := json.Unmarshal(tj.Model.Merges, &pairs); err2 != nil {
			return nil, fmt.Errorf("%s: model.merges: %w", path, err)
		}
		for _, p := range pairs {
			merges = append(merges, p[0]+" "+p[1])
		}
	}
	n := c.VocabSize
	tokens := make([]string, n)
	types := make([]int32, n)
	seen := make([]bool, n)
	set := func(id int, s string, typ int32) error {
		if id < 0 || id >= n {
			return fmt.Errorf("%w: %s: token %q has id %d, outside the vocabulary of %d", ErrInvalidConfig, path, s, id, n)
		}
		tokens[id], types[id], seen[id] = s, typ, true
		return nil
	}
	for s, id := range tj.Model.Vocab {
		if err := set(id, s, 1); err != nil {
			return nil, err
		}
	}
	for _, a := range tj.Added {
		typ := int32(4) // user-defined
		if a.Special {
			typ = 3 // control
		}
		if err := set(a.ID, a.Content, typ); err != nil {
			return nil, err
		}
	}
	for id, ok := range seen {
		if !ok { // the config's vocabulary is larger than the tokenizer's
			tokens[id], types[id] = fmt.Sprintf("[PAD%d]", id), 5 // unused
		}
	}
	kv := func(k string, v gguf.Value) gguf.KV { return gguf.KV{Key: k, Value: v} }
	u32 := func(v int) gguf.Value { return gguf.MakeUint32(uint32(v)) }
	kvs := []gguf.KV{
		kv("general.architecture", gguf.MakeString(arch)),
		kv("general.type", gguf.MakeString("model")),
		kv("general.name", gguf.MakeString(filepath.Base(filepath.Clean(dir)))),
		kv(arch+".block_count", u32(c.NLayer)),
		kv(arch+".context_length", u32(c.NPositions)),
		kv(arch+".embedding_length", u32(c.NEmbd)),
		kv(arch+".feed_forward_length", u32(c.NInner)),
		kv(arch+".attention.head_count", u32(c.NHead)),
		kv(arch+".attention.head_count_kv", u32(c.KVHeads())),
		kv(arch+".rope.freq_base", gguf.MakeFloat32(float32(c.RoPETheta))),
		kv(arch+".attention.layer_norm_rms_epsilon", gguf.MakeFloat32(c.LayerNormEps)),
	}
	// The converter writes the head size when config.json names it.
	var hc struct {
		HeadDim *int `json:"head_dim"`
	}
	if raw, err := sidefile.Read(filepath.Join(dir, "config.json")); err == nil && json.Unmarshal(raw, &hc) == nil && hc.HeadDim != nil || c.HeadSize != 0 {
		kvs = append(kvs, kv(arch+".attention.key_length", u32(c.HeadDim())), kv(arch+".attention.value_length", u32(c.HeadDim())))
	}
	if arch == "llama" {
		kvs = append(kvs, kv(arch+".vocab_size", u32(n)), kv(arch+".rope.dimension_count", u32(c.RotaryDims())))
	}
	if c.RoPEScaling.Type == "linear" {
		kvs = append(kvs, kv(arch+".rope.scaling.type", gguf.MakeString("linear")), kv(arch+".rope.scaling.factor", gguf.MakeFloat32(float32(c.RoPEScaling.Factor))))
	}
	if c.SlidingWindow > 0 {
		kvs = append(kvs, kv(arch+".attention.sliding_window", u32(c.SlidingWindow)))
	}
	kvs = append(kvs,
		kv("tokenizer.ggml.model", gguf.MakeString("gpt2")),
		kv("tokenizer.ggml.pre", gguf.MakeString(pre)),
		kv("tokenizer.ggml.tokens", gguf.MakeStrings(tokens)),
		kv("tokenizer.ggml.token_type", gguf.MakeInt32s(types)),
		kv("tokenizer.ggml.merges", gguf.MakeStrings(merges)))
	// A tokenizer without a config names GPT-2's <|endoftext|> (50256)
	// whatever its size: only ids in the vocabulary are written.
	if id, ok := tok.BOS(); ok && id < n {
		kvs = append(kvs, kv("tokenizer.ggml.bos_token_id", u32(id)))
	}
	if id, ok := tok.EOS(); ok && id < n {
		kvs = append(kvs, kv("tokenizer.ggml.eos_token_id", u32(id)))
	}
	// The converter writes add_bos_token and add_eos_token only where
	// tokenizer_config.json has them.
	var tc map[string]json.RawMessage
	if raw, err := sidefile.Read(filepath.Join(dir, "tokenizer_config.json")); err == nil {
		json.Unmarshal(raw, &tc) // a malformed file failed tokenizer.LoadDir already
	}
	if _, ok := tc["add_bos_token"]; ok {
		_, add := tok.AddsBOS()
		kvs = append(kvs, kv("tokenizer.ggml.add_bos_token", gguf.MakeBool(add)))
	}
	if _, ok := tc["add_eos_token"]; ok {
		_, add := tok.AddsEOS()
		kvs = append(kvs, kv("tokenizer.ggml.add_eos_token", gguf.MakeBool(add)))
	}
	for _, name := range tok.ChatTemplateNames() {
		t, _ := tok.ChatTemplate(name)
		key := "tokenizer.chat_template"
		if name != tokenizer.DefaultChatTemplate {
			key += "." + name
		}
		kvs = append(kvs, kv(key, gguf.MakeString(t)))
	}
	return kvs, nil
}
