package model

import (
	"fmt"
	"slices"
	"sort"

	"github.com/goformer/goformer/model/safetensors"
)

// hfTensor is a tensor a Hugging Face checkpoint holds, named as the file
// names it (without GPT-2's optional "transformer." prefix), and the
// Weights field it fills. One list of them per family drives both the
// checks and the conversion.
type hfTensor struct {
	name  string
	shape []int // as stored
	// conv1D marks Hugging Face's Conv1D weights (GPT-2), stored [in, out]
	// for y = x·W; they are transposed once into the run-time [out][in].
	conv1D bool
	matrix **Matrix   // a weight matrix, [out][in] at run time
	vector *[]float32 // or a vector (norm, bias, position table)
	absent bool       // the checkpoint may lack it: the field stays nil
}

// hfMatrix is a weight matrix stored [out][in], as nn.Linear keeps it.
func hfMatrix(name string, out, in int, dst **Matrix) hfTensor {
	return hfTensor{name: name, shape: []int{out, in}, matrix: dst}
}

// hfVector is a vector of n values.
func hfVector(name string, n int, dst *[]float32) hfTensor {
	return hfTensor{name: name, shape: []int{n}, vector: dst}
}

// optional marks t as one the checkpoint may lack.
func (t hfTensor) optional() hfTensor { t.absent = true; return t }

// loadHFTensors checks every tensor of layout against tt (present unless
// optional, of the stored shape, of a float dtype) and that tt holds
// nothing else but what ignore accepts, before converting any; then it
// converts them to fp32 in run-time layout.
func loadHFTensors(tt *tensorTable, layout []hfTensor, ignore func(name string, t storedTensor) error) error {
	claimed := make(map[string]bool, len(layout))
	var scratch int
	for _, want := range layout {
		t, ok := tt.byName[want.name]
		if !ok {
			if want.absent {
				continue
			}
			return fmt.Errorf("%s: %w: tensor %q %v is missing", tt.source, ErrTensorMismatch, want.name, want.shape)
		}
		if !slices.Equal(t.Shape, want.shape) {
			return fmt.Errorf("%s: %w: tensor %q has shape %v, expected %v", t.file, ErrTensorMismatch, t.Name, t.Shape, want.shape)
		}
		switch t.DType {
		case safetensors.F32, safetensors.F16, safetensors.BF16:
		default:
			return fmt.Errorf("%s: %w: tensor %q %v has dtype %s; goformer reads F32, F16 and BF16",
				t.file, ErrTensorMismatch, t.Name, t.Shape, t.DType)
		}
		claimed[want.name] = true
		if want.conv1D {
			scratch = max(scratch, t.NumElements())
		}
	}
	names := make([]string, 0, len(tt.byName))
	for name := range tt.byName {
		if !claimed[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		t := tt.byName[name]
		if err := ignore(name, t); err != nil {
			return err
		}
	}

	buf := make([]float32, scratch)
	for _, want := range layout {
		t, ok := tt.byName[want.name]
		if !ok {
			continue
		}
		n := t.NumElements()
		values := make([]float32, n)
		src := values
		if want.conv1D {
			src = buf[:n]
		}
		if err := t.Float32(src); err != nil {
			return fmt.Errorf("%s: %w", t.file, err)
		}
		if err := checkFinite(t.Name, t.Shape, src); err != nil {
			return fmt.Errorf("%s: %w", t.file, err)
		}
		switch {
		case want.conv1D:
			transpose(values, src, t.Shape[0], t.Shape[1])
			*want.matrix = F32Matrix(values, t.Shape[1], t.Shape[0])
		case want.matrix != nil:
			*want.matrix = F32Matrix(values, t.Shape[0], t.Shape[1])
		default:
			*want.vector = values
		}
	}
	return nil
}

// unknownTensor is the error for a tensor no layout claims.
func unknownTensor(t storedTensor, why string) error {
	return fmt.Errorf("%s: %w: unknown tensor %q %v%s", t.file, ErrTensorMismatch, t.Name, t.Shape, why)
}

// transpose writes the rows×cols matrix src into dst as cols×rows:
//
//	for i := range rows {
//		for j := range cols {
//			dst[j*rows+i] = src[i*cols+j]
//		}
//	}
//
// in 16×16 tiles, writing each tile row of dst sequentially, so that both
// sides stay in cache on GPT-2-sized matrices.
func transpose(dst, src []float32, rows, cols int) {
	const tile = 16
	for j0 := 0; j0 < cols; j0 += tile {
		j1 := min(j0+tile, cols)
		for i0 := 0; i0 < rows; i0 += tile {
			i1 := min(i0+tile, rows)
			for j := j0; j < j1; j++ {
				d := dst[j*rows+i0 : j*rows+i1]
				s := src[i0*cols+j:]
				for k := range d {
					d[k] = s[k*cols]
				}
			}
		}
	}
}

// tiedHeadWarning is the warning for a checkpoint whose config ties the
// output projection to the embedding (tie_word_embeddings true) but which
// also stores an lm_head that differs from it: the model follows the
// config, as Hugging Face's tie_weights does, and lm_head is not used. It
// is "" when lm_head is absent (nil) or a copy of the embedding.
func tiedHeadWarning(tt *tensorTable, lmHead, emb *Matrix, embName string) string {
	if lmHead == nil || sameBits(lmHead.F32, emb.F32) {
		return ""
	}
	head, embedding := tt.byName[lmHeadName], tt.byName[embName]
	return fmt.Sprintf("%s: tensor %q differs from %q, but config.json says tie_word_embeddings true: the output projection is %q, as the config says, and %q is not used",
		head.file, head.Name, embedding.Name, embedding.Name, head.Name)
}
