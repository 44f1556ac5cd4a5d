package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"unsafe"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model/gguf"
	"github.com/goformer/goformer/quant"
)

// ggufTensor is a tensor of one of llama.cpp's layouts and where it goes.
// One list of them per architecture drives both the checks and the
// conversion.
type ggufTensor struct {
	name   string
	dims   []int // ggml order, ne0 first: a matrix is [in, out], stored [out][in]
	matrix **Matrix
	vector *[]float32 // always copied (or widened) out of the mapping
	absent bool       // the file may lack it: the field stays nil
}

func ggufMatrix(name string, in, out int, dst **Matrix) ggufTensor {
	return ggufTensor{name: name, dims: []int{in, out}, matrix: dst}
}

func ggufVector(name string, n int, dst *[]float32) ggufTensor {
	return ggufTensor{name: name, dims: []int{n}, vector: dst}
}

func (t ggufTensor) optional() ggufTensor { t.absent = true; return t }

// ggufOutput is the untied output projection; absent, the model is tied.
const ggufOutput = "output.weight"

// ggufBlock names tensor s of block i.
func ggufBlock(i int, s string) string { return "blk." + strconv.Itoa(i) + "." + s }

// ggufGPT2Layout lists llama.cpp's gpt2 tensors for config c, pointing into
// w; each block's fused attn_qkv goes to qkv[i] and its bias to qkvBias[i].
func ggufGPT2Layout(c *Config, w *Weights, qkv []*Matrix, qkvBias [][]float32) []ggufTensor {
	d, ff, v := c.NEmbd, c.NInner, c.VocabSize
	ts := []ggufTensor{
		ggufMatrix("token_embd.weight", d, v, &w.TokenEmbedding),
		{name: "position_embd.weight", dims: []int{d, c.NPositions}, vector: &w.PositionEmbedding},
	}
	for i := range w.Layers {
		l := &w.Layers[i]
		b := func(s string) string { return ggufBlock(i, s) }
		ts = append(ts,
			ggufVector(b("attn_norm.weight"), d, &l.AttnNorm.Gain), ggufVector(b("attn_norm.bias"), d, &l.AttnNorm.Bias),
			ggufMatrix(b("attn_qkv.weight"), d, 3*d, &qkv[i]), ggufVector(b("attn_qkv.bias"), 3*d, &qkvBias[i]),
			ggufMatrix(b("attn_output.weight"), d, d, &l.O), ggufVector(b("attn_output.bias"), d, &l.OBias),
			ggufVector(b("ffn_norm.weight"), d, &l.MLPNorm.Gain), ggufVector(b("ffn_norm.bias"), d, &l.MLPNorm.Bias),
			ggufMatrix(b("ffn_up.weight"), d, ff, &l.Up), ggufVector(b("ffn_up.bias"), ff, &l.UpBias),
			ggufMatrix(b("ffn_down.weight"), ff, d, &l.Down), ggufVector(b("ffn_down.bias"), d, &l.DownBias),
		)
	}
	return append(ts, ggufVector("output_norm.weight", d, &w.FinalNorm.Gain), ggufVector("output_norm.bias", d, &w.FinalNorm.Bias))
}

// ggufLlamaLayout lists llama.cpp's llama and qwen2 tensors for config c,
// pointing into w. The q/k/v biases are optional (Qwen2 has them); the
// llama3 rope_freqs tensor, when present, goes to ropeFreqs.
func ggufLlamaLayout(c *Config, w *Weights, ropeFreqs *[]float32) []ggufTensor {
	d, ff, v := c.NEmbd, c.NInner, c.VocabSize
	qd, kvd := c.QueryDim(), c.KVDim()
	ts := []ggufTensor{
		ggufVector("rope_freqs.weight", c.RotaryDims()/2, ropeFreqs).optional(),
		ggufMatrix("token_embd.weight", d, v, &w.TokenEmbedding),
	}
	for i := range w.Layers {
		l := &w.Layers[i]
		b := func(s string) string { return ggufBlock(i, s) }
		ts = append(ts,
			ggufVector(b("attn_norm.weight"), d, &l.AttnNorm.Gain),
			ggufMatrix(b("attn_q.weight"), d, qd, &l.Q), ggufVector(b("attn_q.bias"), qd, &l.QBias).optional(),
			ggufMatrix(b("attn_k.weight"), d, kvd, &l.K), ggufVector(b("attn_k.bias"), kvd, &l.KBias).optional(),
			ggufMatrix(b("attn_v.weight"), d, kvd, &l.V), ggufVector(b("attn_v.bias"), kvd, &l.VBias).optional(),
			ggufMatrix(b("attn_output.weight"), qd, d, &l.O), ggufVector(b("attn_output.bias"), d, &l.OBias).optional(),
			ggufVector(b("ffn_norm.weight"), d, &l.MLPNorm.Gain),
			ggufMatrix(b("ffn_gate.weight"), d, ff, &l.Gate),
			ggufMatrix(b("ffn_up.weight"), d, ff, &l.Up),
			ggufMatrix(b("ffn_down.weight"), ff, d, &l.Down),
		)
	}
	return append(ts, ggufVector("output_norm.weight", d, &w.FinalNorm.Gain))
}

// loadGGUFTensors checks every tensor of layout against f, and that f holds
// no other, before converting any; then it fills the layout's fields. An
// output.weight is appended to the layout and makes the model untied.
func loadGGUFTensors(c *Config, f *gguf.File, w *Weights, layout []ggufTensor) error {
	_, untied := f.Tensor(ggufOutput)
	if untied {
		layout = append(layout, ggufMatrix(ggufOutput, c.NEmbd, c.VocabSize, &w.Output))
	}
	c.Arch.TiedEmbeddings = !untied

	claimed := make(map[string]bool, len(layout))
	for _, want := range layout {
		t, ok := f.Tensor(want.name)
		if !ok {
			if want.absent {
				continue
			}
			return fmt.Errorf("%w: tensor %q %v is missing", ErrTensorMismatch, want.name, want.dims)
		}
		if !slices.Equal(t.Dims, want.dims) {
			return fmt.Errorf("%w: tensor %q has dims %v, the metadata implies %v", ErrTensorMismatch, t.Name, t.Dims, want.dims)
		}
		switch t.Type {
		case gguf.F32, gguf.F16, gguf.BF16, gguf.Q8_0:
		default:
			if ggufBlockType(t) == nil {
				return fmt.Errorf("%w: tensor %q %v has type %s (goformer reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K to Q6_K, IQ4_NL and IQ4_XS)", ErrUnsupported, t.Name, t.Dims, t.Type)
			}
		}
		if bl := t.Type.BlockLen(); want.dims[0]%bl != 0 {
			return fmt.Errorf("%w: %s tensor %q has rows of %d values, not whole blocks of %d", ErrTensorMismatch, t.Type, t.Name, want.dims[0], bl)
		}
		claimed[want.name] = true
	}
	var unknown []string
	for _, t := range f.Tensors {
		if !claimed[t.Name] {
			unknown = append(unknown, t.Name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		t, _ := f.Tensor(unknown[0])
		return fmt.Errorf("%w: unknown tensor %q %v for %d blocks", ErrTensorMismatch, t.Name, t.Dims, c.NLayer)
	}

	for _, want := range layout {
		t, ok := f.Tensor(want.name)
		if !ok {
			continue
		}
		if want.vector != nil {
			v := slices.Clone(ggufFloat32(t))
			if err := ggufCheckFinite(t, v); err != nil {
				return err
			}
			*want.vector = v
			continue
		}
		rows, cols := want.dims[1], want.dims[0]
		if f := ggufBlockType(t); f != nil {
			m, err := quant.FromBlocks(f.Type, t.Data, rows, cols)
			if err != nil {
				return fmt.Errorf("%w: tensor %q: %w", ErrNonFinite, t.Name, err) // the shapes were checked above
			}
			*want.matrix = BlockMatrix(m)
			continue
		}
		if t.Type == gguf.Q8_0 {
			m, err := quant.FromQ8_0(t.Data, rows, cols)
			if err != nil {
				return fmt.Errorf("%w: tensor %q: %w", ErrNonFinite, t.Name, err) // the shapes were checked above: a scale is NaN or ±Inf
			}
			*want.matrix = Int8Matrix(m)
			continue
		}
		v := ggufFloat32(t)
		if err := ggufCheckFinite(t, v); err != nil {
			return err
		}
		*want.matrix = F32Matrix(v, rows, cols)
	}
	return nil
}

// ggufBlockType is the format of a tensor of one of the blocked types
// (kernels.WeightType.Blocked), or nil.
func ggufBlockType(t *gguf.Tensor) *quant.BlockFormat {
	if f := quant.BlockFormats[uint32(t.Type)]; f != nil && f.Type.Blocked() {
		return f
	}
	return nil
}

// ggufCheckFinite is checkFinite for a GGUF tensor, whose dims and index
// are written ne0 first, as the file writes them.
func ggufCheckFinite(t *gguf.Tensor, v []float32) error {
	i := firstNonFinite(v)
	if i < 0 {
		return nil
	}
	rowMajor := slices.Clone(t.Dims)
	slices.Reverse(rowMajor)
	idx := unflatten(i, rowMajor)
	slices.Reverse(idx)
	return nonFinite(t.Name, t.Dims, v[i], idx)
}

// littleEndian is whether this machine stores a float32 as the file does,
// so that an F32 tensor can be used where it lies.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// ggufFloat32 returns t's values as fp32. An aligned F32 tensor on a
// little-endian machine is the file's own bytes, not a copy: the mapping
// must outlive it.
func ggufFloat32(t *gguf.Tensor) []float32 {
	n := t.NumElements()
	if n == 0 {
		return []float32{}
	}
	if t.Type == gguf.F32 && littleEndian && uintptr(unsafe.Pointer(&t.Data[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&t.Data[0])), n)
	}
	out := make([]float32, n)
	// The checks before placed the tensor whole, so its blocks (a vector in
	// a block type, which llama-quantize writes none of) divide evenly.
	if err := ggufDecode(t.Type, out, t.Data); err != nil {
		panic(err)
	}
	return out
}

// ggufDecode expands data, values of GGUF type typ (F32, F16, BF16 or a
// block type), to dst.
func ggufDecode(typ gguf.TensorType, dst []float32, data []byte) error {
	if f := quant.BlockFormats[uint32(typ)]; f != nil {
		return f.DequantizeRows(dst, data)
	}
	size := map[gguf.TensorType]int{gguf.F32: 4, gguf.F16: 2, gguf.BF16: 2}[typ]
	if size == 0 {
		return fmt.Errorf("%w: tensor type %s", ErrUnsupported, typ)
	}
	if len(data) != size*len(dst) {
		return fmt.Errorf("%d bytes of %s for %d values", len(data), typ, len(dst))
	}
	switch typ {
	case gguf.F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case gguf.F16:
		for i := range dst {
			dst[i] = kernels.Float16ToFloat32(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case gguf.BF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(data[2*i:])) << 16)
		}
	}
	return nil
}
