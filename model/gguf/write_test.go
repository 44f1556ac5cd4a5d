package gguf

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rewrite writes f's metadata and tensors again with Write.
func rewrite(t *testing.T, f *File) []byte {
	var out []TensorOut
	for i := range f.Tensors {
		tn := &f.Tensors[i]
		out = append(out, TensorOut{Name: tn.Name, Type: tn.Type, Dims: tn.Dims, Data: func(w io.Writer) error {
			_, err := w.Write(tn.Data)
			return err
		}})
	}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, f.KVs, out))
	return buf.Bytes()
}

// TestWriteAsGGML rewrites files that llama.cpp's llama-quantize wrote (ggml's
// gguf writer) and gets the same bytes back.
func TestWriteAsGGML(t *testing.T) {
	for _, name := range []string{"Q4_0.gguf", "Q6_K.gguf"} {
		path := filepath.Join("..", "testdata", "quant", name)
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		f, err := Parse(want)
		require.NoError(t, err)
		assert.Equal(t, want, rewrite(t, f), name)
	}
}

// TestWriteRoundTrip writes values of every kind made by the constructors
// and reads them back.
func TestWriteRoundTrip(t *testing.T) {
	kvs := []KV{
		{"general.architecture", MakeString("llama")},
		{"general.alignment", MakeUint32(64)},
		{"a.i32", MakeInt32(-7)},
		{"a.f32", MakeFloat32(0.1)},
		{"a.bool", MakeBool(true)},
		{"a.strs", MakeStrings([]string{"x", "", "héllo"})},
		{"a.i32s", MakeInt32s([]int32{1, -2, 3})},
		{"a.f32s", MakeFloat32s([]float32{1.5, -2})},
	}
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	tensors := []TensorOut{
		{Name: "a", Type: F32, Dims: []int{3}, Data: func(w io.Writer) error { _, err := w.Write(data); return err }},
		{Name: "b", Type: F16, Dims: []int{2, 3}, Data: func(w io.Writer) error { _, err := w.Write(data); return err }},
	}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, kvs, tensors))
	f, err := Parse(buf.Bytes())
	require.NoError(t, err)
	assert.Equal(t, 64, f.Alignment)
	assert.Zero(t, f.DataOffset%64)
	s, _ := f.String("general.architecture")
	assert.Equal(t, "llama", s)
	n, _ := f.Int("a.i32")
	assert.Equal(t, int64(-7), n)
	x, _ := f.Float("a.f32")
	assert.Equal(t, float64(float32(0.1)), x)
	bv, _ := f.Bool("a.bool")
	assert.True(t, bv)
	strs, _ := f.Strings("a.strs")
	assert.Equal(t, []string{"x", "", "héllo"}, strs)
	ints, _ := f.Ints("a.i32s")
	assert.Equal(t, []int64{1, -2, 3}, ints)
	fv, _ := f.Lookup("a.f32s")
	fa, _ := fv.Array()
	got, _ := fa.Index(1).Float()
	assert.Equal(t, -2.0, got)
	require.Len(t, f.Tensors, 2)
	assert.Equal(t, data, f.Tensors[0].Data)
	assert.Equal(t, 64, f.Tensors[1].Offset)
	assert.Equal(t, data, f.Tensors[1].Data)
}

// TestWriteErrors: a tensor that writes the wrong number of bytes, a failing
// tensor and rows that are not whole blocks are errors naming the tensor.
func TestWriteErrors(t *testing.T) {
	short := func(w io.Writer) error { _, err := w.Write([]byte{1}); return err }
	fail := func(io.Writer) error { return errors.New("boom") }
	for _, c := range []struct {
		t    TensorOut
		want string
	}{
		{TensorOut{Name: "s", Type: F32, Dims: []int{2}, Data: short}, `tensor "s": wrote 1 bytes, want 8`},
		{TensorOut{Name: "f", Type: F32, Dims: []int{2}, Data: fail}, `tensor "f": boom`},
		{TensorOut{Name: "q", Type: TensorType(12), Dims: []int{32, 2}, Data: short}, `tensor "q": Q4_K [32 2] is not whole blocks`},
	} {
		err := Write(io.Discard, nil, []TensorOut{c.t})
		assert.ErrorContains(t, err, c.want)
	}
	err := Write(io.Discard, []KV{{AlignmentKey, MakeUint32(3)}}, nil)
	assert.ErrorContains(t, err, "general.alignment")
}
