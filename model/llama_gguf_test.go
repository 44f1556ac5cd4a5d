package model

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/kernels"
	gt "github.com/goformer/goformer/model/internal/gguftest"
)

// tinyLlamaGGUF is tinyGGUF's vocabulary in a one-block llama file: d 32,
// 4 query heads and 2 kv heads of 8, d_ff 64, 16 positions. Row r of every
// attn_q and attn_k holds the value r+1, so a test can see where rows go.
func tinyLlamaGGUF(arch string) gt.File {
	const d, ff, hd = 32, 64, 8
	base := tinyGGUF(gt.F32)
	kv := []gt.KV{
		{Key: "general.architecture", Type: gt.String, Value: arch},
		{Key: arch + ".context_length", Type: gt.Uint32, Value: 16},
		{Key: arch + ".embedding_length", Type: gt.Uint32, Value: d},
		{Key: arch + ".feed_forward_length", Type: gt.Uint32, Value: ff},
		{Key: arch + ".block_count", Type: gt.Uint32, Value: 1},
		{Key: arch + ".attention.head_count", Type: gt.Uint32, Value: 4},
		{Key: arch + ".attention.head_count_kv", Type: gt.Uint32, Value: 2},
		{Key: arch + ".attention.layer_norm_rms_epsilon", Type: gt.Float32, Value: 1e-6},
		{Key: arch + ".rope.freq_base", Type: gt.Float32, Value: 500000.0},
	}
	for _, e := range base.KVs {
		if len(e.Key) > 10 && e.Key[:10] == "tokenizer." {
			kv = append(kv, e)
		}
	}
	var ts []gt.Tensor
	add := func(name string, rows, cols int, value func(r int) float32) {
		v := make([]float32, rows*cols)
		for i := range v {
			v[i] = value(i / cols)
		}
		dims := []uint64{uint64(cols), uint64(rows)}
		if rows == 1 {
			dims = dims[:1]
		}
		ts = append(ts, gt.Tensor{Name: name, Type: gt.F32, Dims: dims, Data: gt.F32Bytes(v), Offset: -1})
	}
	row := func(r int) float32 { return float32(r + 1) }
	small := func(int) float32 { return 0.01 }
	add("token_embd.weight", 258, d, small)
	add("blk.0.attn_norm.weight", 1, d, small)
	add("blk.0.attn_q.weight", 4*hd, d, row)
	add("blk.0.attn_k.weight", 2*hd, d, row)
	add("blk.0.attn_v.weight", 2*hd, d, row)
	add("blk.0.attn_output.weight", d, 4*hd, small)
	add("blk.0.ffn_norm.weight", 1, d, small)
	add("blk.0.ffn_gate.weight", ff, d, small)
	add("blk.0.ffn_up.weight", ff, d, small)
	add("blk.0.ffn_down.weight", d, ff, small)
	add("output_norm.weight", 1, d, small)
	if arch == "qwen2" {
		add("blk.0.attn_q.bias", 1, 4*hd, small)
		add("blk.0.attn_k.bias", 1, 2*hd, small)
		add("blk.0.attn_v.bias", 1, 2*hd, small)
	}
	return gt.File{KVs: kv, Tensors: ts}
}

// TestLoadLlamaGGUFUnpermutes: llama.cpp's converter stores HF row j of a
// head as row 2j and row j+hd/2 as row 2j+1; the loader puts them back. A
// qwen2 file is stored unpermuted and loads as it is.
func TestLoadLlamaGGUFUnpermutes(t *testing.T) {
	const hd = 8
	ck, err := LoadGGUF(writeGGUF(t, tinyLlamaGGUF("llama")))
	require.NoError(t, err)
	defer ck.Close()
	c := ck.Config
	assert.Equal(t, "llama", c.ModelType)
	assert.Equal(t, LlamaArch.NormKind, c.Arch.NormKind)
	assert.Equal(t, 2, c.KVHeads())
	assert.Equal(t, hd, c.HeadDim())
	assert.Equal(t, 500000.0, c.RoPETheta)
	assert.True(t, c.Arch.TiedEmbeddings)
	L := ck.Weights.Layers[0]
	for _, m := range []struct {
		name  string
		rows  int
		rowOf func(r int) float32
	}{{"q", 4 * hd, func(r int) float32 { return L.Q.F32[r*32] }}, {"k", 2 * hd, func(r int) float32 { return L.K.F32[r*32] }}} {
		for r := range m.rows {
			h, j := r/hd, r%hd
			file := h*hd + 2*j
			if j >= hd/2 {
				file = h*hd + 2*(j-hd/2) + 1
			}
			assert.Equal(t, float32(file+1), m.rowOf(r), "%s row %d is file row %d", m.name, r, file)
		}
	}
	assert.Equal(t, float32(3), L.V.F32[2*32], "v is not permuted")

	ck2, err := LoadGGUF(writeGGUF(t, tinyLlamaGGUF("qwen2")))
	require.NoError(t, err)
	defer ck2.Close()
	assert.Equal(t, float32(2), ck2.Weights.Layers[0].Q.F32[1*32], "qwen2 files keep Hugging Face's order")
	assert.Len(t, ck2.Weights.Layers[0].KBias, 2*hd)
}

func TestLoadLlamaGGUFErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		mod    func(*gt.File)
		target error
		want   string
	}{
		{"kv heads", setKV("llama.attention.head_count_kv", gt.Uint32, 3), ErrInvalidConfig, "llama.attention.head_count_kv 3 does not divide the 4 query heads"},
		{"eps missing", setKV("llama.attention.layer_norm_rms_epsilon", gt.String, "x"), ErrInvalidConfig, `"llama.attention.layer_norm_rms_epsilon" is string`},
		{"key and value lengths", func(f *gt.File) {
			setKV("llama.attention.key_length", gt.Uint32, 8)(f)
			setKV("llama.attention.value_length", gt.Uint32, 16)(f)
		}, ErrUnsupported, "key_length 8 and value_length 16 differ"},
		{"yarn", setKV("llama.rope.scaling.type", gt.String, "yarn"), ErrUnsupported, `llama.rope.scaling.type "yarn" is not implemented`},
		{"rope dims", setKV("llama.rope.dimension_count", gt.Uint32, 4), ErrUnsupported, "llama.rope.dimension_count 4 below the head dimension 8 in a llama file"},
		{"Q8_1", setTensor("blk.0.ffn_gate.weight", func(t *gt.Tensor) { t.Type = 9; t.Data = make([]byte, 64*36) }), ErrUnsupported,
			`tensor "blk.0.ffn_gate.weight" [32 64] has type Q8_1 (goformer reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K to Q6_K, IQ4_NL and IQ4_XS)`},
		{"gate missing", func(f *gt.File) {
			setTensor("blk.0.ffn_gate.weight", func(t *gt.Tensor) { t.Name = "blk.0.ffn_gate_x.weight" })(f)
		}, ErrTensorMismatch, `tensor "blk.0.ffn_gate.weight" [32 64] is missing`},
		{"rope_freqs", func(f *gt.File) {
			f.Tensors = append(f.Tensors, gt.Tensor{Name: "rope_freqs.weight", Type: gt.F32, Dims: []uint64{4},
				Data: gt.F32Bytes([]float32{1, 1, 0, 8}), Offset: -1})
		}, ErrInvalidConfig, `tensor "rope_freqs.weight"[2] is 0, want a positive divisor`},
		{"rope_freqs length", func(f *gt.File) {
			f.Tensors = append(f.Tensors, gt.Tensor{Name: "rope_freqs.weight", Type: gt.F32, Dims: []uint64{3},
				Data: gt.F32Bytes([]float32{1, 1, 8}), Offset: -1})
		}, ErrTensorMismatch, `tensor "rope_freqs.weight" has dims [3], the metadata implies [4]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := tinyLlamaGGUF("llama")
			c.mod(&f)
			path := writeGGUF(t, f)
			ck, err := LoadGGUF(path)
			require.Error(t, err)
			assert.Nil(t, ck)
			assert.True(t, errors.Is(err, c.target), "%v", err)
			assert.ErrorContains(t, err, path)
			assert.ErrorContains(t, err, c.want)
		})
	}

	// rope_freqs divides the frequencies (llama3 scaling in a llama file).
	f := tinyLlamaGGUF("llama")
	f.Tensors = append(f.Tensors, gt.Tensor{Name: "rope_freqs.weight", Type: gt.F32, Dims: []uint64{4}, Data: gt.F32Bytes([]float32{1, 1, 2.5, 8}), Offset: -1})
	ck, err := LoadGGUF(writeGGUF(t, f))
	require.NoError(t, err)
	defer ck.Close()
	assert.Equal(t, []float64{1, 1, 2.5, 8}, ck.Config.RoPEScaling.Divisors)
}

// TestLoadLlamaGGUFBlocks: query and key matrices in a block type are
// unpermuted row by row like fp32 ones, every blocked tensor loads as a
// BlockMatrix of its type, and a Q4_0 token embedding looks up its rows as
// ggml dequantizes them.
func TestLoadLlamaGGUFBlocks(t *testing.T) {
	const hd = 8
	f := tinyLlamaGGUF("llama")
	// Q4_1 rows whose every value is the min m = file row + 1 (d = 0).
	q4_1Rows := func(rows int) []byte {
		b := make([]byte, rows*20)
		for r := range rows {
			binary.LittleEndian.PutUint16(b[r*20+2:], f16Int(r+1))
		}
		return b
	}
	setTensor("blk.0.attn_q.weight", func(t *gt.Tensor) { t.Type = 3; t.Data = q4_1Rows(4 * hd) })(&f)
	setTensor("blk.0.attn_k.weight", func(t *gt.Tensor) { t.Type = 3; t.Data = q4_1Rows(2 * hd) })(&f)
	emb := make([]byte, 258*18)
	for r := range 258 {
		binary.LittleEndian.PutUint16(emb[r*18:], 0x3c00) // d = 1
		for i := 2; i < 18; i++ {
			emb[r*18+i] = byte(r%16) | 0x90 // low nibble r%16, high nibble 9
		}
	}
	setTensor("token_embd.weight", func(t *gt.Tensor) { t.Type = 2; t.Data = emb })(&f)
	ck, err := LoadGGUF(writeGGUF(t, f))
	require.NoError(t, err)
	defer ck.Close()
	L := ck.Weights.Layers[0]
	require.NotNil(t, L.Q.Blocks)
	assert.Equal(t, kernels.Q4_1, L.Q.Type())
	assert.Equal(t, kernels.Q4_0, ck.Weights.TokenEmbedding.Type())
	assert.Equal(t, kernels.F32, L.V.Type())
	row := make([]float32, 32)
	for _, m := range []struct {
		name string
		mat  *Matrix
	}{{"q", L.Q}, {"k", L.K}} {
		for r := range m.mat.Rows {
			h, j := r/hd, r%hd
			file := h*hd + 2*j
			if j >= hd/2 {
				file = h*hd + 2*(j-hd/2) + 1
			}
			m.mat.Row(r, row)
			assert.Equal(t, float32(file+1), row[31], "%s row %d is file row %d", m.name, r, file)
		}
	}
	ck.Weights.TokenEmbedding.Row(21, row)
	assert.Equal(t, float32(21%16-8), row[0])
	assert.Equal(t, float32(1), row[16], "the high nibbles: 9 − 8")
}

// f16Int is the fp16 bits of a small positive integer.
func f16Int(n int) uint16 {
	e := 0
	for 1<<(e+1) <= n {
		e++
	}
	return uint16((e+15)<<10 | (n<<10>>e)&0x3ff)
}
