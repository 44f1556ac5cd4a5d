package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	gt "github.com/goformer/goformer/model/internal/gguftest"
)

// sample is a small well-formed file with every value type and three tensors.
func sample() gt.File {
	return gt.File{
		KVs: []gt.KV{
			{Key: "general.architecture", Type: gt.String, Value: "gpt2"},
			{Key: "u8", Type: gt.Uint8, Value: 200}, {Key: "i8", Type: gt.Int8, Value: -5},
			{Key: "u16", Type: gt.Uint16, Value: 60000}, {Key: "i16", Type: gt.Int16, Value: -30000},
			{Key: "u32", Type: gt.Uint32, Value: 4000000000}, {Key: "i32", Type: gt.Int32, Value: -2000000000},
			{Key: "u64", Type: gt.Uint64, Value: uint64(1) << 40}, {Key: "i64", Type: gt.Int64, Value: int64(-1) << 40},
			{Key: "f32", Type: gt.Float32, Value: 0.25}, {Key: "f64", Type: gt.Float64, Value: 1e-300},
			{Key: "yes", Type: gt.Bool, Value: true},
			{Key: "words", Type: gt.Array, Elem: gt.String, Value: []any{"a", "", "Ġthe"}},
			{Key: "ids", Type: gt.Array, Elem: gt.Int32, Value: []any{3, -1, 7}},
			{Key: "nested", Type: gt.Array, Elem: gt.Array, Value: []any{}},
		},
		Tensors: []gt.Tensor{
			{Name: "w", Type: gt.F32, Dims: []uint64{3, 2}, Data: gt.F32Bytes([]float32{1, 2, 3, 4, 5, 6}), Offset: -1},
			{Name: "h", Type: gt.F16, Dims: []uint64{5}, Data: make([]byte, 10), Offset: -1},
			{Name: "q", Type: gt.Q8_0, Dims: []uint64{64, 1}, Data: make([]byte, 68), Offset: -1},
		},
	}
}

func TestParseSample(t *testing.T) {
	buf := sample().Bytes()
	f, err := Parse(buf)
	require.NoError(t, err)
	assert.Equal(t, uint32(3), f.Version)
	assert.Equal(t, 32, f.Alignment)
	assert.Len(t, f.KVs, 15)

	s, err := f.String("general.architecture")
	require.NoError(t, err)
	assert.Equal(t, "gpt2", s)
	for key, want := range map[string]int64{"u8": 200, "i8": -5, "u16": 60000, "i16": -30000, "u32": 4000000000,
		"i32": -2000000000, "u64": 1 << 40, "i64": -1 << 40} {
		got, err := f.Int(key)
		require.NoError(t, err, key)
		assert.Equal(t, want, got, key)
	}
	x, err := f.Float("f32")
	require.NoError(t, err)
	assert.Equal(t, 0.25, x)
	x, err = f.Float("f64")
	require.NoError(t, err)
	assert.Equal(t, 1e-300, x)
	yes, err := f.Bool("yes")
	require.NoError(t, err)
	assert.True(t, yes)
	words, err := f.Strings("words")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "", "Ġthe"}, words)
	ids, err := f.Ints("ids")
	require.NoError(t, err)
	assert.Equal(t, []int64{3, -1, 7}, ids)

	w, ok := f.Tensor("w")
	require.True(t, ok)
	assert.Equal(t, F32, w.Type)
	assert.Equal(t, []int{3, 2}, w.Dims)
	assert.Equal(t, 6, w.NumElements())
	assert.Equal(t, gt.F32Bytes([]float32{1, 2, 3, 4, 5, 6}), w.Data)
	q, _ := f.Tensor("q")
	assert.Len(t, q.Data, 68)
	for _, tn := range f.Tensors {
		assert.Zero(t, (f.DataOffset+tn.Offset)%32, tn.Name)
	}
}

func TestKeyErrors(t *testing.T) {
	f, err := Parse(sample().Bytes())
	require.NoError(t, err)
	_, err = f.Int("absent")
	assert.ErrorIs(t, err, ErrMissingKey)
	assert.ErrorContains(t, err, `"absent"`)
	_, err = f.Int("general.architecture")
	assert.ErrorIs(t, err, ErrKeyType)
	assert.ErrorContains(t, err, `"general.architecture" is string, want an integer`)
	_, err = f.Strings("ids")
	assert.ErrorContains(t, err, `"ids" is array of int32, want an array of string`)
	_, err = f.String("f32")
	assert.ErrorContains(t, err, `"f32" is float32, want a string`)
	_, err = f.Float("u8")
	assert.ErrorIs(t, err, ErrKeyType)
}

func TestAlignment(t *testing.T) {
	s := sample()
	s.Alignment = 64
	s.KVs = append(s.KVs, gt.KV{Key: AlignmentKey, Type: gt.Uint32, Value: 64})
	f, err := Parse(s.Bytes())
	require.NoError(t, err)
	assert.Equal(t, 64, f.Alignment)
	assert.Zero(t, f.DataOffset%64)
	h, _ := f.Tensor("h")
	assert.Equal(t, 64, h.Offset)
}

// TestPaddingAfterLastTensor: the data section may end anywhere up to the
// last tensor's padding to the alignment, as llama.cpp and gguf-py write it.
func TestPaddingAfterLastTensor(t *testing.T) {
	for _, pad := range []int{0, 1, 28} { // q ends at data offset 132; 160 is aligned
		_, err := Parse(append(sample().Bytes(), make([]byte, pad)...))
		assert.NoError(t, err, "%d bytes of padding", pad)
	}
}

func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	require.NoError(t, os.WriteFile(path, sample().Bytes(), 0o644))
	f, err := Open(path)
	require.NoError(t, err)
	w, _ := f.Tensor("w")
	assert.Equal(t, gt.F32Bytes([]float32{1, 2, 3, 4, 5, 6}), w.Data)
	require.NoError(t, f.Close())

	require.NoError(t, os.WriteFile(path, []byte("GGUF\x04\x00\x00\x00"), 0o644))
	_, err = Open(path)
	assert.ErrorContains(t, err, path)
	assert.ErrorContains(t, err, "version 4")
}

func TestBadInput(t *testing.T) {
	good := sample()
	parsed, err := Parse(good.Bytes())
	require.NoError(t, err)
	goodData := parsed.DataOffset
	header := func(version uint32, nTensors, nKV uint64) []byte {
		b := []byte("GGUF")
		b = binary.LittleEndian.AppendUint32(b, version)
		b = binary.LittleEndian.AppendUint64(b, nTensors)
		return binary.LittleEndian.AppendUint64(b, nKV)
	}
	kv := func(key string, typ uint32, rest ...byte) []byte {
		b := gt.AppendString(header(3, 0, 1), key)
		b = binary.LittleEndian.AppendUint32(b, typ)
		return append(b, rest...)
	}
	u64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	withTensor := func(mod func(*gt.Tensor)) []byte {
		s := good
		s.Tensors = append([]gt.Tensor(nil), good.Tensors...)
		mod(&s.Tensors[0])
		return s.Bytes()
	}
	withAlign := func(typ uint32, v any) []byte {
		s := good
		s.KVs = append(append([]gt.KV(nil), good.KVs...), gt.KV{Key: AlignmentKey, Type: typ, Value: v})
		return s.Bytes()
	}
	cases := []struct {
		name string
		buf  []byte
		want string
	}{
		{"empty", nil, "the magic needs 4 bytes"},
		{"magic", []byte("GGML\x03\x00\x00\x00"), `magic "GGML"`},
		{"version 1", header(1, 0, 0), "version 1 is not supported"},
		{"big-endian", []byte("GGUF\x00\x00\x00\x03"), "version 50331648 is not supported"},
		{"truncated counts", header(3, 0, 0)[:15], "the tensor count needs 8 bytes"},
		{"tensor count", header(3, 1<<62, 0), "the tensor count is 4611686018427387904"},
		{"kv count", header(3, 0, 1<<40), "the metadata count is 1099511627776"},
		{"key length", append(append(header(3, 0, 1), u64(1<<62)...), make([]byte, 16)...), "the length of metadata key 0 is 4611686018427387904"},
		{"value type", kv("k", 13), `metadata "k" has unknown value type 13`},
		{"string length", kv("k", gt.String, u64(1<<50)...), `the length of metadata "k" is 1125899906842624`},
		{"array length", kv("k", gt.Array, append(u32(gt.Uint32), u64(1<<40)...)...), `the length of metadata "k" is 1099511627776`},
		{"array of strings length", kv("k", gt.Array, append(u32(gt.String), u64(3)...)...), `the length of metadata "k" is 3`},
		{"array element type", kv("k", gt.Array, u32(99)...), `metadata "k" has unknown element type 99`},
		{"nested too deep", kv("k", gt.Array, deepArray(10)...), "nests arrays more than 8 deep"},
		{"truncated value", kv("k", gt.Uint64, 1, 2, 3), `metadata "k" needs 8 bytes`},
		{"duplicate key", gt.File{KVs: []gt.KV{{Key: "a", Type: gt.Bool, Value: true}, {Key: "a", Type: gt.Bool, Value: false}}}.Bytes(),
			`metadata key "a" appears twice`},
		{"alignment type", withAlign(gt.Uint64, uint64(32)), `"general.alignment" has type uint64, want uint32`},
		{"alignment zero", withAlign(gt.Uint32, 0), `"general.alignment" is 0, not a power of two`},
		{"alignment odd", withAlign(gt.Uint32, 48), `"general.alignment" is 48, not a power of two`},
		{"tensor offset misaligned", withTensor(func(t *gt.Tensor) { t.Offset = 4 }), `tensor "w" (F32 [3 2]) has offset 4, not a multiple of the alignment 32`},
		{"tensor offset past end", withTensor(func(t *gt.Tensor) { t.Offset = 1 << 40 }), `tensor "w" has offset 1099511627776 beyond the file`},
		{"tensor data past end", withTensor(func(t *gt.Tensor) { t.Offset = 128 }), `tensor "w" (F32 [3 2]) needs bytes`},
		{"tensor dims", withTensor(func(t *gt.Tensor) { t.Dims = []uint64{1, 1, 1, 1, 1} }), `tensor "w" has 5 dimensions`},
		{"tensor huge dim", withTensor(func(t *gt.Tensor) { t.Dims = []uint64{1 << 62} }), `tensor "w" has dimension 0 of 4611686018427387904`},
		{"tensor overflow", withTensor(func(t *gt.Tensor) { t.Dims = []uint64{1 << 12, 1 << 12, 1 << 12, 1 << 12} }), `tensor "w" (F32 [4096 4096 4096 4096]) has more elements`},
		{"tensor type", withTensor(func(t *gt.Tensor) { t.Type = 77 }), `tensor "w" (type 77 [3 2]) has unknown type 77`},
		{"q8_0 rows", withTensor(func(t *gt.Tensor) { t.Type = gt.Q8_0; t.Dims = []uint64{16, 1} }), `rows of 16 are not whole blocks of 32`},
		{"duplicate tensor", withTensor(func(t *gt.Tensor) { t.Name = "h" }), `tensor "h" appears twice`},
		{"truncated tensors", good.Bytes()[:len(good.Bytes())-1], `tensor "q" (Q8_0 [64 1]) needs bytes`},
		{"too many tensors", append(header(3, 1<<16+1, 0), make([]byte, 24*(1<<16+1))...), "the tensor count is 65537, more than the 65536 goformer reads"},
		{"too many keys", append(header(3, 0, 1<<16+1), make([]byte, 13*(1<<16+1))...), "the metadata count is 65537, more than the 65536 goformer reads"},
		{"too many nested arrays", kv("k", gt.Array, append(append(u32(gt.Array), u64(1<<16+1)...), bytes.Repeat(append(u32(gt.Uint8), u64(0)...), 1<<16+1)...)...),
			`metadata "k" brings the arrays nested in arrays to 65537, more than the 65536 goformer reads`},
		{"tensor one block long", withTensor(func(t *gt.Tensor) { t.Dims = []uint64{3, 4} }),
			`tensor "h" (F16 [5]) at data offsets 32..42 overlaps tensor "w" (F32 [3 4]) at 0..48`},
		{"tensors share bytes", func() []byte {
			s := good
			s.Tensors = append([]gt.Tensor(nil), good.Tensors...)
			s.Tensors[1].Offset = 0 // written over w's bytes
			return s.Bytes()
		}(), `tensor "h" (F16 [5]) at data offsets 0..10 overlaps tensor "w" (F32 [3 2]) at 0..24`},
		// The data section holds w at 0..24, h at 32..42 and q at 64..132,
		// each at the next multiple of 32: 33 bytes after q are more than
		// its padding to 160, and q moved to 96 leaves 42..96 to no tensor.
		{"bytes after the last tensor", append(good.Bytes(), make([]byte, 29)...),
			fmt.Sprintf("data offsets 132..161 (file bytes %d..%d), after the last tensor, belong to no tensor: more than the padding to the alignment of 32", goodData+132, goodData+161)},
		{"bytes between tensors", func() []byte {
			s := good
			s.Tensors = append([]gt.Tensor(nil), good.Tensors...)
			s.Tensors[2].Offset = 96 // placed by hand: written below
			b := s.Bytes()
			return append(append(b, make([]byte, goodData+96-len(b))...), good.Tensors[2].Data...)
		}(), fmt.Sprintf(`data offsets 42..96 (file bytes %d..%d), before tensor "q" (Q8_0 [64 1]), belong to no tensor: more than the padding to the alignment of 32`, goodData+42, goodData+96)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.buf)
			require.Error(t, err)
			assert.Nil(t, f)
			assert.True(t, errors.Is(err, ErrInvalid), "%v", err)
			assert.ErrorContains(t, err, c.want)
		})
	}
}

// deepArray encodes the rest of a metadata value (after its array type): an
// array nested depth times, ending in an empty array of uint8.
func deepArray(depth int) []byte {
	var b []byte
	for range depth - 1 {
		b = binary.LittleEndian.AppendUint32(b, gt.Array)
		b = binary.LittleEndian.AppendUint64(b, 1)
	}
	b = binary.LittleEndian.AppendUint32(b, gt.Uint8)
	return binary.LittleEndian.AppendUint64(b, 0)
}
