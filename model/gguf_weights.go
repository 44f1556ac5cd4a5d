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

// ggufTensor is a tensor of llama.cpp's gpt2 layout and where it goes.
type ggufTensor struct {
	name string
	dims []int // ggml order, ne0 first: a matrix is [in, out], stored [out][in]
	f32  *[]float32
	// int8 receives a Q8_0 matrix as it is; nil means a Q8_0 tensor here is
	// widened to fp32 (the position embedding is added, never multiplied).
	int8 **quant.Matrix
}

// ggufLayout lists llama.cpp's gpt2 tensors for config c, pointing into w.
func ggufLayout(c *Config, w *Weights) []ggufTensor {
	d, ff, v := c.NEmbd, c.NInner, c.VocabSize
	vec := func(name string, n int, dst *[]float32) ggufTensor {
		return ggufTensor{name: name, dims: []int{n}, f32: dst}
	}
	ts := []ggufTensor{
		{name: "token_embd.weight", dims: []int{d, v}, f32: &w.TokenEmbedding, int8: &w.TokenEmbeddingInt8},
		{name: "position_embd.weight", dims: []int{d, c.NPositions}, f32: &w.PositionEmbedding},
	}
	for i := range w.Layers {
		l := &w.Layers[i]
		b := func(s string) string { return "blk." + strconv.Itoa(i) + "." + s }
		ts = append(ts,
			vec(b("attn_norm.weight"), d, &l.LN1Gain), vec(b("attn_norm.bias"), d, &l.LN1Bias),
			ggufTensor{name: b("attn_qkv.weight"), dims: []int{d, 3 * d}, f32: &l.QKV, int8: &l.QKVInt8},
			vec(b("attn_qkv.bias"), 3*d, &l.QKVBias),
			ggufTensor{name: b("attn_output.weight"), dims: []int{d, d}, f32: &l.AttnOut, int8: &l.AttnOutInt8},
			vec(b("attn_output.bias"), d, &l.AttnOutBias),
			vec(b("ffn_norm.weight"), d, &l.LN2Gain), vec(b("ffn_norm.bias"), d, &l.LN2Bias),
			ggufTensor{name: b("ffn_up.weight"), dims: []int{d, ff}, f32: &l.FC, int8: &l.FCInt8},
			vec(b("ffn_up.bias"), ff, &l.FCBias),
			ggufTensor{name: b("ffn_down.weight"), dims: []int{ff, d}, f32: &l.FCOut, int8: &l.FCOutInt8},
			vec(b("ffn_down.bias"), d, &l.FCOutBias),
		)
	}
	return append(ts, vec("output_norm.weight", d, &w.FinalGain), vec("output_norm.bias", d, &w.FinalBias))
}

// ggufOutput is the untied output projection; absent, the model is tied.
const ggufOutput = "output.weight"

// ggufWeights checks every tensor of f against c before converting any. An
// output.weight makes the model untied; without one it is tied, as
// llama.cpp reads a gpt2 file.
func ggufWeights(c *Config, f *gguf.File) (Weights, error) {
	w := Weights{Layers: make([]Layer, c.NLayer)}
	layout := ggufLayout(c, &w)
	_, untied := f.Tensor(ggufOutput)
	if untied {
		layout = append(layout, ggufTensor{name: ggufOutput, dims: []int{c.NEmbd, c.VocabSize}, f32: &w.Output, int8: &w.OutputInt8})
	}
	c.Arch.TiedEmbeddings = !untied

	claimed := make(map[string]bool, len(layout))
	for _, want := range layout {
		t, ok := f.Tensor(want.name)
		if !ok {
			return Weights{}, fmt.Errorf("%w: tensor %q %v is missing", ErrTensorMismatch, want.name, want.dims)
		}
		if !slices.Equal(t.Dims, want.dims) {
			return Weights{}, fmt.Errorf("%w: tensor %q has dims %v, the metadata implies %v", ErrTensorMismatch, t.Name, t.Dims, want.dims)
		}
		switch t.Type {
		case gguf.F32, gguf.F16, gguf.Q8_0:
		default:
			return Weights{}, fmt.Errorf("%w: tensor %q %v has type %s (goformer reads F32, F16 and Q8_0)", ErrUnsupported, t.Name, t.Dims, t.Type)
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
		return Weights{}, fmt.Errorf("%w: unknown tensor %q %v for gpt2 with %d blocks", ErrTensorMismatch, t.Name, t.Dims, c.NLayer)
	}

	for _, want := range layout {
		t, _ := f.Tensor(want.name)
		if t.Type == gguf.Q8_0 && want.int8 != nil {
			m, err := quant.FromQ8_0(t.Data, want.dims[1], want.dims[0])
			if err != nil {
				return Weights{}, fmt.Errorf("tensor %q: %w", t.Name, err)
			}
			*want.int8 = m
			continue
		}
		*want.f32 = ggufFloat32(t)
	}
	return w, nil
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
	switch t.Type {
	case gguf.F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
		}
	case gguf.F16:
		for i := range out {
			out[i] = kernels.Float16ToFloat32(binary.LittleEndian.Uint16(t.Data[2*i:]))
		}
	case gguf.Q8_0:
		for b := range n / kernels.Q8Block {
			blk := t.Data[b*quant.Q8_0BlockBytes:]
			d := kernels.Float16ToFloat32(binary.LittleEndian.Uint16(blk))
			for i, q := range blk[2:quant.Q8_0BlockBytes] {
				out[b*kernels.Q8Block+i] = d * float32(int8(q))
			}
		}
	}
	return out
}
