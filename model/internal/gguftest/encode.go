// Package gguftest writes GGUF files for tests: well-formed ones built from
// metadata and tensors, and the pieces to hand-craft broken ones.
package gguftest

import (
	"encoding/binary"
	"math"
)

// Value types and tensor types, as gguf numbers them; repeated here so that
// tests can write values the gguf package would reject.
const (
	Uint8, Int8, Uint16, Int16, Uint32, Int32, Float32, Bool, String, Array, Uint64, Int64, Float64 = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12

	F32, F16, Q8_0 = 0, 1, 8
)

// KV is a metadata entry. Value is uint8..float64 Go values matching Type,
// string, or for Array a []any of Elem values.
type KV struct {
	Key   string
	Type  uint32
	Elem  uint32 // for arrays
	Value any
}

// Tensor is a tensor to write: Dims ne0 first, Data its bytes. Offset < 0
// lets the builder place it; a tensor with its own Offset has only its
// header written, for tests of offsets that point anywhere.
type Tensor struct {
	Name   string
	Type   uint32
	Dims   []uint64
	Data   []byte
	Offset int64
}

// File is a GGUF file to encode.
type File struct {
	Version   uint32 // 3 when 0
	Alignment int    // 32 when 0; written only if general.alignment is among KVs
	KVs       []KV
	Tensors   []Tensor
}

// Bytes encodes f: header, metadata, tensor infos, padding, then the tensors'
// data at their offsets (placed one after another at the alignment, unless
// a tensor sets its own Offset).
func (f File) Bytes() []byte {
	version := f.Version
	if version == 0 {
		version = 3
	}
	align := f.Alignment
	if align == 0 {
		align = 32
	}
	var b []byte
	b = append(b, "GGUF"...)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(f.Tensors)))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(f.KVs)))
	for _, kv := range f.KVs {
		b = AppendString(b, kv.Key)
		b = binary.LittleEndian.AppendUint32(b, kv.Type)
		if kv.Type == Array {
			b = binary.LittleEndian.AppendUint32(b, kv.Elem)
			elems := kv.Value.([]any)
			b = binary.LittleEndian.AppendUint64(b, uint64(len(elems)))
			for _, e := range elems {
				b = AppendValue(b, kv.Elem, e)
			}
			continue
		}
		b = AppendValue(b, kv.Type, kv.Value)
	}
	offsets := make([]int64, len(f.Tensors))
	var next int64
	for i, t := range f.Tensors {
		offsets[i] = t.Offset
		if t.Offset < 0 {
			offsets[i] = next
			next = (offsets[i] + int64(len(t.Data)) + int64(align) - 1) / int64(align) * int64(align)
		}
		b = AppendString(b, t.Name)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Dims)))
		for _, d := range t.Dims {
			b = binary.LittleEndian.AppendUint64(b, d)
		}
		b = binary.LittleEndian.AppendUint32(b, t.Type)
		b = binary.LittleEndian.AppendUint64(b, uint64(offsets[i]))
	}
	if len(f.Tensors) == 0 {
		return b
	}
	for len(b)%align != 0 {
		b = append(b, 0)
	}
	start := len(b)
	for i, t := range f.Tensors {
		if t.Offset >= 0 {
			continue
		}
		end := start + int(offsets[i]) + len(t.Data)
		for len(b) < end {
			b = append(b, 0)
		}
		copy(b[start+int(offsets[i]):], t.Data)
	}
	return b
}

// AppendString appends a GGUF string: u64 length, then the bytes.
func AppendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// AppendValue appends v encoded as type t (not an array).
func AppendValue(b []byte, t uint32, v any) []byte {
	switch t {
	case Uint8, Int8, Bool:
		return append(b, byte(toInt(v)))
	case Uint16, Int16:
		return binary.LittleEndian.AppendUint16(b, uint16(toInt(v)))
	case Uint32, Int32:
		return binary.LittleEndian.AppendUint32(b, uint32(toInt(v)))
	case Uint64, Int64:
		return binary.LittleEndian.AppendUint64(b, uint64(toInt(v)))
	case Float32:
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v.(float64))))
	case Float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.(float64)))
	case String:
		return AppendString(b, v.(string))
	}
	panic("gguftest: cannot encode type")
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case uint64:
		return int64(x)
	case bool:
		if x {
			return 1
		}
		return 0
	}
	panic("gguftest: not an integer")
}

// F32Bytes encodes float32 values little-endian.
func F32Bytes(v []float32) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}
