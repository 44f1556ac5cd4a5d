package model

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/goformer/goformer/model/internal/safetensorstest"
	"github.com/goformer/goformer/model/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyWant is the run-time layout of tinyTensors, written out by hand.
func tinyWant(ts []tinyTensor) Weights {
	v := func(name string) []float32 { return findTiny(ts, name).values }
	w := Weights{TokenEmbedding: F32Matrix(v("wte.weight"), 7, 4), PositionEmbedding: v("wpe.weight"),
		FinalNorm: Norm{Gain: v("ln_f.weight"), Bias: v("ln_f.bias")}}
	for l := range 2 {
		h := "h." + strconv.Itoa(l) + "."
		qkv := transposed(v(h+"attn.c_attn.weight"), 4, 12)
		b := v(h + "attn.c_attn.bias")
		w.Layers = append(w.Layers, Layer{
			AttnNorm: Norm{Gain: v(h + "ln_1.weight"), Bias: v(h + "ln_1.bias")},
			Q:        F32Matrix(qkv[:16:16], 4, 4), K: F32Matrix(qkv[16:32:32], 4, 4), V: F32Matrix(qkv[32:], 4, 4),
			QBias: b[:4:4], KBias: b[4:8:8], VBias: b[8:],
			O: F32Matrix(transposed(v(h+"attn.c_proj.weight"), 4, 4), 4, 4), OBias: v(h + "attn.c_proj.bias"),
			MLPNorm: Norm{Gain: v(h + "ln_2.weight"), Bias: v(h + "ln_2.bias")},
			Up:      F32Matrix(transposed(v(h+"mlp.c_fc.weight"), 4, 12), 12, 4), UpBias: v(h + "mlp.c_fc.bias"),
			Down: F32Matrix(transposed(v(h+"mlp.c_proj.weight"), 12, 4), 4, 12), DownBias: v(h + "mlp.c_proj.bias"),
		})
	}
	return w
}

func tinyConfig(t *testing.T) Config {
	c, err := ParseConfig([]byte(tinyConfigJSON))
	require.NoError(t, err)
	return c
}

// Every dtype, with and without the transformer. prefix, from a directory
// and from an fs.FS.
func TestLoadTiny(t *testing.T) {
	ts := tinyTensors(1)
	want := tinyWant(ts)
	for _, dtype := range []string{"F32", "F16", "BF16"} {
		for _, prefix := range []string{"", "transformer."} {
			t.Run(dtype+"/"+prefix, func(t *testing.T) {
				st := encodeTensors(ts, dtype, prefix)
				dir := writeCheckpointDir(t, tinyConfigJSON, map[string][]byte{SafetensorsFile: st})
				ck, err := LoadDir(dir)
				require.NoError(t, err)
				assert.Equal(t, tinyConfig(t), ck.Config)
				assert.Equal(t, want, ck.Weights)
				assert.Equal(t, dir, ck.Dir)
				vocab, err := fs.ReadFile(ck.FS, VocabFile)
				require.NoError(t, err)
				assert.Equal(t, `{"a": 0}`, string(vocab))

				ck, err = LoadFS(fstest.MapFS{
					ConfigFile:      {Data: []byte(tinyConfigJSON)},
					VocabFile:       {Data: []byte("{}")},
					MergesFile:      {Data: []byte("")},
					SafetensorsFile: {Data: st},
				})
				require.NoError(t, err)
				assert.Equal(t, want, ck.Weights)
				assert.Empty(t, ck.Dir)
			})
		}
	}
}

// Hugging Face's causal-mask buffers are skipped; an lm_head equal to wte is
// tied, a different one is the output projection when config.json says
// tie_word_embeddings false (TestTiedConfigFollowedOverLMHead: otherwise).
func TestLoadBuffersAndLMHead(t *testing.T) {
	ts := tinyTensors(2)
	want := tinyWant(ts)
	buffers := []tinyTensor{
		{"h.0.attn.bias", []int{1, 1, 5, 5}, make([]float32, 25)},
		{"h.0.attn.masked_bias", []int{}, []float32{-1e4}},
		{"h.1.attn.bias", []int{1, 1, 5, 5}, make([]float32, 25)},
	}
	wte := findTiny(ts, "wte.weight")
	tied := tinyTensor{"lm_head.weight", []int{7, 4}, wte.values}
	untied := tinyTensors(3)[0]
	untied.name = "lm_head.weight"
	// lm_head has no transformer. prefix in Hugging Face checkpoints.
	withPrefix := func(extra ...tinyTensor) []byte {
		var out []safetensorstest.Tensor
		for _, t := range append(append([]tinyTensor{}, ts...), extra...) {
			name := "transformer." + t.name
			if t.name == "lm_head.weight" {
				name = t.name
			}
			out = append(out, safetensorstest.Tensor{Name: name, DType: "F32", Shape: t.shape, Data: safetensorstest.F32(t.values)})
		}
		return safetensorstest.Encode(nil, out...)
	}

	dir := writeCheckpointDir(t, tinyConfigJSON, map[string][]byte{SafetensorsFile: withPrefix(append(buffers, tied)...)})
	ck, err := LoadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, want, ck.Weights)
	assert.Nil(t, ck.Weights.Output)
	assert.True(t, ck.Config.Arch.TiedEmbeddings)

	untiedConfig := strings.Replace(tinyConfigJSON, `"n_inner": 12,`, `"n_inner": 12, "tie_word_embeddings": false,`, 1)
	dir = writeCheckpointDir(t, untiedConfig, map[string][]byte{SafetensorsFile: withPrefix(untied)})
	ck, err = LoadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, untied.values, ck.Weights.Output.F32)
	assert.Equal(t, wte.values, ck.Weights.TokenEmbedding.F32)
	assert.False(t, ck.Config.Arch.TiedEmbeddings)

	// Untied by the config, but lm_head is a copy of wte: one table.
	dir = writeCheckpointDir(t, untiedConfig, map[string][]byte{SafetensorsFile: withPrefix(tied)})
	ck, err = LoadDir(dir)
	require.NoError(t, err)
	assert.Nil(t, ck.Weights.Output)
	assert.True(t, ck.Config.Arch.TiedEmbeddings)

	dir = writeCheckpointDir(t, untiedConfig, map[string][]byte{SafetensorsFile: withPrefix()})
	_, err = LoadDir(dir)
	require.ErrorIs(t, err, ErrTensorMismatch)
	assert.Contains(t, err.Error(), `tensor "lm_head.weight" [7 4] is missing, and config.json says tie_word_embeddings false`)
}

func TestLoadShards(t *testing.T) {
	ts := tinyTensors(4)
	for _, prefix := range []string{"", "transformer."} {
		first, second := ts[:10], ts[10:]
		names := func(part []tinyTensor) []string {
			var n []string
			for _, t := range part {
				n = append(n, prefix+t.name)
			}
			return n
		}
		const s1, s2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
		dir := writeCheckpointDir(t, tinyConfigJSON, map[string][]byte{
			s1:                    encodeTensors(first, "F32", prefix),
			s2:                    encodeTensors(second, "BF16", prefix),
			safetensors.IndexFile: writeIndex(map[string][]string{s1: names(first), s2: names(second)}),
		})
		ck, err := LoadDir(dir)
		require.NoError(t, err, prefix)
		assert.Equal(t, tinyWant(ts), ck.Weights, prefix)
	}
}

// mappedFiles lists the files of dir that this process has mapped.
func mappedFiles(t *testing.T, dir string) []string {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("cannot see this process's mappings: %v", err)
	}
	var found []string
	for _, line := range strings.Split(string(maps), "\n") {
		if strings.Contains(line, dir) {
			found = append(found, line)
		}
	}
	return found
}

// A successful load and a failing one both unmap every shard.
func TestLoadReleasesMappings(t *testing.T) {
	ts := tinyTensors(5)
	const s1, s2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
	names := func(part []tinyTensor) []string {
		var n []string
		for _, t := range part {
			n = append(n, t.name)
		}
		return n
	}
	bad := append([]tinyTensor{}, ts[10:]...)
	bad[len(bad)-1] = tinyTensor{"ln_f.bias", []int{5}, make([]float32, 5)}
	for _, c := range []struct {
		name   string
		second []tinyTensor
	}{{"success", ts[10:]}, {"mis-shaped ln_f.bias", bad}} {
		dir := writeCheckpointDir(t, tinyConfigJSON, map[string][]byte{
			s1:                    encodeTensors(ts[:10], "F32", ""),
			s2:                    encodeTensors(c.second, "F32", ""),
			safetensors.IndexFile: writeIndex(map[string][]string{s1: names(ts[:10]), s2: names(c.second)}),
		})
		// The check can see a mapping.
		st, err := safetensors.Open(filepath.Join(dir, s1))
		require.NoError(t, err)
		require.NotEmpty(t, mappedFiles(t, dir))
		require.NoError(t, st.Close())
		require.Empty(t, mappedFiles(t, dir))

		_, err = LoadDir(dir)
		assert.Equal(t, c.name == "success", err == nil, "%s: %v", c.name, err)
		assert.Empty(t, mappedFiles(t, dir), c.name)
	}
}

func TestLoadFixture(t *testing.T) {
	const dir = "/work/shared/fixtures/gpt2-mini"
	if _, err := os.Stat(filepath.Join(dir, SafetensorsFile)); err != nil {
		t.Skipf("gpt2-mini fixture not available (%v); it lives in /work/shared/fixtures", err)
	}
	ck, err := LoadDir(dir)
	require.NoError(t, err)
	c := ck.Config
	assert.Equal(t, Config{ModelType: "gpt2", VocabSize: 50257, NPositions: 128, NEmbd: 96, NLayer: 3, NHead: 3, NInner: 384,
		LayerNormEps: 1e-5, Activation: "gelu_new", BOS: 50256, EOS: 50256, Arch: GPT2Arch}, c)
	assert.Equal(t, 32, c.HeadDim())

	w := ck.Weights
	const v, p, d, ff = 50257, 128, 96, 384
	assert.NoError(t, w.TokenEmbedding.Check(v, d))
	assert.Len(t, w.PositionEmbedding, p*d)
	assert.Len(t, w.FinalNorm.Gain, d)
	assert.Len(t, w.FinalNorm.Bias, d)
	assert.Nil(t, w.Output, "tied")
	require.Len(t, w.Layers, 3)
	for i, l := range w.Layers {
		for _, f := range []struct {
			name       string
			got        *Matrix
			rows, cols int
		}{{"Q", l.Q, d, d}, {"K", l.K, d, d}, {"V", l.V, d, d}, {"O", l.O, d, d}, {"Up", l.Up, ff, d}, {"Down", l.Down, d, ff}} {
			assert.NoError(t, f.got.Check(f.rows, f.cols), "layer %d %s", i, f.name)
		}
		assert.Nil(t, l.Gate, "GPT-2 has no gate")
		for _, f := range []struct {
			name string
			got  []float32
			n    int
		}{
			{"AttnNorm.Gain", l.AttnNorm.Gain, d}, {"AttnNorm.Bias", l.AttnNorm.Bias, d},
			{"QBias", l.QBias, d}, {"KBias", l.KBias, d}, {"VBias", l.VBias, d}, {"OBias", l.OBias, d},
			{"MLPNorm.Gain", l.MLPNorm.Gain, d}, {"MLPNorm.Bias", l.MLPNorm.Bias, d},
			{"UpBias", l.UpBias, ff}, {"DownBias", l.DownBias, d},
		} {
			assert.Len(t, f.got, f.n, "layer %d %s", i, f.name)
		}
	}

	// Compare with the raw file: plain tensors element for element, Conv1D
	// weights as their transpose.
	st, err := safetensors.Open(filepath.Join(dir, SafetensorsFile))
	require.NoError(t, err)
	defer st.Close()
	raw := func(name string) []float32 {
		tn, ok := st.Tensor(name)
		require.True(t, ok, name)
		out := make([]float32, tn.NumElements())
		require.NoError(t, tn.Float32(out))
		return out
	}
	assert.Equal(t, raw("wte.weight"), w.TokenEmbedding.F32)
	assert.Equal(t, raw("wpe.weight"), w.PositionEmbedding)
	assert.Equal(t, raw("ln_f.bias"), w.FinalNorm.Bias)
	for i, l := range w.Layers {
		h := "h." + strconv.Itoa(i) + "."
		cAttn := raw(h + "attn.c_attn.weight") // [in d][out 3d]: q, k, v columns
		for part, m := range []*Matrix{l.Q, l.K, l.V} {
			for o := range d {
				for in := range d {
					if got, want := m.F32[o*d+in], cAttn[in*3*d+part*d+o]; got != want {
						t.Fatalf("layer %d part %d [%d][%d] = %g, c_attn[%d][%d] = %g", i, part, o, in, got, in, part*d+o, want)
					}
				}
			}
		}
		assert.Equal(t, transposed(raw(h+"attn.c_proj.weight"), d, d), l.O.F32, "layer %d", i)
		assert.Equal(t, transposed(raw(h+"mlp.c_fc.weight"), d, ff), l.Up.F32, "layer %d", i)
		assert.Equal(t, transposed(raw(h+"mlp.c_proj.weight"), ff, d), l.Down.F32, "layer %d", i)
		bias := raw(h + "attn.c_attn.bias")
		assert.Equal(t, bias, append(append(append([]float32{}, l.QBias...), l.KBias...), l.VBias...), "layer %d", i)
		assert.Equal(t, raw(h+"ln_2.weight"), l.MLPNorm.Gain, "layer %d", i)
	}

	fsCk, err := LoadFS(os.DirFS(dir))
	require.NoError(t, err)
	assert.Equal(t, ck.Config, fsCk.Config)
	assert.Equal(t, ck.Weights, fsCk.Weights)
}

// BenchmarkLoadDir loads gpt2-mini and, when GOFORMER_BENCH_CHECKPOINT names
// a checkpoint directory (make_random_gpt2.py writes GPT-2-sized ones), that
// checkpoint too. The bytes per second are those of model.safetensors.
func BenchmarkLoadDir(b *testing.B) {
	dirs := map[string]string{"gpt2-mini": "/work/shared/fixtures/gpt2-mini"}
	if env := os.Getenv("GOFORMER_BENCH_CHECKPOINT"); env != "" {
		dirs[filepath.Base(env)] = env
	}
	for name, dir := range dirs {
		b.Run(name, func(b *testing.B) {
			info, err := os.Stat(filepath.Join(dir, SafetensorsFile))
			if err != nil {
				b.Skipf("checkpoint not available: %v", err)
			}
			b.SetBytes(info.Size())
			for b.Loop() {
				if _, err := LoadDir(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
