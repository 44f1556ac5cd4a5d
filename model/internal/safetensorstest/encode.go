// Package safetensorstest writes small safetensors files for tests. It is an
// encoder written independently of the reader in model/safetensors, so the
// reader's tests do not check the reader against itself.
package safetensorstest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
)

// Tensor is one tensor to encode: Data holds its raw little-endian elements.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

// Encode lays the tensors out back to back, in order, after a JSON header
// padded with spaces to a multiple of 8 bytes, as Hugging Face's writer does.
func Encode(metadata map[string]string, tensors ...Tensor) []byte {
	header := map[string]any{}
	if metadata != nil {
		header["__metadata__"] = metadata
	}
	var data []byte
	for _, t := range tensors {
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = map[string]any{
			"dtype":        t.DType,
			"shape":        shape,
			"data_offsets": []int{len(data), len(data) + len(t.Data)},
		}
		data = append(data, t.Data...)
	}
	h, err := json.Marshal(header)
	if err != nil {
		panic(fmt.Sprintf("safetensorstest: %v", err))
	}
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	return Raw(h, data)
}

// Raw is a file with the given header bytes and data area, for writing
// corrupt files by hand.
func Raw(header, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

// F32 encodes values as little-endian float32.
func F32(values []float32) []byte {
	out := make([]byte, 0, 4*len(values))
	for _, v := range values {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}

// BF16 encodes values that bfloat16 holds exactly (the low 16 bits of their
// float32 encoding are zero); it panics on any other value.
func BF16(values []float32) []byte {
	out := make([]byte, 0, 2*len(values))
	for _, v := range values {
		b := math.Float32bits(v)
		if b&0xffff != 0 {
			panic(fmt.Sprintf("safetensorstest: %g is not exact in bfloat16", v))
		}
		out = binary.LittleEndian.AppendUint16(out, uint16(b>>16))
	}
	return out
}

// F16 encodes zeros, ±Inf, NaN (as the quiet NaN 0x7e00) and normal
// binary16 values that binary16 holds exactly; it panics on any other value.
func F16(values []float32) []byte {
	out := make([]byte, 0, 2*len(values))
	for _, v := range values {
		b := math.Float32bits(v)
		sign := uint16(b>>31) << 15
		if b&0x7fffffff == 0 {
			out = binary.LittleEndian.AppendUint16(out, sign)
			continue
		}
		switch {
		case math.IsInf(float64(v), 0):
			out = binary.LittleEndian.AppendUint16(out, sign|0x7c00)
			continue
		case v != v:
			out = binary.LittleEndian.AppendUint16(out, sign|0x7e00)
			continue
		}
		exp := int(b>>23&0xff) - 127 + 15
		if exp < 1 || exp > 30 || b&0x1fff != 0 {
			panic(fmt.Sprintf("safetensorstest: %g is not an exact normal binary16 value", v))
		}
		out = binary.LittleEndian.AppendUint16(out, sign|uint16(exp)<<10|uint16(b>>13&0x3ff))
	}
	return out
}
