package model

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/internal/ggufpy"
	"github.com/goformer/goformer/model/gguf"
	"github.com/goformer/goformer/quant"
)

// quantizedDir holds GGUF files llama-quantize made of one F32 input
// (testdata/quant/README.md).
var quantizedDir = filepath.Join("testdata", "quant")

// quantizedTypes are the files and the block type of their tensors.
var quantizedTypes = []string{"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"}

// quantizedSHA256 are the digests (ggufpy.Digest) of gguf-py's
// dequantization of every tensor of every file, printed by
// TestQuantizedMatchesGGUFPy with GOFORMER_RECORD=1.
var quantizedSHA256 = map[string]string{
	"IQ4_NL/blk.0.ffn_down.weight": "64c7e1c62086c363b1377a6d17095ed51f7d5bc80d57a9a37da9be55c62c6616",
	"IQ4_NL/blk.0.ffn_gate.weight": "3f6d7773b65f707cfee315ec202a614bd02b4b9f994f07534e38b18762f1573e",
	"IQ4_NL/blk.0.ffn_up.weight":   "05a52a5cd7858e2cacb50e4102e8325eea43be9b30a9383482612508cc077c3b",
	"IQ4_XS/blk.0.ffn_down.weight": "41a2392ccedbdbbbb63d548df2f0180cee16c0a955f33f21e815a1e953794063",
	"IQ4_XS/blk.0.ffn_gate.weight": "059b6d67c353d9a5df163dcbad70cc46298ad70e8cae9a79296ed034f7d52b04",
	"IQ4_XS/blk.0.ffn_up.weight":   "401fd34ca8fc9cb73a1be908d1fc2e423e4ac5928e7afe23c8b09133d12beaf2",
	"Q2_K/blk.0.ffn_down.weight":   "54705be410c7a0a5c01f35b53b882b14dfeec92c6a55e472afdc56a1c2a4856f",
	"Q2_K/blk.0.ffn_gate.weight":   "2c9768db612a358b2ea3d0435e18173a5c28b253557317fc783813ac1547ec6e",
	"Q2_K/blk.0.ffn_up.weight":     "30f459489dd89ef2efa2ae401045b7eb6f9a65f6aae02a426e5a39b45c0b2add",
	"Q3_K/blk.0.ffn_down.weight":   "c26f4de30036b390f6f98f2026cdc67b630c81e1c685701d8b2c0268a395c253",
	"Q3_K/blk.0.ffn_gate.weight":   "82aa3ba1202640bb56cb97f77dff3cefa6fe750a155d2a9e3838992fbc4985e3",
	"Q3_K/blk.0.ffn_up.weight":     "e44ac83d7e7f097f23d932e41b01f33eaa4911fe5fb1de9a2bcb4cdf5232a88e",
	"Q4_0/blk.0.ffn_down.weight":   "4e1f99aa463c585dcb72a6d12a4f32b35dd12b6c7b976fd716cfa5aeb1248e1d",
	"Q4_0/blk.0.ffn_gate.weight":   "56abf533d977de6fb0e7190d5ef82f74172edc455b7e92d094102c78cbae9c70",
	"Q4_0/blk.0.ffn_up.weight":     "7b62bfc8af6786d37f0a1df2512dddbed71c050c014a8af46360132ce950be09",
	"Q4_1/blk.0.ffn_down.weight":   "72ae70904a1ee2e0ea54fd6dcf54a3435e9055e9d9dc2c9d2748e9cbc97f0ccc",
	"Q4_1/blk.0.ffn_gate.weight":   "5f33a8756ccdc3799b67d66d3ac260378ad1e5f266c38169e8b6345b8b27a267",
	"Q4_1/blk.0.ffn_up.weight":     "e0207eeb1a14e98b12292389c27ac8c9c5b72c3fba5321fcfdbc79db07de8538",
	"Q4_K/blk.0.ffn_down.weight":   "b90c75219c2a83948d626a577a77c87e77e03a9bde59e1e26bc0d23d1b1b796e",
	"Q4_K/blk.0.ffn_gate.weight":   "1ccdccc9f852e56cfaf0fb8d5934906afb7981156277de22e3e03e14d889123f",
	"Q4_K/blk.0.ffn_up.weight":     "c0edbdce78e2a890418cb18146fc2857e81b9b7fe1fb5e28aa2d18dfcfa5b653",
	"Q5_0/blk.0.ffn_down.weight":   "def80fcba07af8c119565128469b1ce98477c45c026977a78237ed8728ce8a10",
	"Q5_0/blk.0.ffn_gate.weight":   "fbfb01e3477d597ca2571c74a7cc1e02babc9f5952381f030ade237416ab28a1",
	"Q5_0/blk.0.ffn_up.weight":     "8714b5f2c8968198e9d371d7a9077fe93bf429e721619d2713ffa4f35329f0f9",
	"Q5_1/blk.0.ffn_down.weight":   "c4177e86f7beb38e2595f10c3f32980755fae846ae4b1aad1be811444e70b3f6",
	"Q5_1/blk.0.ffn_gate.weight":   "8718aaf38e4fcdf95fa7fa31d12a0ff489139d91b6e803429654c737a381f619",
	"Q5_1/blk.0.ffn_up.weight":     "730699cd299817a0d44e501ba490da61cb365cd84e53fde6d6ea0f7c7dc08fde",
	"Q5_K/blk.0.ffn_down.weight":   "e55cebbccdc2d9c1e7f1a02362652046480d9388f695a2e77a444fc984df9076",
	"Q5_K/blk.0.ffn_gate.weight":   "cb52e9a03aa9fca687decf0aec171fb570dd4cfcb371e0e1fe42118a1885d700",
	"Q5_K/blk.0.ffn_up.weight":     "cd7de9ed6ec875cc9cc15b19451cad098d3369991e64051adb6b7f480033722a",
	"Q6_K/blk.0.ffn_down.weight":   "0c8e4736bc53703a45755a3b102d1c231643f75138d86923201dbef526595724",
	"Q6_K/blk.0.ffn_gate.weight":   "adef6cc34c4305f6fd0f7d43975522c143f1abfbac0a1269c86ca39c2d824500",
	"Q6_K/blk.0.ffn_up.weight":     "e918250ec7bc09af72e6acc8f1e28306f7c39615d4b557267f76296d79e061c4",
	"Q8_0/blk.0.ffn_down.weight":   "d2c4e83ac903937b245df6cd80497a0b39e3c1421b9ba5cd64e52439d76359d7",
	"Q8_0/blk.0.ffn_gate.weight":   "6aff3dcede64323c714d7da092ddff81d6a9f69885a766d95ea29d4073cb45e4",
	"Q8_0/blk.0.ffn_up.weight":     "821d6f7759e3005c278231313aa64ead4f867ae65741e16df8ff65bf214dcea1",
}

// quantizedTensors opens every file and dequantizes its tensors with
// goformer's block formats, by "type/tensor".
func quantizedTensors(t *testing.T) (keys []string, raw map[string]*gguf.Tensor, values map[string][]float32) {
	raw, values = map[string]*gguf.Tensor{}, map[string][]float32{}
	for _, typ := range quantizedTypes {
		f, err := gguf.Open(filepath.Join(quantizedDir, typ+".gguf"))
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		require.Len(t, f.Tensors, 3, typ)
		for i := range f.Tensors {
			tn := &f.Tensors[i]
			require.Equal(t, typ, tn.Type.String(), "%s: tensor %s", typ, tn.Name)
			bf := quant.BlockFormats[uint32(tn.Type)]
			require.NotNil(t, bf, typ)
			v := make([]float32, tn.NumElements())
			require.NoError(t, bf.DequantizeRows(v, tn.Data))
			key := typ + "/" + tn.Name
			keys = append(keys, key)
			raw[key], values[key] = tn, v
		}
	}
	sort.Strings(keys)
	return keys, raw, values
}

// TestQuantizedByLlamaCpp reads tensors of every block type as llama.cpp's
// llama-quantize wrote them and checks goformer's dequantization bit for
// bit against gguf-py's, through recorded digests on every run and value
// by value where gguf-py is at hand; and that each value is near the F32
// one it was made from (the files are what they claim to be).
func TestQuantizedByLlamaCpp(t *testing.T) {
	keys, raw, values := quantizedTensors(t)
	in, err := gguf.Open(filepath.Join(quantizedDir, "input-f32.gguf"))
	require.NoError(t, err)
	defer in.Close()
	for _, key := range keys {
		tn := raw[key]
		src, ok := in.Tensor(tn.Name)
		require.True(t, ok, tn.Name)
		want := ggufFloat32(src)
		var num, den float64
		for i, v := range values[key] {
			e := float64(v) - float64(want[i])
			num, den = num+e*e, den+float64(want[i])*float64(want[i])
		}
		rel := math.Sqrt(num / den)
		// Q2_K's 2-bit codes are the coarsest: 15-25% on such rows.
		assert.Less(t, rel, 0.35, "%s: relative RMS error against the F32 input", key)
		assert.Equal(t, quantizedSHA256[key], ggufpy.Digest(values[key]), "%s: goformer's values are not gguf-py's (relative RMS error against F32 %.3g)", key, rel)
	}
	require.Len(t, quantizedSHA256, len(keys), "a recorded digest per tensor")
}

// TestQuantizedMatchesGGUFPy compares every value of every file with
// gguf-py's, and counts the values compared.
func TestQuantizedMatchesGGUFPy(t *testing.T) {
	keys, raw, values := quantizedTensors(t)
	var runs []ggufpy.Blocks
	for _, key := range keys {
		tn := raw[key]
		runs = append(runs, ggufpy.Blocks{GGMLType: uint32(tn.Type), Count: len(tn.Data) / tn.Type.BlockBytes(), Data: tn.Data})
	}
	ref := ggufpy.Dequantize(t, runs)
	compared := map[string]int{}
	for i, key := range keys {
		require.Len(t, ref[i], len(values[key]), key)
		mismatches := 0
		for j, v := range values[key] {
			if math.Float32bits(v) != math.Float32bits(ref[i][j]) {
				mismatches++
			}
		}
		assert.Zero(t, mismatches, "%s: values that differ from gguf-py's of %d", key, len(values[key]))
		compared[raw[key].Type.String()] += len(values[key])
		if os.Getenv("GOFORMER_RECORD") != "" {
			t.Logf("%q: %q,", key, ggufpy.Digest(ref[i]))
		}
	}
	t.Logf("values compared bit for bit with gguf-py, by type: %v", compared)
}
