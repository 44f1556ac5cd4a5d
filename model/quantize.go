package model

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model/gguf"
	"github.com/goformer/goformer/quant"
)

// QuantizedTensor is what Quantize did with one tensor.
type QuantizedTensor struct {
	Name     string
	Dims     []int // ne, as the file writes them
	From, To gguf.TensorType
	// Fallback is whether the row width ruled out the type the preset
	// chose (see QuantizeRule).
	Fallback bool
}

// QuantizeReport lists the tensors of the file Quantize wrote, in its order.
type QuantizeReport struct {
	Tensors []QuantizedTensor
	Bytes   int64 // of the written file
}

// Quantize writes to out a GGUF file of the model in, its tensors in the
// types preset and QuantizeRule choose, its metadata that of in plus
// general.file_type and general.quantization_version, as llama-quantize
// does. in is a GGUF file of F32, F16 or BF16 tensors (quantized ones are
// requantized, unless already coarser than their target), or a Hugging
// Face folder of the Llama family, converted first as llama.cpp's
// convert_hf_to_gguf.py would (openHFSource). out appears
// whole or not at all: the file is written beside it and renamed.
func Quantize(ctx context.Context, in, out string, preset QuantizePreset) (*QuantizeReport, error) {
	src, err := openQuantizeSource(in)
	if err != nil {
		return nil, err
	}
	defer src.close()
	if err := sameFile(in, out); err != nil {
		return nil, err
	}
	report, tensors, err := planQuantize(src, preset)
	if err != nil {
		return nil, err
	}
	kvs := slices.DeleteFunc(slices.Clone(src.kvs), func(kv gguf.KV) bool {
		switch kv.Key {
		case "general.quantization_version", "general.file_type", "split.no", "split.count", "split.tensors.count":
			return true
		}
		return false
	})
	kvs = append(kvs,
		gguf.KV{Key: "general.quantization_version", Value: gguf.MakeUint32(2)},
		gguf.KV{Key: "general.file_type", Value: gguf.MakeUint32(preset.FileType)})
	outs := make([]gguf.TensorOut, len(tensors))
	for i, t := range tensors {
		qt := report.Tensors[i]
		outs[i] = gguf.TensorOut{Name: qt.Name, Type: qt.To, Dims: qt.Dims, Data: func(w io.Writer) error {
			return convertTensor(ctx, w, t, qt)
		}}
	}
	n, err := writeAtomically(out, func(w io.Writer) error { return gguf.Write(w, kvs, outs) })
	if err != nil {
		return nil, err
	}
	report.Bytes = n
	return report, nil
}

// quantizeSource is a model to quantize: its metadata and tensors as a
// GGUF file holds them.
type quantizeSource struct {
	kvs     []gguf.KV
	tensors []*gguf.Tensor
	arch    string
	nLayer  int
	gqa     bool
	close   func() error
}

func openQuantizeSource(in string) (*quantizeSource, error) {
	st, err := os.Stat(in)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return openHFSource(in)
	}
	f, err := gguf.Open(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	s := &quantizeSource{kvs: f.KVs, close: f.Close}
	if s.arch, err = f.String("general.architecture"); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	nl, err := f.Int(s.arch + ".block_count")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	s.nLayer = int(nl)
	heads, errH := f.Int(s.arch + ".attention.head_count")
	kv, errKV := f.Int(s.arch + ".attention.head_count_kv")
	s.gqa = errH == nil && errKV == nil && kv != heads
	for i := range f.Tensors {
		s.tensors = append(s.tensors, &f.Tensors[i])
	}
	return s, nil
}

// bitsPerWeight of a tensor type, for refusing to requantize upwards.
func bitsPerWeight(t gguf.TensorType) float64 {
	return float64(8*t.BlockBytes()) / float64(t.BlockLen())
}

// planQuantize puts the tensors in llama-quantize's order and chooses each
// one's type.
func planQuantize(src *quantizeSource, preset QuantizePreset) (*QuantizeReport, []*gguf.Tensor, error) {
	tensors := slices.Clone(src.tensors)
	slices.SortStableFunc(tensors, func(a, b *gguf.Tensor) int { return llamaQuantizeOrder(a.Name, b.Name) })
	names := make([]string, len(tensors))
	for i, t := range tensors {
		names[i] = t.Name
	}
	plan := newQuantPlan(preset, names, src.nLayer, src.arch == "llama" && src.nLayer == 80 && src.gqa)
	report := &QuantizeReport{}
	for _, t := range tensors {
		qt := QuantizedTensor{Name: t.Name, Dims: t.Dims, From: t.Type, To: t.Type}
		if allowsQuantization(t.Name, t.Dims) {
			qt.To, qt.Fallback = plan.choose(t.Name, t.Dims)
		}
		if qt.To != qt.From {
			if err := checkConvertible(qt); err != nil {
				return nil, nil, err
			}
		}
		report.Tensors = append(report.Tensors, qt)
	}
	return report, tensors, nil
}

// checkConvertible refuses conversions goformer cannot make.
func checkConvertible(qt QuantizedTensor) error {
	from := quant.BlockFormats[uint32(qt.From)]
	switch {
	case qt.From == gguf.F32 || qt.From == gguf.F16 || qt.From == gguf.BF16:
	case from == nil:
		return fmt.Errorf("%w: tensor %q is %s, which goformer cannot read to requantize", ErrUnsupported, qt.Name, qt.From)
	case bitsPerWeight(qt.From) < bitsPerWeight(qt.To):
		return fmt.Errorf("%w: tensor %q is already %s (%.3g bits per weight), coarser than the %s it would become: quantize from an F32, F16 or BF16 file",
			ErrUnsupported, qt.Name, qt.From, bitsPerWeight(qt.From), qt.To)
	}
	if qt.To != gguf.F16 && quant.BlockFormats[uint32(qt.To)].Quantize == nil {
		return fmt.Errorf("%w: tensor %q: goformer does not write %s", ErrUnsupported, qt.Name, qt.To)
	}
	return nil
}

// convertTensor writes t's data in type qt.To: its bytes when the type
// stays, else its rows expanded to float32, checked finite and quantized,
// a slab of rows at a time, the rows of a slab spread over the CPUs.
func convertTensor(ctx context.Context, w io.Writer, t *gguf.Tensor, qt QuantizedTensor) error {
	if qt.To == qt.From {
		_, err := w.Write(t.Data)
		return err
	}
	cols := t.Dims[0]
	rows := t.NumElements() / cols
	inRow := len(t.Data) / rows
	outRow := gguf.TensorOut{Type: qt.To, Dims: []int{cols}}
	outRowBytes := outRow.Size()
	slab := max(1, (16<<20)/(4*cols))
	x := make([]float32, min(slab, rows)*cols)
	buf := make([]byte, min(slab, rows)*outRowBytes)
	for r0 := 0; r0 < rows; r0 += slab {
		if err := ctx.Err(); err != nil {
			return err
		}
		r1 := min(rows, r0+slab)
		xs, bs := x[:(r1-r0)*cols], buf[:(r1-r0)*outRowBytes]
		if err := ggufDecode(t.Type, xs, t.Data[r0*inRow:r1*inRow]); err != nil {
			return err
		}
		if i := firstNonFinite(xs); i >= 0 {
			return fmt.Errorf("%w: tensor %q holds %v at row %d, column %d", ErrNonFinite, t.Name, xs[i], r0+i/cols, i%cols)
		}
		if err := quantizeRowsParallel(qt.To, bs, xs, r1-r0, cols, outRowBytes); err != nil {
			return err
		}
		if _, err := w.Write(bs); err != nil {
			return err
		}
	}
	return nil
}

// quantizeRowsParallel quantizes rows rows of x into dst, the rows split
// across the kernels' threads (kernels.Parallel); each row's bytes depend
// on that row alone. An error (a type goformer cannot write, or a slab that
// is not whole blocks) is the same for every part: one copy is returned.
func quantizeRowsParallel(to gguf.TensorType, dst []byte, x []float32, rows, cols, rowBytes int) error {
	var once sync.Once
	var first error
	kernels.Parallel(rows, func(r0, r1 int) {
		if err := quantizeRows(to, dst[r0*rowBytes:r1*rowBytes], x[r0*cols:r1*cols]); err != nil {
			once.Do(func() { first = err })
		}
	})
	return first
}

func quantizeRows(to gguf.TensorType, dst []byte, x []float32) error {
	if to == gguf.F16 {
		for i, v := range x {
			binary.LittleEndian.PutUint16(dst[2*i:], kernels.Float32ToFloat16(v))
		}
		return nil
	}
	return quant.BlockFormats[uint32(to)].QuantizeRows(dst, x)
}

// sameFile refuses an output that is the input.
func sameFile(in, out string) error {
	a, err := os.Stat(in)
	if err != nil {
		return err
	}
	if b, err := os.Stat(out); err == nil && os.SameFile(a, b) {
		return fmt.Errorf("output %s is the input file", out)
	}
	return nil
}

// writeAtomically writes path through write into a temporary file beside
// it, then renames it into place; on any error the temporary file is
// removed and path is untouched. It returns the size written.
func writeAtomically(path string, write func(io.Writer) error) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("cannot write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) (int64, error) {
		f.Close()
		os.Remove(tmp)
		return 0, err
	}
	if err := write(f); err != nil {
		return fail(fmt.Errorf("%s: %w", path, err))
	}
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return st.Size(), nil
}
