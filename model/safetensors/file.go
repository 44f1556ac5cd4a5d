package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"

	"github.com/goformer/goformer/model/internal/dataarea"
)

// ErrInvalid marks bytes that are not a valid safetensors file.
var ErrInvalid = errors.New("invalid safetensors data")

// maxHeaderLen bounds the JSON header as the reference implementation does,
// so a corrupt length cannot make us parse hundreds of megabytes of weights.
const maxHeaderLen = 100 << 20

// maxTensors bounds a header's entries: a crafted header of a million empty
// tensors would cost over a gigabyte to table. The largest real shards
// hold a few thousand.
const maxTensors = 1 << 17

// Tensor is one named tensor of a File.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	// Data is the tensor's little-endian elements. It aliases the File's
	// bytes: do not write to it, and do not use it after File.Close.
	Data []byte
}

// NumElements is the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d // Parse proved the product fits
	}
	return n
}

// Float32 converts the tensor's elements to float32 into dst, which must hold
// exactly NumElements values. F32, F16 and BF16 tensors convert exactly.
func (t Tensor) Float32(dst []float32) error {
	if len(dst) != t.NumElements() {
		return fmt.Errorf("tensor %q %v has %d elements, destination holds %d", t.Name, t.Shape, t.NumElements(), len(dst))
	}
	if err := decodeFloat32(dst, t.Data, t.DType); err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return nil
}

// File is a parsed safetensors file: its metadata and tensors, views into the
// bytes it was parsed from.
type File struct {
	Metadata map[string]string // the header's __metadata__, nil when absent
	tensors  []Tensor          // in data order
	byName   map[string]int
	release  func() error // unmaps the file; nil when there is nothing to release
}

// Tensors lists the tensors in the order of their data.
func (f *File) Tensors() []Tensor { return f.tensors }

// Tensor returns the named tensor.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := f.byName[name]
	if !ok {
		return Tensor{}, false
	}
	return f.tensors[i], true
}

// Close releases the file's memory mapping, if any. Tensors of a closed File
// must not be used. Close is safe to call twice.
func (f *File) Close() error {
	f.tensors, f.byName = nil, nil
	if f.release == nil {
		return nil
	}
	release := f.release
	f.release = nil
	return release()
}

// tensorHeader is one tensor's entry in the JSON header. Pointers tell a
// missing key from an empty one.
type tensorHeader struct {
	DType       *string   `json:"dtype"`
	Shape       *[]uint64 `json:"shape"`
	DataOffsets *[]uint64 `json:"data_offsets"`
}

// span is a tensor's byte range in the data area, kept for the overlap and
// coverage checks.
type span = dataarea.Span

// Parse reads a safetensors file held in buf. The returned File's tensors
// alias buf. Any inconsistency (a header length past the end, offsets past
// the data, a byte count that does not match dtype and shape, overlapping
// tensors) is an error wrapping ErrInvalid.
func Parse(buf []byte) (*File, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("%w: %d bytes, too short for the 8-byte header length", ErrInvalid, len(buf))
	}
	n := binary.LittleEndian.Uint64(buf)
	if n > uint64(len(buf)-8) {
		return nil, fmt.Errorf("%w: header length %d runs past the end of the %d-byte file", ErrInvalid, n, len(buf))
	}
	if n > maxHeaderLen {
		return nil, fmt.Errorf("%w: header length %d exceeds the %d-byte limit", ErrInvalid, n, maxHeaderLen)
	}
	header, data := buf[8:8+n], buf[8+n:]
	if !bytes.HasPrefix(header, []byte("{")) {
		return nil, fmt.Errorf("%w: header does not start with a JSON object", ErrInvalid)
	}
	entries, err := headerEntries(header)
	if err != nil {
		return nil, err
	}

	// Walk the names in order so that a file with several faults always
	// reports the same one.
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	f := &File{byName: make(map[string]int, len(entries))}
	spans := make([]span, 0, len(entries))
	byName := make(map[string]Tensor, len(entries))
	for _, name := range names {
		raw := entries[name]
		if name == "__metadata__" {
			if err := json.Unmarshal(raw, &f.Metadata); err != nil {
				return nil, fmt.Errorf("%w: __metadata__ is not a map of strings: %v", ErrInvalid, err)
			}
			continue
		}
		t, s, err := parseTensor(name, raw, uint64(len(data)))
		if err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrInvalid, name, err)
		}
		t.Data = data[s.Begin:s.End:s.End]
		byName[name] = t
		spans = append(spans, s)
	}
	sort.Slice(spans, func(i, j int) bool { return spanLess(spans[i], spans[j]) })
	if err := checkOverlaps(spans); err != nil {
		return nil, err
	}
	if err := checkCovered(spans, uint64(len(data))); err != nil {
		return nil, err
	}
	f.tensors = make([]Tensor, len(spans))
	for i, s := range spans {
		f.tensors[i] = byName[s.Name]
		f.byName[s.Name] = i
	}
	return f, nil
}

// headerEntries reads the header's top-level object. Unlike json.Unmarshal
// into a map, where the last of two entries of one name silently wins, a
// name given twice is an error.
func headerEntries(header []byte) (map[string]json.RawMessage, error) {
	fail := func(err error) (map[string]json.RawMessage, error) {
		return nil, fmt.Errorf("%w: header JSON: %v", ErrInvalid, err)
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil { // '{', as the caller checked
		return fail(err)
	}
	entries := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		name := tok.(string) // inside an object, a token is a key
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fail(err)
		}
		if _, dup := entries[name]; dup {
			return nil, fmt.Errorf("%w: header names %q twice", ErrInvalid, name)
		}
		if len(entries) == maxTensors {
			return nil, fmt.Errorf("%w: header lists more than %d tensors, the most goformer reads", ErrInvalid, maxTensors)
		}
		entries[name] = raw
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: header JSON: data after the object, at byte %d", ErrInvalid, dec.InputOffset())
	}
	return entries, nil
}

// checkCovered rejects data-area bytes that no tensor holds, as the
// reference implementation does: tensors lie back to back from byte 0 to
// the end of the file, so stray bytes mean the header and the data
// disagree. spans are sorted and do not overlap.
func checkCovered(spans []span, dataLen uint64) error {
	gap, ok := dataarea.Uncovered(spans, dataLen, 1)
	switch {
	case !ok:
		return nil
	case gap.Next != "":
		return fmt.Errorf("%w: data bytes [%d, %d) before tensor %q belong to no tensor", ErrInvalid, gap.Begin, gap.End, gap.Next)
	}
	return fmt.Errorf("%w: the last %d bytes of the %d-byte data area, from %d, belong to no tensor", ErrInvalid, dataLen-gap.Begin, dataLen, gap.Begin)
}

func spanLess(a, b span) bool {
	if a.Begin != b.Begin {
		return a.Begin < b.Begin
	}
	if a.End != b.End {
		return a.End < b.End
	}
	return a.Name < b.Name
}

// parseTensor validates one header entry against a data area of dataLen bytes.
func parseTensor(name string, raw json.RawMessage, dataLen uint64) (Tensor, span, error) {
	var h tensorHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return Tensor{}, span{}, err
	}
	switch {
	case h.DType == nil:
		return Tensor{}, span{}, errors.New("no dtype")
	case h.Shape == nil:
		return Tensor{}, span{}, errors.New("no shape")
	case h.DataOffsets == nil:
		return Tensor{}, span{}, errors.New("no data_offsets")
	case len(*h.DataOffsets) != 2:
		return Tensor{}, span{}, fmt.Errorf("data_offsets %v is not a [begin, end] pair", *h.DataOffsets)
	}
	dtype := DType(*h.DType)
	size := dtype.Size()
	if size == 0 {
		return Tensor{}, span{}, fmt.Errorf("unknown dtype %q", *h.DType)
	}
	shape := make([]int, len(*h.Shape))
	count := uint64(1)
	for i, d := range *h.Shape {
		hi, lo := bits.Mul64(count, d)
		if hi != 0 || d > math.MaxInt || lo > math.MaxInt {
			return Tensor{}, span{}, fmt.Errorf("shape %v overflows", *h.Shape)
		}
		shape[i], count = int(d), lo
	}
	hi, nbytes := bits.Mul64(count, uint64(size))
	if hi != 0 {
		return Tensor{}, span{}, fmt.Errorf("shape %v of %s overflows", *h.Shape, dtype)
	}
	begin, end := (*h.DataOffsets)[0], (*h.DataOffsets)[1]
	switch {
	case begin > end:
		return Tensor{}, span{}, fmt.Errorf("data_offsets [%d, %d] end before they begin", begin, end)
	case end > dataLen:
		return Tensor{}, span{}, fmt.Errorf("data_offsets [%d, %d] run past the %d-byte data area", begin, end, dataLen)
	case end-begin != nbytes:
		return Tensor{}, span{}, fmt.Errorf("data_offsets [%d, %d] hold %d bytes, but %s %v needs %d",
			begin, end, end-begin, dtype, shape, nbytes)
	}
	return Tensor{Name: name, DType: dtype, Shape: shape}, span{Name: name, Begin: begin, End: end}, nil
}

// checkOverlaps rejects two tensors sharing a byte; spans are sorted. Empty
// tensors own no bytes, so they overlap nothing.
func checkOverlaps(spans []span) error {
	var prev *span
	for i := range spans {
		s := &spans[i]
		if s.Begin == s.End {
			continue
		}
		if prev != nil && s.Begin < prev.End {
			return fmt.Errorf("%w: tensors %q [%d, %d] and %q [%d, %d] overlap",
				ErrInvalid, prev.Name, prev.Begin, prev.End, s.Name, s.Begin, s.End)
		}
		if prev == nil || s.End > prev.End {
			prev = s
		}
	}
	return nil
}
