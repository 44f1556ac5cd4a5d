package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// The constructors of metadata values for Write.

// MakeString is a string value.
func MakeString(s string) Value { return Value{Type: String, str: s} }

// MakeUint32 is a uint32 value.
func MakeUint32(v uint32) Value { return Value{Type: Uint32, bits: uint64(v)} }

// MakeInt32 is an int32 value.
func MakeInt32(v int32) Value { return Value{Type: Int32, bits: uint64(int64(v))} }

// MakeFloat32 is a float32 value.
func MakeFloat32(v float32) Value {
	return Value{Type: Float32, bits: math.Float64bits(float64(v))}
}

// MakeBool is a bool value.
func MakeBool(v bool) Value {
	b := Value{Type: Bool}
	if v {
		b.bits = 1
	}
	return b
}

// MakeStrings is an array of strings.
func MakeStrings(s []string) Value {
	return Value{Type: Array, arr: &ArrayValue{Elem: String, n: len(s), strs: s}}
}

// MakeInt32s is an array of int32.
func MakeInt32s(v []int32) Value {
	raw := make([]byte, 0, 4*len(v))
	for _, x := range v {
		raw = binary.LittleEndian.AppendUint32(raw, uint32(x))
	}
	return Value{Type: Array, arr: &ArrayValue{Elem: Int32, n: len(v), raw: raw}}
}

// MakeFloat32s is an array of float32.
func MakeFloat32s(v []float32) Value {
	raw := make([]byte, 0, 4*len(v))
	for _, x := range v {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(x))
	}
	return Value{Type: Array, arr: &ArrayValue{Elem: Float32, n: len(v), raw: raw}}
}

// TensorOut is a tensor for Write: its header fields and a function that
// writes exactly its bytes, Type.RowBytes of Dims[0] for every row.
type TensorOut struct {
	Name string
	Type TensorType
	Dims []int // ne: Dims[0] varies fastest
	Data func(w io.Writer) error
}

// Size is the tensor's size in bytes, 0 when its type is unknown or its rows
// are not whole blocks.
func (t *TensorOut) Size() int {
	bl, bb := t.Type.BlockLen(), t.Type.BlockBytes()
	if bl == 0 || len(t.Dims) == 0 || t.Dims[0]%bl != 0 {
		return 0
	}
	n := bb * (t.Dims[0] / bl)
	for _, d := range t.Dims[1:] {
		n *= d
	}
	return n
}

// Write writes a GGUF v3 file to w: the metadata in the order given, the
// tensor infos, then each tensor's data at the next multiple of alignment
// (the value of general.alignment when kvs holds it, else
// DefaultAlignment), zero-padded, as ggml's gguf writer lays them out.
func Write(w io.Writer, kvs []KV, tensors []TensorOut) error {
	align := DefaultAlignment
	for _, kv := range kvs {
		if kv.Key == AlignmentKey {
			a, ok := kv.Value.Int()
			if !ok || kv.Value.Type != Uint32 || a == 0 || a&(a-1) != 0 {
				return fmt.Errorf("gguf: %s must be a uint32 power of two", AlignmentKey)
			}
			align = int(a)
		}
	}
	bw := &countingWriter{w: bufio.NewWriterSize(w, 1<<20)}
	var b []byte
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(tensors)))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(kvs)))
	for _, kv := range kvs {
		b = appendString(b, kv.Key)
		b = binary.LittleEndian.AppendUint32(b, uint32(kv.Value.Type))
		var err error
		if b, err = appendValue(b, kv.Value); err != nil {
			return fmt.Errorf("gguf: metadata %q: %w", kv.Key, err)
		}
	}
	sizes := make([]int, len(tensors))
	offset := 0
	for i := range tensors {
		t := &tensors[i]
		if sizes[i] = t.Size(); sizes[i] == 0 {
			return fmt.Errorf("gguf: tensor %q: %s %v is not whole blocks", t.Name, t.Type, t.Dims)
		}
		b = appendString(b, t.Name)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Dims)))
		for _, d := range t.Dims {
			b = binary.LittleEndian.AppendUint64(b, uint64(d))
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Type))
		b = binary.LittleEndian.AppendUint64(b, uint64(offset))
		offset += padTo(sizes[i], align)
	}
	b = append(b, make([]byte, padTo(len(b), align)-len(b))...)
	if _, err := bw.Write(b); err != nil {
		return err
	}
	for i := range tensors {
		start := bw.n
		if err := tensors[i].Data(bw); err != nil {
			return fmt.Errorf("gguf: tensor %q: %w", tensors[i].Name, err)
		}
		if got := int(bw.n - start); got != sizes[i] {
			return fmt.Errorf("gguf: tensor %q: wrote %d bytes, want %d", tensors[i].Name, got, sizes[i])
		}
		if _, err := bw.Write(make([]byte, padTo(sizes[i], align)-sizes[i])); err != nil {
			return err
		}
	}
	return bw.w.(*bufio.Writer).Flush()
}

func padTo(n, align int) int { return (n + align - 1) / align * align }

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue encodes v's payload (its type is written by the caller).
func appendValue(b []byte, v Value) ([]byte, error) {
	switch v.Type {
	case Uint8, Int8, Bool:
		return append(b, byte(v.bits)), nil
	case Uint16, Int16:
		return binary.LittleEndian.AppendUint16(b, uint16(v.bits)), nil
	case Uint32, Int32:
		return binary.LittleEndian.AppendUint32(b, uint32(v.bits)), nil
	case Uint64, Int64, Float64:
		return binary.LittleEndian.AppendUint64(b, v.bits), nil
	case Float32:
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(math.Float64frombits(v.bits)))), nil
	case String:
		return appendString(b, v.str), nil
	case Array:
		return appendArray(b, v.arr)
	}
	return nil, fmt.Errorf("unknown value type %d", uint32(v.Type))
}

func appendArray(b []byte, a *ArrayValue) ([]byte, error) {
	b = binary.LittleEndian.AppendUint32(b, uint32(a.Elem))
	b = binary.LittleEndian.AppendUint64(b, uint64(a.n))
	switch a.Elem {
	case String:
		for _, s := range a.strs {
			b = appendString(b, s)
		}
	case Array:
		for i := range a.arrays {
			var err error
			if b, err = appendArray(b, &a.arrays[i]); err != nil {
				return nil, err
			}
		}
	default:
		if a.Elem.size() == 0 {
			return nil, fmt.Errorf("unknown element type %d", uint32(a.Elem))
		}
		b = append(b, a.raw...)
	}
	return b, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
