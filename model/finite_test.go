package model

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	gt "github.com/goformer/goformer/model/internal/gguftest"
)

// TestFirstNonFinite puts each kind of non-finite value at every position
// of slices around the eight-value stride, after and before finite extremes
// (the largest float32, subnormals, -0) that must pass.
func TestFirstNonFinite(t *testing.T) {
	finite := []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, float32(math.Copysign(0, -1)), 1}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.Float32frombits(0xff800001)} {
		for n := range 20 {
			v := make([]float32, n)
			for i := range v {
				v[i] = finite[i%len(finite)]
			}
			assert.Equal(t, -1, firstNonFinite(v), "n %d", n)
			for at := range n {
				w := slices.Clone(v)
				w[at] = bad
				if at+1 < n {
					w[n-1] = bad // a later one must not hide the first
				}
				assert.Equal(t, at, firstNonFinite(w), "%v at %d of %d", bad, at, n)
			}
		}
	}
}

// TestLoadRejectsNonFiniteWeights: a NaN or an infinity anywhere in a
// weight, in each dtype and format, fails the load naming the file, the
// tensor and the index as the file stores it.
func TestLoadRejectsNonFiniteWeights(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, dtype := range []string{"F32", "F16", "BF16"} {
		for _, c := range []struct {
			tensor string
			at     int
			x      float32
			want   string
		}{
			{"h.0.attn.c_attn.weight", 1*12 + 5, nan, `tensor "h.0.attn.c_attn.weight" [4 12] holds NaN at index [1 5]`},
			{"ln_f.weight", 0, nan, `tensor "ln_f.weight" [4] holds NaN at index [0]`},
			{"wte.weight", 5*4 + 3, inf, `tensor "wte.weight" [7 4] holds +Inf at index [5 3]`},
			{"h.1.mlp.c_proj.bias", 2, -inf, `tensor "h.1.mlp.c_proj.bias" [4] holds -Inf at index [2]`},
		} {
			ts := tinyTensors(3)
			bad := findTiny(ts, c.tensor)
			bad.values = slices.Clone(bad.values)
			bad.values[c.at] = c.x
			dir := writeCheckpointDir(t, tinyConfigJSON, map[string][]byte{SafetensorsFile: encodeTensors(replaced(ts, bad), dtype, "")})
			_, err := LoadDir(dir)
			require.ErrorIs(t, err, ErrNonFinite, "%s %s", dtype, c.tensor)
			assert.ErrorContains(t, err, filepath.Join(dir, SafetensorsFile)+": ")
			assert.ErrorContains(t, err, c.want)
		}
	}

	setF32 := func(name string, at int, x float32) func(*gt.File) {
		return func(f *gt.File) {
			for i := range f.Tensors {
				if f.Tensors[i].Name == name {
					copy(f.Tensors[i].Data[4*at:], gt.F32Bytes([]float32{x}))
				}
			}
		}
	}
	setF16 := func(name string, at int, bits uint16) func(*gt.File) {
		return func(f *gt.File) {
			for i := range f.Tensors {
				if f.Tensors[i].Name == name {
					f.Tensors[i].Data[2*at], f.Tensors[i].Data[2*at+1] = byte(bits), byte(bits>>8)
				}
			}
		}
	}
	for _, c := range []struct {
		name   string
		matrix uint32
		mod    func(*gt.File)
		want   string
	}{
		{"F32 matrix", gt.F32, setF32("blk.0.attn_qkv.weight", 2*32+7, nan), `tensor "blk.0.attn_qkv.weight" [32 96] holds NaN at index [7 2]`},
		{"F32 vector", gt.F32, setF32("output_norm.weight", 31, inf), `tensor "output_norm.weight" [32] holds +Inf at index [31]`},
		{"F32 positions", gt.Q8_0, setF32("position_embd.weight", 3*32+1, -inf), `tensor "position_embd.weight" [32 8] holds -Inf at index [1 3]`},
		{"F16 matrix", gt.F16, setF16("token_embd.weight", 257*32, 0x7e00), `tensor "token_embd.weight" [32 258] holds NaN at index [0 257]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := tinyGGUF(c.matrix)
			c.mod(&f)
			path := writeGGUF(t, f)
			_, err := LoadGGUF(path)
			require.ErrorIs(t, err, ErrNonFinite)
			assert.ErrorContains(t, err, path+": ")
			assert.ErrorContains(t, err, c.want)
		})
	}
}
