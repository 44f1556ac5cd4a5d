package gguf

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"github.com/goformer/goformer/model/internal/dataarea"
)

// ErrInvalid marks bytes that are not a GGUF file goformer can read.
var ErrInvalid = errors.New("invalid GGUF data")

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the tensor data alignment when general.alignment is
// absent.
const DefaultAlignment = 32

// AlignmentKey sets the alignment of tensor data, a power of two.
const AlignmentKey = "general.alignment"

// maxDims is ggml's GGML_MAX_DIMS.
const maxDims = 4

// maxNesting bounds arrays of arrays, which no model uses deeply; it keeps a
// crafted file from recursing without limit.
const maxNesting = 8

// Caps on counts that a small crafted file could make expensive: each
// empty tensor info, metadata entry or nested array costs far more in
// memory than in the file. Real files hold a few hundred to a few thousand
// tensors, tens of keys and no arrays of arrays worth mentioning.
const (
	maxTensors      = 1 << 16
	maxKVs          = 1 << 16
	maxNestedArrays = 1 << 16 // arrays inside arrays, in the whole file
)

// reader decodes little-endian fields from buf, failing with a message that
// says what it was reading when the bytes run out.
type reader struct {
	buf    []byte
	pos    int
	nested int // arrays read inside arrays so far
}

func (r *reader) left() int { return len(r.buf) - r.pos }

func (r *reader) take(n int, what func() string) ([]byte, error) {
	if n < 0 || n > r.left() {
		return nil, fmt.Errorf("%w: %s needs %d bytes at offset %d, the file has %d left", ErrInvalid, what(), n, r.pos, r.left())
	}
	b := r.buf[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

func (r *reader) u32(what func() string) (uint32, error) {
	b, err := r.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (r *reader) u64(what func() string) (uint64, error) {
	b, err := r.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// count reads a u64 count of items of at least minSize bytes each and
// rejects one that the rest of the file cannot hold, before anyone
// allocates for it.
func (r *reader) count(minSize int, what func() string) (int, error) {
	n, err := r.u64(what)
	if err != nil {
		return 0, err
	}
	if n > uint64(r.left()/max(minSize, 1)) {
		return 0, fmt.Errorf("%w: %s is %d, more than the %d bytes left in the file can hold", ErrInvalid, what(), n, r.left())
	}
	return int(n), nil
}

func (r *reader) str(what func() string) (string, error) {
	n, err := r.count(1, func() string { return "the length of " + what() })
	if err != nil {
		return "", err
	}
	b, _ := r.take(n, what)
	return string(b), nil
}

// Parse reads a GGUF file held in buf: header, metadata, tensor infos, and
// the tensors' places in buf. The File's tensors alias buf.
func Parse(buf []byte) (*File, error) {
	r := &reader{buf: buf}
	magic, err := r.take(4, func() string { return "the magic" })
	if err != nil {
		return nil, err
	}
	if string(magic) != Magic {
		return nil, fmt.Errorf("%w: magic %q, want %q: not a GGUF file", ErrInvalid, magic, Magic)
	}
	f := &File{}
	if f.Version, err = r.u32(func() string { return "the version" }); err != nil {
		return nil, err
	}
	// Version 2 only widened version 1's counts and lengths to 64 bits;
	// version 3 added big-endian files, which announce themselves with a
	// byte-swapped version.
	if f.Version != 2 && f.Version != 3 {
		return nil, fmt.Errorf("%w: version %d is not supported (goformer reads GGUF 2 and 3, little-endian)", ErrInvalid, f.Version)
	}
	nTensors, err := r.count(24, func() string { return "the tensor count" })
	if err != nil {
		return nil, err
	}
	nKV, err := r.count(13, func() string { return "the metadata count" })
	if err != nil {
		return nil, err
	}
	if nTensors > maxTensors {
		return nil, fmt.Errorf("%w: the tensor count is %d, more than the %d goformer reads", ErrInvalid, nTensors, maxTensors)
	}
	if nKV > maxKVs {
		return nil, fmt.Errorf("%w: the metadata count is %d, more than the %d goformer reads", ErrInvalid, nKV, maxKVs)
	}

	f.KVs = make([]KV, 0, nKV)
	f.byKey = make(map[string]int, nKV)
	for i := range nKV {
		key, err := r.str(func() string { return fmt.Sprintf("metadata key %d", i) })
		if err != nil {
			return nil, err
		}
		if _, dup := f.byKey[key]; dup {
			return nil, fmt.Errorf("%w: metadata key %q appears twice", ErrInvalid, key)
		}
		v, err := r.value(func() string { return fmt.Sprintf("metadata %q", key) }, 0)
		if err != nil {
			return nil, err
		}
		f.byKey[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{Key: key, Value: v})
	}

	f.Alignment = DefaultAlignment
	if v, ok := f.Lookup(AlignmentKey); ok {
		a, isInt := v.Int()
		if !isInt || v.Type != Uint32 {
			return nil, fmt.Errorf("%w: metadata %q has type %s, want uint32", ErrInvalid, AlignmentKey, v.Type)
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("%w: metadata %q is %d, not a power of two", ErrInvalid, AlignmentKey, a)
		}
		f.Alignment = int(a)
	}

	f.Tensors = make([]Tensor, nTensors)
	f.byName = make(map[string]int, nTensors)
	for i := range f.Tensors {
		if err := r.tensorInfo(&f.Tensors[i], i); err != nil {
			return nil, err
		}
		if _, dup := f.byName[f.Tensors[i].Name]; dup {
			return nil, fmt.Errorf("%w: tensor %q appears twice", ErrInvalid, f.Tensors[i].Name)
		}
		f.byName[f.Tensors[i].Name] = i
	}

	// The data section starts at the next multiple of the alignment; a file
	// without tensors may end before it.
	f.DataOffset = r.pos
	if rem := r.pos % f.Alignment; rem != 0 {
		f.DataOffset += f.Alignment - rem
	}
	for i := range f.Tensors {
		if err := f.place(&f.Tensors[i], buf); err != nil {
			return nil, err
		}
	}
	if err := checkOverlaps(f.Tensors); err != nil {
		return nil, err
	}
	if err := f.checkCovered(len(buf)); err != nil {
		return nil, err
	}
	return f, nil
}

// checkCovered rejects data-section bytes that no tensor holds beyond the
// padding that aligns each tensor (llama.cpp and gguf-py write the tensors
// back to back, each padded to the alignment): stray bytes mean the tensor
// infos and the data disagree, as in a file whose infos lost a tensor.
// The tensors do not overlap (checkOverlaps).
func (f *File) checkCovered(fileLen int) error {
	spans := make([]dataarea.Span, 0, len(f.Tensors))
	for _, t := range f.Tensors {
		spans = append(spans, dataarea.Span{Name: t.Name, Begin: uint64(t.Offset), End: uint64(t.Offset + len(t.Data))})
	}
	slices.SortStableFunc(spans, func(a, b dataarea.Span) int { return cmp.Compare(a.Begin, b.Begin) })
	gap, ok := dataarea.Uncovered(spans, uint64(max(0, fileLen-f.DataOffset)), uint64(f.Alignment))
	if !ok {
		return nil
	}
	where := "after the last tensor"
	if gap.Next != "" {
		t := f.Tensors[f.byName[gap.Next]]
		where = fmt.Sprintf("before tensor %q (%s %v)", t.Name, t.Type, t.Dims)
	}
	return fmt.Errorf("%w: data offsets %d..%d (file bytes %d..%d), %s, belong to no tensor: more than the padding to the alignment of %d",
		ErrInvalid, gap.Begin, gap.End, uint64(f.DataOffset)+gap.Begin, uint64(f.DataOffset)+gap.End, where, f.Alignment)
}

// checkOverlaps rejects two tensors sharing a byte of the data section: a
// tensor one block short of its size would otherwise read into its
// neighbour. Empty tensors own no bytes.
func checkOverlaps(ts []Tensor) error {
	order := make([]int, 0, len(ts))
	for i := range ts {
		if len(ts[i].Data) > 0 {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(ts[a].Offset, ts[b].Offset) })
	for k := 1; k < len(order); k++ {
		prev, t := &ts[order[k-1]], &ts[order[k]]
		if end := prev.Offset + len(prev.Data); t.Offset < end {
			return fmt.Errorf("%w: tensor %q (%s %v) at data offsets %d..%d overlaps tensor %q (%s %v) at %d..%d",
				ErrInvalid, t.Name, t.Type, t.Dims, t.Offset, t.Offset+len(t.Data), prev.Name, prev.Type, prev.Dims, prev.Offset, end)
		}
	}
	return nil
}

// value reads a value: its u32 type, then the value.
func (r *reader) value(what func() string, depth int) (Value, error) {
	t, err := r.u32(func() string { return "the type of " + what() })
	if err != nil {
		return Value{}, err
	}
	return r.typedValue(ValueType(t), what, depth)
}

func (r *reader) typedValue(t ValueType, what func() string, depth int) (Value, error) {
	switch {
	case t.size() > 0:
		b, err := r.take(t.size(), what)
		if err != nil {
			return Value{}, err
		}
		return decodeFixed(t, b), nil
	case t == String:
		s, err := r.str(what)
		return Value{Type: String, str: s}, err
	case t == Array:
		a, err := r.array(what, depth)
		return Value{Type: Array, arr: a}, err
	}
	return Value{}, fmt.Errorf("%w: %s has unknown value type %d", ErrInvalid, what(), uint32(t))
}

func (r *reader) array(what func() string, depth int) (*ArrayValue, error) {
	if depth >= maxNesting {
		return nil, fmt.Errorf("%w: %s nests arrays more than %d deep", ErrInvalid, what(), maxNesting)
	}
	et, err := r.u32(func() string { return "the element type of " + what() })
	if err != nil {
		return nil, err
	}
	elem := ValueType(et)
	if elem.minSize() == 0 {
		return nil, fmt.Errorf("%w: %s has unknown element type %d", ErrInvalid, what(), et)
	}
	n, err := r.count(elem.minSize(), func() string { return "the length of " + what() })
	if err != nil {
		return nil, err
	}
	a := &ArrayValue{Elem: elem, n: n}
	switch elem {
	case String:
		a.strs = make([]string, n)
		for i := range a.strs {
			if a.strs[i], err = r.str(func() string { return fmt.Sprintf("element %d of %s", i, what()) }); err != nil {
				return nil, err
			}
		}
	case Array:
		if r.nested += n; r.nested > maxNestedArrays {
			return nil, fmt.Errorf("%w: %s brings the arrays nested in arrays to %d, more than the %d goformer reads", ErrInvalid, what(), r.nested, maxNestedArrays)
		}
		a.arrays = make([]ArrayValue, n)
		for i := range a.arrays {
			sub, err := r.array(func() string { return fmt.Sprintf("element %d of %s", i, what()) }, depth+1)
			if err != nil {
				return nil, err
			}
			a.arrays[i] = *sub
		}
	default:
		b, _ := r.take(n*elem.size(), what) // count proved it fits
		a.raw = b
	}
	return a, nil
}

// tensorInfo reads tensor i's name, dimensions, type and offset.
func (r *reader) tensorInfo(t *Tensor, i int) error {
	name, err := r.str(func() string { return fmt.Sprintf("the name of tensor %d", i) })
	if err != nil {
		return err
	}
	t.Name = name
	what := func() string { return fmt.Sprintf("tensor %q", name) }
	nDims, err := r.u32(func() string { return "the dimension count of " + what() })
	if err != nil {
		return err
	}
	if nDims > maxDims {
		return fmt.Errorf("%w: %s has %d dimensions, at most %d are allowed", ErrInvalid, what(), nDims, maxDims)
	}
	t.Dims = make([]int, nDims)
	for d := range t.Dims {
		v, err := r.u64(func() string { return fmt.Sprintf("dimension %d of %s", d, what()) })
		if err != nil {
			return err
		}
		// No dimension of a tensor inside the file can exceed its size in
		// bytes times the 8 elements a byte could hold at the very least.
		if v > uint64(len(r.buf))*8 {
			return fmt.Errorf("%w: %s has dimension %d of %d, larger than the file could hold", ErrInvalid, what(), d, v)
		}
		t.Dims[d] = int(v)
	}
	typ, err := r.u32(func() string { return "the type of " + what() })
	if err != nil {
		return err
	}
	t.Type = TensorType(typ)
	off, err := r.u64(func() string { return "the offset of " + what() })
	if err != nil {
		return err
	}
	if off > uint64(len(r.buf)) {
		return fmt.Errorf("%w: %s has offset %d beyond the file's %d bytes", ErrInvalid, what(), off, len(r.buf))
	}
	t.Offset = int(off)
	return nil
}

// place checks that t lies inside buf at the file's alignment and points
// t.Data at its bytes.
func (f *File) place(t *Tensor, buf []byte) error {
	what := fmt.Sprintf("tensor %q (%s %v)", t.Name, t.Type, t.Dims)
	tr, ok := tensorTypes[t.Type]
	if !ok {
		return fmt.Errorf("%w: %s has unknown type %d", ErrInvalid, what, uint32(t.Type))
	}
	if t.Offset%f.Alignment != 0 {
		return fmt.Errorf("%w: %s has offset %d, not a multiple of the alignment %d", ErrInvalid, what, t.Offset, f.Alignment)
	}
	var n uint64 = 1
	for _, d := range t.Dims {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > uint64(len(buf))*8 {
			return fmt.Errorf("%w: %s has more elements than the file could hold", ErrInvalid, what)
		}
		n = lo
	}
	if len(t.Dims) > 0 && t.Dims[0]%tr.blockLen != 0 {
		return fmt.Errorf("%w: %s: its rows of %d are not whole blocks of %d", ErrInvalid, what, t.Dims[0], tr.blockLen)
	}
	size := n / uint64(tr.blockLen) * uint64(tr.blockB)
	start := uint64(f.DataOffset) + uint64(t.Offset)
	if start > uint64(len(buf)) || size > uint64(len(buf))-start {
		return fmt.Errorf("%w: %s needs bytes %d..%d, past the end of the file (%d bytes)", ErrInvalid, what, start, start+size, len(buf))
	}
	t.Data = buf[start : start+size : start+size]
	return nil
}

// describe names a value's type for error messages, with an array's element
// type: "array of string".
func describe(v Value) string {
	if a, ok := v.Array(); ok {
		return "array of " + a.Elem.String()
	}
	return v.Type.String()
}
