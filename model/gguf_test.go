package model

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model/gguf"
	gt "github.com/goformer/goformer/model/internal/gguftest"
	"github.com/goformer/goformer/model/modeltest"
	"github.com/goformer/goformer/model/tokenizer"
)

// tinyGGUF is modeltest.TinyGGUF: a one-block gpt2 file (d 32, 2 heads,
// d_ff 64, 8 positions) with the 256 byte tokens, one merge and
// <|endoftext|>.
func tinyGGUF(matrixType uint32) gt.File { return modeltest.TinyGGUF(matrixType) }

func writeGGUF(t *testing.T, f gt.File) string {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	require.NoError(t, os.WriteFile(path, f.Bytes(), 0o644))
	return path
}

func TestLoadGGUF(t *testing.T) {
	for _, typ := range []uint32{gt.F32, gt.F16, gt.Q8_0} {
		ck, err := Load(writeGGUF(t, tinyGGUF(typ)))
		require.NoError(t, err)
		c := ck.Config
		assert.Equal(t, Config{ModelType: "gpt2", VocabSize: 258, NPositions: 8, NEmbd: 32, NLayer: 1, NHead: 2, NInner: 64,
			LayerNormEps: 1e-5, Activation: "gelu_new", BOS: 257, EOS: 257, Arch: GPT2Arch}, c)
		w := &ck.Weights
		require.NoError(t, w.TokenEmbedding.Check(258, 32))
		require.NoError(t, w.Layers[0].Down.Check(32, 64))
		if typ == gt.Q8_0 {
			assert.Equal(t, kernels.Q8_0, w.TokenEmbedding.Type())
			assert.Nil(t, w.TokenEmbedding.F32)
			assert.Equal(t, float32(1.0/128), w.Layers[0].Down.Int8.Scales[0])
		} else {
			assert.Equal(t, kernels.F32, w.Layers[0].Down.Type())
		}
		assert.Len(t, w.PositionEmbedding, 8*32)
		assert.Equal(t, []int{257}, ck.Tokenizer.EncodeSpecial("<|endoftext|>"))
		assert.Equal(t, []int{256}, ck.Tokenizer.Encode(" t"))
		require.NoError(t, ck.Close())
	}
}

// TestLoadGGUFChatTemplates: tokenizer.chat_template is the default
// template and tokenizer.chat_template.NAME the named ones; the list of
// names beside them is not a template.
func TestLoadGGUFChatTemplates(t *testing.T) {
	f := tinyGGUF(gt.F32)
	setKV("tokenizer.chat_template", gt.String, "{{ bos_token }}")(&f)
	setKV("tokenizer.chat_template.tool_use", gt.String, "tools")(&f)
	f.KVs = append(f.KVs, gt.KV{Key: "tokenizer.chat_templates", Type: gt.Array, Elem: gt.String, Value: []any{"tool_use"}})
	ck, err := LoadGGUF(writeGGUF(t, f))
	require.NoError(t, err)
	defer ck.Close()
	assert.Equal(t, []string{"default", "tool_use"}, ck.Tokenizer.ChatTemplateNames())
	src, ok := ck.Tokenizer.ChatTemplate("")
	assert.True(t, ok)
	assert.Equal(t, "{{ bos_token }}", src)
	src, _ = ck.Tokenizer.ChatTemplate("tool_use")
	assert.Equal(t, "tools", src)

	ck2, err := LoadGGUF(writeGGUF(t, tinyGGUF(gt.F32)))
	require.NoError(t, err)
	defer ck2.Close()
	_, ok = ck2.Tokenizer.ChatTemplate("")
	assert.False(t, ok)
}

// TestLoadGGUFWithoutPreTokenizer: a byte-level file that names no
// pre-tokenizer is split with llama.cpp's "default" one, as llama.cpp does,
// and the tokenizer's Warning says so; SentencePiece needs none.
func TestLoadGGUFWithoutPreTokenizer(t *testing.T) {
	f := tinyGGUF(gt.F32)
	f.KVs = slices.DeleteFunc(f.KVs, func(kv gt.KV) bool { return kv.Key == "tokenizer.ggml.pre" })
	ck, err := LoadGGUF(writeGGUF(t, f))
	require.NoError(t, err)
	defer ck.Close()
	assert.Equal(t, "bpe/default", ck.Tokenizer.Kind())
	assert.Equal(t, `tokenizer.ggml.pre is missing: splitting text with llama.cpp's "default" pre-tokenizer, as llama.cpp does; the model's own may differ (regenerate the GGUF file with a current converter)`,
		ck.Tokenizer.Warning())

	ck2, err := LoadGGUF(writeGGUF(t, tinyGGUF(gt.F32)))
	require.NoError(t, err)
	defer ck2.Close()
	assert.Equal(t, "bpe/gpt-2", ck2.Tokenizer.Kind())
	assert.Empty(t, ck2.Tokenizer.Warning())
}

// TestLoadGGUFFillInTheMiddle: tokenizer.ggml.fim_*_token_id name the
// fill-in-the-middle tokens, the older prefix/suffix/middle keys winning
// where a file has both (as llama.cpp reads them); the padding and
// separators end generation whatever their text. (The ids llama.cpp guesses
// from token texts are checked against it in TestLlamaCppRandomStrings.)
func TestLoadGGUFFillInTheMiddle(t *testing.T) {
	f := tinyGGUF(gt.F32)
	for _, kv := range []struct {
		key string
		id  int
	}{
		{"tokenizer.ggml.fim_pre_token_id", 5}, {"tokenizer.ggml.fim_suf_token_id", 6}, {"tokenizer.ggml.fim_mid_token_id", 7},
		{"tokenizer.ggml.fim_pad_token_id", 100}, {"tokenizer.ggml.fim_rep_token_id", 101}, {"tokenizer.ggml.fim_sep_token_id", 102},
		{"tokenizer.ggml.prefix_token_id", 50},
	} {
		setKV(kv.key, gt.Uint32, kv.id)(&f)
	}
	ck, err := LoadGGUF(writeGGUF(t, f))
	require.NoError(t, err)
	defer ck.Close()
	assert.Equal(t, tokenizer.FIMTokens{Prefix: 50, Suffix: 6, Middle: 7, Pad: 100, Repo: 101, Sep: 102}, ck.Tokenizer.FIM())
	assert.Equal(t, []int{257, 100, 101, 102}, ck.Tokenizer.EndOfGeneration())

	ck2, err := LoadGGUF(writeGGUF(t, tinyGGUF(gt.F32)))
	require.NoError(t, err)
	defer ck2.Close()
	assert.Equal(t, tokenizer.NoFIM, ck2.Tokenizer.FIM())

	setKV("tokenizer.ggml.fim_sep_token_id", gt.Uint32, 258)(&f)
	_, err = LoadGGUF(writeGGUF(t, f))
	assert.ErrorIs(t, err, ErrInvalidConfig)
	assert.ErrorContains(t, err, "tokenizer.ggml.fim_sep_token_id 258 is outside the vocabulary of 258 tokens")
}

func TestLoadGGUFUntied(t *testing.T) {
	f := tinyGGUF(gt.F32)
	f.Tensors = append(f.Tensors, gt.Tensor{Name: "output.weight", Type: gt.F32, Dims: []uint64{32, 258},
		Data: gt.F32Bytes(make([]float32, 32*258)), Offset: -1})
	ck, err := LoadGGUF(writeGGUF(t, f))
	require.NoError(t, err)
	defer ck.Close()
	assert.False(t, ck.Config.Arch.TiedEmbeddings)
	assert.NoError(t, ck.Weights.Output.Check(258, 32))
}

func TestLoadGGUFErrors(t *testing.T) {
	cases := []struct {
		name   string
		mod    func(*gt.File)
		target error
		want   string
	}{
		{"architecture", setKV("general.architecture", gt.String, "gemma2"), ErrUnsupported, `general.architecture "gemma2"`},
		{"key type", setKV("gpt2.block_count", gt.String, "1"), ErrInvalidConfig, `"gpt2.block_count" is string, want an integer`},
		{"eps type", setKV("gpt2.attention.layer_norm_epsilon", gt.Uint32, 1), ErrInvalidConfig, `"gpt2.attention.layer_norm_epsilon" is uint32, want a float`},
		{"zero heads", setKV("gpt2.attention.head_count", gt.Uint32, 0), ErrInvalidConfig, "gpt2.attention.head_count 0 is outside"},
		{"heads", setKV("gpt2.attention.head_count", gt.Uint32, 5), ErrInvalidConfig, "not divisible by gpt2.attention.head_count 5"},
		{"shape vs metadata", setKV("gpt2.feed_forward_length", gt.Uint32, 96), ErrTensorMismatch, `tensor "blk.0.ffn_up.weight" has dims [32 64], the metadata implies [32 96]`},
		{"block count", setKV("gpt2.block_count", gt.Uint32, 2), ErrTensorMismatch, `tensor "blk.1.attn_norm.weight" [32] is missing`},
		{"tensor type", setTensor("blk.0.ffn_up.weight", func(t *gt.Tensor) { t.Type = 9; t.Data = make([]byte, 64*36) }),
			ErrUnsupported, `tensor "blk.0.ffn_up.weight" [32 64] has type Q8_1 (goformer reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K to Q6_K, IQ4_NL and IQ4_XS)`},
		{"K-quant row", setTensor("blk.0.ffn_up.weight", func(t *gt.Tensor) { t.Type = 12; t.Data = make([]byte, 8*144) }),
			gguf.ErrInvalid, `tensor "blk.0.ffn_up.weight" (Q4_K [32 64]): its rows of 32 are not whole blocks of 256`},
		{"block scale", setTensor("blk.0.ffn_up.weight", func(t *gt.Tensor) {
			t.Type = 2
			t.Data = make([]byte, 64*18)
			t.Data[18], t.Data[19] = 0x00, 0x7e // row 1: NaN
		}), ErrNonFinite, `tensor "blk.0.ffn_up.weight": quant: Q4_0 block 0 of row 1 has scale NaN`},
		{"unknown tensor", func(f *gt.File) {
			f.Tensors = append(f.Tensors, gt.Tensor{Name: "blk.0.attn_q.weight", Type: gt.F32, Dims: []uint64{2}, Data: make([]byte, 8), Offset: -1})
		}, ErrTensorMismatch, `unknown tensor "blk.0.attn_q.weight"`},
		{"tokenizer model", setKV("tokenizer.ggml.model", gt.String, "bert"), ErrUnsupported, `tokenizer.ggml.model "bert"`},
		{"pre-tokenizer", setKV("tokenizer.ggml.pre", gt.String, "no-such-pre"), ErrUnsupported, `tokenizer.ggml.pre "no-such-pre" (goformer implements codeshell, command-r,`},
		{"sentencepiece scores", setKV("tokenizer.ggml.model", gt.String, "llama"), gguf.ErrMissingKey, `"tokenizer.ggml.scores"`},
		{"add_bos type", func(f *gt.File) {
			f.KVs = append(f.KVs, gt.KV{Key: "tokenizer.ggml.add_bos_token", Type: gt.String, Value: "yes"})
		}, gguf.ErrKeyType, `"tokenizer.ggml.add_bos_token" is string`},
		{"tokens type", setKV("tokenizer.ggml.tokens", gt.String, "a"), gguf.ErrKeyType, `"tokenizer.ggml.tokens" is string, want an array of string`},
		{"merge", setKV("tokenizer.ggml.merges", gt.Array, []any{"Ġt"}), ErrInvalidConfig, `tokenizer.ggml.merges[0] "Ġt" is not two tokens`},
		{"eos", setKV("tokenizer.ggml.eos_token_id", gt.Uint32, 300), ErrInvalidConfig, "tokenizer.ggml.eos_token_id 300 is outside the vocabulary of 258"},
		{"bos far below", setKV("tokenizer.ggml.bos_token_id", gt.Int64, int64(-1<<62)), ErrInvalidConfig, "tokenizer.ggml.bos_token_id -4611686018427387904 is outside the vocabulary of 258"},
		{"eos far above", setKV("tokenizer.ggml.eos_token_id", gt.Uint64, uint64(1<<40)), ErrInvalidConfig, "tokenizer.ggml.eos_token_id 1099511627776 is outside the vocabulary of 258"},
		{"token types", setKV("tokenizer.ggml.token_type", gt.Array, []any{1}), ErrInvalidConfig, "tokenizer.ggml.token_type has 1 entries for 258 tokens"},
		{"chat template type", setKV("tokenizer.chat_template", gt.Uint32, 1), gguf.ErrKeyType, `"tokenizer.chat_template" is uint32, want a string`},
		{"bad scale", setTensor("blk.0.ffn_up.weight", func(t *gt.Tensor) {
			t.Type = gt.Q8_0
			t.Data = make([]byte, 64*34)
			t.Data[35], t.Data[34] = 0x7c, 0x00 // row 1: +Inf
		}), ErrNonFinite, `tensor "blk.0.ffn_up.weight": quant: Q8_0 block 0 of row 1 has scale +Inf`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := tinyGGUF(gt.F32)
			c.mod(&f)
			path := writeGGUF(t, f)
			ck, err := LoadGGUF(path)
			require.Error(t, err)
			assert.Nil(t, ck)
			if c.target != nil {
				assert.True(t, errors.Is(err, c.target), "%v", err)
			}
			assert.ErrorContains(t, err, path)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

// TestLoadGGUFNotAFile: -m pointing at nothing says so.
func TestLoadGGUFNotAFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.gguf"))
	assert.ErrorContains(t, err, "absent.gguf")
	path := filepath.Join(t.TempDir(), "x.gguf")
	require.NoError(t, os.WriteFile(path, []byte("GGUF\x03\x00\x00\x00"+strings.Repeat("\x00", 16)), 0o644))
	_, err = Load(path)
	assert.ErrorContains(t, err, `"general.architecture"`)
}

// setKV sets (or adds) a metadata entry of a GGUF file a test builds.
func setKV(key string, typ uint32, v any) func(*gt.File) {
	return func(f *gt.File) {
		for i := range f.KVs {
			if f.KVs[i].Key == key {
				f.KVs[i].Type, f.KVs[i].Value = typ, v
				return
			}
		}
		f.KVs = append(f.KVs, gt.KV{Key: key, Type: typ, Value: v})
	}
}

// setTensor changes the named tensor of a GGUF file a test builds.
func setTensor(name string, mod func(*gt.Tensor)) func(*gt.File) {
	return func(f *gt.File) {
		for i := range f.Tensors {
			if f.Tensors[i].Name == name {
				mod(&f.Tensors[i])
			}
		}
	}
}

// TestLoadGGUFTruncatedBlocks: a file cut short inside its last tensor, a
// Q4_K one, is an error naming that tensor.
func TestLoadGGUFTruncatedBlocks(t *testing.T) {
	f := tinyLlamaGGUF("llama")
	setKV("llama.embedding_length", gt.Uint32, 256)(&f)
	var last gt.Tensor
	for i, tn := range f.Tensors {
		if tn.Name == "blk.0.ffn_gate.weight" {
			last = tn
			f.Tensors = append(f.Tensors[:i:i], f.Tensors[i+1:]...)
			break
		}
	}
	last.Type, last.Dims, last.Data = 12, []uint64{256, 64}, make([]byte, 64*144)
	f.Tensors = append(f.Tensors, last)
	path := writeGGUF(t, f)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, info.Size()-100))
	_, err = LoadGGUF(path)
	require.Error(t, err)
	assert.ErrorIs(t, err, gguf.ErrInvalid)
	assert.ErrorContains(t, err, `tensor "blk.0.ffn_gate.weight" (Q4_K [256 64]) needs bytes`)
}

// TestGGUFVectorsOutliveTheMapping: norms, biases and positions are copied
// out of the file's mapping at load, so they stay readable after Close
// unmaps it (a view into the mapping would fault here); only the large
// matrices follow the mapping contract the README states.
func TestGGUFVectorsOutliveTheMapping(t *testing.T) {
	ck, err := Load(writeGGUF(t, tinyGGUF(gt.F32)))
	require.NoError(t, err)
	l := ck.Weights.Layers[0]
	vectors := [][]float32{l.AttnNorm.Gain, l.AttnNorm.Bias, l.MLPNorm.Gain, l.DownBias, ck.Weights.PositionEmbedding}
	var want [][]float32
	for _, v := range vectors {
		require.NotEmpty(t, v)
		want = append(want, slices.Clone(v))
	}
	require.NoError(t, ck.Close())
	assert.Equal(t, want, vectors)
}
