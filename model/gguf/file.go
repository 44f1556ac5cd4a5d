package gguf

import (
	"errors"
	"fmt"

	"github.com/goformer/goformer/model/internal/mmap"
)

// ErrMissingKey marks a metadata key the file does not have.
var ErrMissingKey = errors.New("GGUF metadata key missing")

// ErrKeyType marks a metadata value whose type does not suit its key.
var ErrKeyType = errors.New("GGUF metadata value has the wrong type")

// File is a parsed GGUF file.
type File struct {
	Version    uint32
	KVs        []KV // metadata, in file order
	Tensors    []Tensor
	Alignment  int // of tensor data: general.alignment or DefaultAlignment
	DataOffset int // where the data section starts in the file

	byKey   map[string]int
	byName  map[string]int
	release func() error
}

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}

// Tensor is one tensor of a File.
type Tensor struct {
	Name string
	Type TensorType
	// Dims are ggml's ne: Dims[0] varies fastest, so a row-major matrix of
	// R rows and C columns has Dims [C, R].
	Dims   []int
	Offset int // from the start of the data section
	// Data is the tensor's bytes. It aliases the File's bytes: do not write
	// to it, and do not use it after Close.
	Data []byte
}

// NumElements is the product of the dimensions.
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Dims {
		n *= d // Parse proved the product fits
	}
	return n
}

// Open memory-maps the GGUF file at path and parses it. Where mapping is
// unavailable the file is read into memory instead. Close the File to release
// the mapping; a failed Open releases it itself.
func Open(path string) (*File, error) {
	f, release, err := mmap.Parse(path, Parse)
	if err != nil {
		return nil, err
	}
	f.release = release
	return f, nil
}

// Close releases the file's mapping, if it has one. The tensors' Data must
// not be used after.
func (f *File) Close() error {
	if f.release == nil {
		return nil
	}
	err := f.release()
	f.release = nil
	return err
}

// Lookup returns the value of a metadata key.
func (f *File) Lookup(key string) (Value, bool) {
	i, ok := f.byKey[key]
	if !ok {
		return Value{}, false
	}
	return f.KVs[i].Value, true
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (*Tensor, bool) {
	i, ok := f.byName[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

func (f *File) get(key string) (Value, error) {
	v, ok := f.Lookup(key)
	if !ok {
		return Value{}, fmt.Errorf("%w: %q", ErrMissingKey, key)
	}
	return v, nil
}

func wrongType(key string, v Value, want string) error {
	return fmt.Errorf("%w: %q is %s, want %s", ErrKeyType, key, describe(v), want)
}

// Int returns an integer metadata value of any width and signedness.
func (f *File) Int(key string) (int64, error) {
	v, err := f.get(key)
	if err != nil {
		return 0, err
	}
	n, ok := v.Int()
	if !ok {
		if v.Type == Uint64 {
			return 0, fmt.Errorf("%w: %q is %d, too large", ErrKeyType, key, v.bits)
		}
		return 0, wrongType(key, v, "an integer")
	}
	return n, nil
}

// Float returns a float32 or float64 metadata value.
func (f *File) Float(key string) (float64, error) {
	v, err := f.get(key)
	if err != nil {
		return 0, err
	}
	x, ok := v.Float()
	if !ok {
		return 0, wrongType(key, v, "a float")
	}
	return x, nil
}

// Bool returns a bool metadata value.
func (f *File) Bool(key string) (bool, error) {
	v, err := f.get(key)
	if err != nil {
		return false, err
	}
	b, ok := v.Bool()
	if !ok {
		return false, wrongType(key, v, "a bool")
	}
	return b, nil
}

// String returns a string metadata value.
func (f *File) String(key string) (string, error) {
	v, err := f.get(key)
	if err != nil {
		return "", err
	}
	s, ok := v.Text()
	if !ok {
		return "", wrongType(key, v, "a string")
	}
	return s, nil
}

// Strings returns an array-of-strings metadata value.
func (f *File) Strings(key string) ([]string, error) {
	v, err := f.get(key)
	if err != nil {
		return nil, err
	}
	if a, ok := v.Array(); ok {
		if s, ok := a.Strings(); ok {
			return s, nil
		}
	}
	return nil, wrongType(key, v, "an array of string")
}

// Ints returns an array of integers of any width and signedness.
func (f *File) Ints(key string) ([]int64, error) {
	v, err := f.get(key)
	if err != nil {
		return nil, err
	}
	a, ok := v.Array()
	if !ok || !a.Elem.isInt() {
		return nil, wrongType(key, v, "an array of integers")
	}
	out := make([]int64, a.Len())
	for i := range out {
		n, ok := a.Index(i).Int()
		if !ok {
			return nil, fmt.Errorf("%w: element %d of %q is too large", ErrKeyType, i, key)
		}
		out[i] = n
	}
	return out, nil
}
