package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/model/internal/safetensorstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type stt = safetensorstest.Tensor

func TestParseRoundTrip(t *testing.T) {
	f32 := []float32{1.5, -2.25, 3e-7, 1e30, 0, -0.125}
	f16 := []float32{0.5, -1, 65504, 6.103515625e-05, 0, 0.333251953125}
	bf16 := []float32{1, -3.5, 1.1754943508222875e-38, 3.3895313892515355e38}
	buf := safetensorstest.Encode(map[string]string{"format": "pt"},
		stt{Name: "a.f32", DType: "F32", Shape: []int{2, 3}, Data: safetensorstest.F32(f32)},
		stt{Name: "b.f16", DType: "F16", Shape: []int{6}, Data: safetensorstest.F16(f16)},
		stt{Name: "c.bf16", DType: "BF16", Shape: []int{2, 1, 2}, Data: safetensorstest.BF16(bf16)},
		stt{Name: "d.scalar", DType: "F32", Shape: []int{}, Data: safetensorstest.F32([]float32{7})},
		stt{Name: "e.empty", DType: "F32", Shape: []int{0, 5}},
		stt{Name: "f.ids", DType: "I64", Shape: []int{2}, Data: make([]byte, 16)},
	)
	f, err := Parse(buf)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"format": "pt"}, f.Metadata)

	var names []string
	for _, tn := range f.Tensors() {
		names = append(names, tn.Name)
	}
	// e.empty sits at the same offset as f.ids; the empty one sorts first.
	assert.Equal(t, []string{"a.f32", "b.f16", "c.bf16", "d.scalar", "e.empty", "f.ids"}, names)

	for _, c := range []struct {
		name  string
		dtype DType
		shape []int
		want  []float32
	}{
		{"a.f32", F32, []int{2, 3}, f32},
		{"b.f16", F16, []int{6}, f16},
		{"c.bf16", BF16, []int{2, 1, 2}, bf16},
		{"d.scalar", F32, []int{}, []float32{7}},
		{"e.empty", F32, []int{0, 5}, []float32{}},
	} {
		tn, ok := f.Tensor(c.name)
		require.True(t, ok, c.name)
		assert.Equal(t, c.dtype, tn.DType, c.name)
		assert.Equal(t, c.shape, tn.Shape, c.name)
		got := make([]float32, tn.NumElements())
		require.NoError(t, tn.Float32(got), c.name)
		assert.Equal(t, c.want, got, c.name)
	}

	ids, _ := f.Tensor("f.ids")
	err = ids.Float32(make([]float32, 2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"f.ids"`)
	assert.Contains(t, err.Error(), "I64")

	a, _ := f.Tensor("a.f32")
	err = a.Float32(make([]float32, 5))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "[2 3] has 6 elements, destination holds 5")

	_, ok := f.Tensor("missing")
	assert.False(t, ok)
}

// float16Reference decodes binary16 by its definition, in float64.
func float16Reference(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, mant := int(h>>10&0x1f), float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant/1024, -14)
	case 31:
		if mant == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+mant/1024, exp-15)
}

// bfloat16Reference decodes bfloat16 by its definition, in float64.
func bfloat16Reference(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, mant := int(h>>7&0xff), float64(h&0x7f)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant/128, -126)
	case 255:
		if mant == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+mant/128, exp-127)
}

// Every 16-bit pattern, subnormals, signed zeros, infinities and NaNs included.
func TestHalfPrecisionAllValues(t *testing.T) {
	src := make([]byte, 2<<16)
	for i := range 1 << 16 {
		binary.LittleEndian.PutUint16(src[2*i:], uint16(i))
	}
	for _, c := range []struct {
		dtype DType
		ref   func(uint16) float64
	}{{F16, float16Reference}, {BF16, bfloat16Reference}} {
		got := make([]float32, 1<<16)
		require.NoError(t, decodeFloat32(got, src, c.dtype))
		bad := 0
		for i, g := range got {
			want := c.ref(uint16(i))
			ok := float64(g) == want && math.Signbit(float64(g)) == math.Signbit(want)
			if math.IsNaN(want) {
				ok = math.IsNaN(float64(g)) && math.Signbit(float64(g)) == (i&0x8000 != 0)
			}
			if !ok && bad < 5 {
				t.Errorf("%s %#04x: got %g, want %g", c.dtype, i, g, want)
			}
			if !ok {
				bad++
			}
		}
		assert.Zero(t, bad, "%s values wrong", c.dtype)
	}
}

// rawTensor writes one header entry by hand, for corrupt headers.
func rawFile(header string, dataLen int) []byte {
	return safetensorstest.Raw([]byte(header), bytes.Repeat([]byte{0xab}, dataLen))
}

func TestParseRejectsCorruptFiles(t *testing.T) {
	valid := safetensorstest.Encode(nil,
		stt{Name: "w", DType: "F32", Shape: []int{2, 2}, Data: safetensorstest.F32([]float32{1, 2, 3, 4})})
	hugeLen := binary.LittleEndian.AppendUint64(nil, 1<<63)
	for _, c := range []struct {
		name string
		buf  []byte
		want string
	}{
		{"empty file", nil, "0 bytes, too short"},
		{"seven bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "7 bytes, too short"},
		{"header length past the end", valid[:20], "header length 64 runs past the end of the 20-byte file"},
		{"header length 2^63", append(hugeLen, "{}"...), "header length 9223372036854775808 runs past the end"},
		{"header not an object", rawFile(`[1,2]`, 0), "does not start with a JSON object"},
		{"header null", rawFile(`null`, 0), "does not start with a JSON object"},
		{"malformed JSON", rawFile(`{"w": {"dtype": "F32",`, 0), "header JSON"},
		{"metadata not strings", rawFile(`{"__metadata__": {"n": 3}}`, 0), "__metadata__ is not a map of strings"},
		{"no dtype", rawFile(`{"w": {"shape": [1], "data_offsets": [0, 4]}}`, 4), `tensor "w": no dtype`},
		{"no shape", rawFile(`{"w": {"dtype": "F32", "data_offsets": [0, 4]}}`, 4), `tensor "w": no shape`},
		{"no offsets", rawFile(`{"w": {"dtype": "F32", "shape": [1]}}`, 4), `tensor "w": no data_offsets`},
		{"three offsets", rawFile(`{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}}`, 8), "not a [begin, end] pair"},
		{"unknown dtype", rawFile(`{"w": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}}`, 4), `unknown dtype "F33"`},
		{"negative dim", rawFile(`{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}`, 4), `tensor "w"`},
		{"fractional dim", rawFile(`{"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}`, 4), `tensor "w"`},
		{"offsets past the end", rawFile(`{"w": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}`, 8), "data_offsets [4, 12] run past the 8-byte data area"},
		{"begin after end", rawFile(`{"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 4]}}`, 8), "data_offsets [8, 4] end before they begin"},
		{"wrong dtype size", rawFile(`{"w": {"dtype": "F16", "shape": [2, 2], "data_offsets": [0, 16]}}`, 16), "hold 16 bytes, but F16 [2 2] needs 8"},
		{"shape overflows", rawFile(`{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}}`, 0), "overflows"},
		{"dim past MaxInt", rawFile(`{"w": {"dtype": "U8", "shape": [9223372036854775808], "data_offsets": [0, 0]}}`, 0), "overflows"},
		{"bytes overflow", rawFile(`{"w": {"dtype": "F64", "shape": [4611686018427387904], "data_offsets": [0, 0]}}`, 0), "overflows"},
		{"dim past uint64", rawFile(`{"w": {"dtype": "F32", "shape": [18446744073709551616], "data_offsets": [0, 0]}}`, 0), `tensor "w"`},
		{"overlapping tensors", rawFile(`{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
			"b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}`, 12), `tensors "a" [0, 8] and "b" [4, 12] overlap`},
		{"tensor inside another", rawFile(`{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
			"b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}`, 16), `tensors "a" [0, 16] and "b" [4, 8] overlap`},
		{"same range twice", rawFile(`{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
			"b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}`, 4), `tensors "a" [0, 4] and "b" [0, 4] overlap`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.buf)
			require.Error(t, err)
			assert.Nil(t, f)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// Every prefix of a valid file is an error, never a panic.
func TestParseRejectsEveryTruncation(t *testing.T) {
	buf := safetensorstest.Encode(map[string]string{"k": "v"},
		stt{Name: "a", DType: "F32", Shape: []int{3}, Data: safetensorstest.F32([]float32{1, 2, 3})},
		stt{Name: "b", DType: "BF16", Shape: []int{2}, Data: safetensorstest.BF16([]float32{1, 2})})
	_, err := Parse(buf)
	require.NoError(t, err)
	for n := range len(buf) {
		_, err := Parse(buf[:n])
		require.ErrorIs(t, err, ErrInvalid, "prefix of %d bytes", n)
	}
}

// TestParseRejectsUncoveredBytes: tensors lie back to back from byte 0 to
// the end of the data area, whatever order the header lists them in, as the
// reference implementation requires; a byte no tensor holds means the
// header and the data disagree (a tensor dropped from the header, a file
// with something appended), and is an error saying where.
func TestParseRejectsUncoveredBytes(t *testing.T) {
	f, err := Parse(rawFile(`{"b": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]},
		"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}`, 4))
	require.NoError(t, err)
	require.Len(t, f.Tensors(), 2)
	assert.Equal(t, "a", f.Tensors()[0].Name)
	assert.Equal(t, "b", f.Tensors()[1].Name)

	for _, c := range []struct {
		header string
		n      int
		want   string
	}{
		{`{"b": {"dtype": "U8", "shape": [2], "data_offsets": [6, 8]}, "a": {"dtype": "U8", "shape": [2], "data_offsets": [1, 3]}}`, 8,
			`data bytes [0, 1) before tensor "a" belong to no tensor`},
		{`{"b": {"dtype": "U8", "shape": [2], "data_offsets": [6, 8]}, "a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}`, 8,
			`data bytes [2, 6) before tensor "b" belong to no tensor`},
		{`{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}`, 10,
			`the last 8 bytes of the 10-byte data area, from 2, belong to no tensor`},
		{`{"a": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}}`, 1,
			`the last 1 bytes of the 1-byte data area, from 0, belong to no tensor`},
	} {
		_, err := Parse(rawFile(c.header, c.n))
		require.ErrorIs(t, err, ErrInvalid, c.header)
		assert.ErrorContains(t, err, c.want)
	}
}

// TestParseRejectsTooManyTensors: a header of more entries than any real
// file (here empty tensors, a few bytes each) is refused while it is read.
func TestParseRejectsTooManyTensors(t *testing.T) {
	var h strings.Builder
	h.WriteString("{")
	for i := range 1<<17 + 1 {
		if i > 0 {
			h.WriteString(",")
		}
		fmt.Fprintf(&h, `"t%d":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`, i)
	}
	h.WriteString("}")
	_, err := Parse(rawFile(h.String(), 0))
	require.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "header lists more than 131072 tensors, the most goformer reads")
}

// TestParseRejectsDuplicateNames: json.Unmarshal into a map keeps the last
// of two entries of one name, so a header naming a tensor twice used to
// load whichever came last; it is an error naming the tensor.
func TestParseRejectsDuplicateNames(t *testing.T) {
	for _, header := range []string{
		`{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}, "a": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}}`,
		`{"__metadata__": {"format": "pt"}, "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "__metadata__": {}}`,
	} {
		_, err := Parse(rawFile(header, 4))
		require.ErrorIs(t, err, ErrInvalid, header)
		assert.Regexp(t, `header names "(a|__metadata__)" twice`, err.Error())
	}
	_, err := Parse(rawFile(`{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}} {}`, 2))
	assert.ErrorContains(t, err, "header JSON: data after the object")
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	values := []float32{0.25, -8, 3.5}
	path := filepath.Join(dir, "m.safetensors")
	buf := safetensorstest.Encode(nil, stt{Name: "x", DType: "F32", Shape: []int{3}, Data: safetensorstest.F32(values)})
	require.NoError(t, os.WriteFile(path, buf, 0o644))

	f, err := Open(path)
	require.NoError(t, err)
	x, ok := f.Tensor("x")
	require.True(t, ok)
	got := make([]float32, 3)
	require.NoError(t, x.Float32(got))
	assert.Equal(t, values, got)
	require.NoError(t, f.Close())
	require.NoError(t, f.Close(), "second Close")
	_, ok = f.Tensor("x")
	assert.False(t, ok, "a closed file has no tensors")

	truncated := filepath.Join(dir, "truncated.safetensors")
	require.NoError(t, os.WriteFile(truncated, buf[:len(buf)-1], 0o644))
	_, err = Open(truncated)
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), truncated)
	assert.Contains(t, err.Error(), `tensor "x": data_offsets [0, 12] run past the 11-byte data area`)

	empty := filepath.Join(dir, "empty.safetensors")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	_, err = Open(empty)
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), empty)

	_, err = Open(filepath.Join(dir, "absent.safetensors"))
	assert.ErrorIs(t, err, fs.ErrNotExist)

	_, err = Open(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a regular file")
}

func TestOpenFixture(t *testing.T) {
	path := filepath.Join(testkit.Fixture("gpt2-mini"), "model.safetensors")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("fixture %s not available: %v", path, err)
	}
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	require.Len(t, f.Tensors(), 40)
	assert.Equal(t, "wte.weight", f.Tensors()[0].Name, "first in file order")
	wte, ok := f.Tensor("wte.weight")
	require.True(t, ok)
	assert.Equal(t, F32, wte.DType)
	assert.Equal(t, []int{50257, 96}, wte.Shape)
	total := 0
	for _, tn := range f.Tensors() {
		total += tn.NumElements()
	}
	assert.Equal(t, 5172672, total, "the README's parameter count")
}

func TestParseIndex(t *testing.T) {
	ix, err := ParseIndex([]byte(`{"metadata": {"total_size": 48},
		"weight_map": {"a": "model-00002-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
		"c": "model-00002-of-00002.safetensors"}}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}, ix.Shards())
	assert.Equal(t, "model-00001-of-00002.safetensors", ix.WeightMap["b"])

	for _, c := range []struct{ name, json, want string }{
		{"malformed", `{"weight_map": {`, "index JSON"},
		{"no weight_map", `{"metadata": {}}`, "no weight_map"},
		{"shard is a path", `{"weight_map": {"a": "../secret.safetensors"}}`, `"a" to "../secret.safetensors", which is not a file name`},
		{"shard is empty", `{"weight_map": {"a": ""}}`, "not a file name"},
		{"weight_map of numbers", `{"weight_map": {"a": 1}}`, "index JSON"},
	} {
		_, err := ParseIndex([]byte(c.json))
		require.ErrorIs(t, err, ErrInvalid, c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
	}
	assert.False(t, errors.Is(nil, ErrInvalid))
	assert.True(t, strings.HasSuffix(IndexFile, ".index.json"))
}
