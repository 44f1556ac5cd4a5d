// Package modeltest makes small checkpoints for tests: a tiny GPT-2 in
// safetensors and GGUF form, and the bad-input corpus that every loader
// and the goformer command are run over. It does not import package model,
// so that model's own tests can use it.
package modeltest

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"

	gt "github.com/goformer/goformer/model/internal/gguftest"
	"github.com/goformer/goformer/model/internal/safetensorstest"
)

// The files of a Hugging Face checkpoint directory (model.ConfigFile and
// its siblings, spelled out: this package does not import model).
const (
	ConfigFile      = "config.json"
	SafetensorsFile = "model.safetensors"
	IndexFile       = "model.safetensors.index.json"
	VocabFile       = "vocab.json"
	MergesFile      = "merges.txt"
	TokenizerFile   = "tokenizer.json"
	TokenizerConfig = "tokenizer_config.json"
	GenerationFile  = "generation_config.json"
)

// TinyConfigJSON is the config.json of TinyTensors' GPT-2.
const TinyConfigJSON = `{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": 7,
	"n_positions": 5, "n_embd": 4, "n_layer": 2, "n_head": 2, "n_inner": 12,
	"layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "bos_token_id": 6, "eos_token_id": 5}`

// Tensor is one tensor of a generated checkpoint, in stored layout.
type Tensor struct {
	Name   string // without the transformer. prefix
	Shape  []int
	Values []float32
}

// TinyTensors makes the tensors of a GPT-2 with TinyConfigJSON's shape
// (vocab 7, 5 positions, d 4, 2 layers, d_ff 12), in file order. Every
// value is a multiple of 1/64 below 2 in magnitude, so F16 and BF16 hold it
// exactly and a conversion must reproduce it bit for bit.
func TinyTensors(seed uint64) []Tensor {
	rng := rand.New(rand.NewPCG(seed, 7))
	mk := func(name string, shape ...int) Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.IntN(255)-127) / 64
		}
		return Tensor{name, shape, v}
	}
	ts := []Tensor{mk("wte.weight", 7, 4), mk("wpe.weight", 5, 4)}
	for l := range 2 {
		h := "h." + strconv.Itoa(l) + "."
		ts = append(ts,
			mk(h+"ln_1.weight", 4), mk(h+"ln_1.bias", 4),
			mk(h+"attn.c_attn.weight", 4, 12), mk(h+"attn.c_attn.bias", 12),
			mk(h+"attn.c_proj.weight", 4, 4), mk(h+"attn.c_proj.bias", 4),
			mk(h+"ln_2.weight", 4), mk(h+"ln_2.bias", 4),
			mk(h+"mlp.c_fc.weight", 4, 12), mk(h+"mlp.c_fc.bias", 12),
			mk(h+"mlp.c_proj.weight", 12, 4), mk(h+"mlp.c_proj.bias", 4),
		)
	}
	return append(ts, mk("ln_f.weight", 4), mk("ln_f.bias", 4))
}

// EncodeTensors writes ts as one safetensors file in dtype (F32, F16 or
// BF16), each name prefixed with prefix.
func EncodeTensors(ts []Tensor, dtype, prefix string) []byte {
	enc := map[string]func([]float32) []byte{
		"F32": safetensorstest.F32, "F16": safetensorstest.F16, "BF16": safetensorstest.BF16}[dtype]
	var out []safetensorstest.Tensor
	for _, t := range ts {
		out = append(out, safetensorstest.Tensor{Name: prefix + t.Name, DType: dtype, Shape: t.Shape, Data: enc(t.Values)})
	}
	return safetensorstest.Encode(map[string]string{"format": "pt"}, out...)
}

// Index encodes a model.safetensors.index.json placing each shard's
// tensors in it.
func Index(shards map[string][]string) []byte {
	wm := map[string]string{}
	for shard, names := range shards {
		for _, n := range names {
			wm[n] = shard
		}
	}
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": wm})
	if err != nil {
		panic(err)
	}
	return b
}

// ByteAlphabet is GPT-2's 256 byte tokens in byte order.
func ByteAlphabet() []any {
	var out []any
	n := 0
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE {
			out = append(out, string(rune(b)))
		} else {
			out = append(out, string(rune(256+n)))
			n++
		}
	}
	return out
}

// TinyGGUF is a one-block gpt2 file (d 32, 2 heads, d_ff 64, 8 positions)
// with the 256 byte tokens, one merge ("Ġ" + "t") and <|endoftext|>.
func TinyGGUF(matrixType uint32) gt.File {
	const d, ff, ctx = 32, 64, 8
	tokens := append(ByteAlphabet(), "Ġt", "<|endoftext|>")
	v := len(tokens)
	types := make([]any, v)
	for i := range types {
		types[i] = 1
	}
	types[v-1] = 3
	kv := []gt.KV{
		{Key: "general.architecture", Type: gt.String, Value: "gpt2"},
		{Key: "gpt2.context_length", Type: gt.Uint32, Value: ctx},
		{Key: "gpt2.embedding_length", Type: gt.Uint32, Value: d},
		{Key: "gpt2.feed_forward_length", Type: gt.Uint32, Value: ff},
		{Key: "gpt2.block_count", Type: gt.Uint32, Value: 1},
		{Key: "gpt2.attention.head_count", Type: gt.Uint32, Value: 2},
		{Key: "gpt2.attention.layer_norm_epsilon", Type: gt.Float32, Value: 1e-5},
		{Key: "tokenizer.ggml.model", Type: gt.String, Value: "gpt2"},
		{Key: "tokenizer.ggml.pre", Type: gt.String, Value: "gpt-2"},
		{Key: "tokenizer.ggml.tokens", Type: gt.Array, Elem: gt.String, Value: tokens},
		{Key: "tokenizer.ggml.token_type", Type: gt.Array, Elem: gt.Int32, Value: types},
		{Key: "tokenizer.ggml.merges", Type: gt.Array, Elem: gt.String, Value: []any{"Ġ t"}},
		{Key: "tokenizer.ggml.bos_token_id", Type: gt.Uint32, Value: v - 1},
		{Key: "tokenizer.ggml.eos_token_id", Type: gt.Uint32, Value: v - 1},
	}
	seed := 1
	data := func(typ uint32, n int) []byte {
		vals := make([]float32, n)
		for i := range vals {
			seed = seed*1103515245 + 12345
			vals[i] = float32(seed%2001-1000) / 1e4
		}
		switch typ {
		case gt.Q8_0:
			var b []byte
			for blk := 0; blk < n; blk += 32 {
				b = append(b, 0x00, 0x20) // scale 2^-7 as fp16
				for i := range 32 {
					b = append(b, byte(int8(vals[blk+i]*1270)))
				}
			}
			return b
		case gt.F16:
			return make([]byte, 2*n)
		}
		return gt.F32Bytes(vals)
	}
	var ts []gt.Tensor
	add := func(name string, typ uint32, dims ...uint64) {
		n := 1
		for _, x := range dims {
			n *= int(x)
		}
		ts = append(ts, gt.Tensor{Name: name, Type: typ, Dims: dims, Data: data(typ, n), Offset: -1})
	}
	add("token_embd.weight", matrixType, d, uint64(v))
	add("position_embd.weight", gt.F32, d, ctx)
	for _, n := range []string{"attn_norm", "ffn_norm"} {
		add("blk.0."+n+".weight", gt.F32, d)
		add("blk.0."+n+".bias", gt.F32, d)
	}
	add("blk.0.attn_qkv.weight", matrixType, d, 3*d)
	add("blk.0.attn_qkv.bias", gt.F32, 3*d)
	add("blk.0.attn_output.weight", matrixType, d, d)
	add("blk.0.attn_output.bias", gt.F32, d)
	add("blk.0.ffn_up.weight", matrixType, d, ff)
	add("blk.0.ffn_up.bias", gt.F32, ff)
	add("blk.0.ffn_down.weight", matrixType, ff, d)
	add("blk.0.ffn_down.bias", gt.F32, d)
	add("output_norm.weight", gt.F32, d)
	add("output_norm.bias", gt.F32, d)
	return gt.File{KVs: kv, Tensors: ts}
}
