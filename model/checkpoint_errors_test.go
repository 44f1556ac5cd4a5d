package model

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/goformer/goformer/model/internal/safetensorstest"
	"github.com/goformer/goformer/model/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func without(ts []tinyTensor, name string) []tinyTensor {
	return slices.DeleteFunc(slices.Clone(ts), func(t tinyTensor) bool { return t.name == name })
}

func replaced(ts []tinyTensor, t tinyTensor) []tinyTensor {
	out := slices.Clone(ts)
	for i := range out {
		if out[i].name == t.name {
			out[i] = t
		}
	}
	return out
}

func TestLoadDirRejectsMissingFiles(t *testing.T) {
	st := encodeTensors(tinyTensors(6), "F32", "")
	absent := filepath.Join(t.TempDir(), "absent")
	_, err := LoadDir(absent)
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), absent)

	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o644))
	_, err = LoadDir(notDir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), notDir+": not a directory")

	for _, name := range []string{ConfigFile, VocabFile, MergesFile, SafetensorsFile} {
		dir := writeCheckpointDir(t, tinyConfigJSON, map[string][]byte{SafetensorsFile: st})
		require.NoError(t, os.Remove(filepath.Join(dir, name)))
		_, err := LoadDir(dir)
		require.ErrorIs(t, err, fs.ErrNotExist, name)
		assert.Contains(t, err.Error(), filepath.Join(dir, name), name)
		if name == SafetensorsFile {
			assert.Contains(t, err.Error(), "no model.safetensors or model.safetensors.index.json")
		}
	}

	_, err = LoadFS(os.DirFS(absent))
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestLoadDirRejectsBadConfig(t *testing.T) {
	st := encodeTensors(tinyTensors(6), "F32", "")
	for _, c := range []struct{ name, config, want string }{
		{"malformed", `{"n_embd": 4`, "unexpected end of JSON input"},
		{"indivisible", `{"vocab_size": 7, "n_positions": 5, "n_embd": 4, "n_layer": 2, "n_head": 3}`, "n_embd 4 is not divisible by n_head 3"},
		{"activation", `{"vocab_size": 7, "n_positions": 5, "n_embd": 4, "n_layer": 2, "n_head": 2, "activation_function": "silu"}`, `activation_function "silu" is not implemented`},
		{"missing key", `{"vocab_size": 7, "n_positions": 5, "n_embd": 4, "n_head": 2}`, "n_layer is missing"},
	} {
		dir := writeCheckpointDir(t, c.config, map[string][]byte{SafetensorsFile: st})
		_, err := LoadDir(dir)
		require.ErrorIs(t, err, ErrInvalidConfig, c.name)
		assert.Contains(t, err.Error(), filepath.Join(dir, ConfigFile)+": invalid model config: "+c.want, c.name)
	}
}

func TestLoadDirRejectsCorruptSafetensors(t *testing.T) {
	st := encodeTensors(tinyTensors(6), "F32", "")
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", st[:len(st)-3], `tensor "ln_f.bias": data_offsets [1872, 1888] run past the 1885-byte data area`},
		{"truncated in the header", st[:100], "header length"},
		{"empty", nil, "0 bytes, too short"},
		{"header not JSON", safetensorstest.Raw([]byte("{not json}"), nil), "header JSON"},
		{"overlap", safetensorstest.Raw([]byte(`{"wte.weight": {"dtype": "F32", "shape": [7, 4], "data_offsets": [0, 112]},
			"wpe.weight": {"dtype": "F32", "shape": [5, 4], "data_offsets": [100, 180]}}`), make([]byte, 180)), "overlap"},
	} {
		dir := writeCheckpointDir(t, tinyConfigJSON, map[string][]byte{SafetensorsFile: c.data})
		_, err := LoadDir(dir)
		require.ErrorIs(t, err, safetensors.ErrInvalid, c.name)
		assert.Contains(t, err.Error(), filepath.Join(dir, SafetensorsFile)+": invalid safetensors data: ", c.name)
		assert.Contains(t, err.Error(), c.want, c.name)

		_, err = LoadFS(os.DirFS(dir))
		require.ErrorIs(t, err, safetensors.ErrInvalid, c.name)
		assert.Contains(t, err.Error(), SafetensorsFile, c.name)
	}
}

func TestLoadRejectsMismatchedTensors(t *testing.T) {
	ts := tinyTensors(7)
	for _, c := range []struct {
		name   string
		data   []byte
		want   string
		inFile bool // the error names model.safetensors
	}{
		{"mis-shaped c_attn", encodeTensors(replaced(ts, tinyTensor{"h.0.attn.c_attn.weight", []int{4, 13}, make([]float32, 52)}), "F32", ""),
			`tensor "h.0.attn.c_attn.weight" has shape [4 13], expected [4 12]`, true},
		{"c_attn stored [out, in]", encodeTensors(replaced(ts, tinyTensor{"h.1.attn.c_attn.weight", []int{12, 4}, make([]float32, 48)}), "F32", "transformer."),
			`tensor "transformer.h.1.attn.c_attn.weight" has shape [12 4], expected [4 12]`, true},
		{"wpe too short", encodeTensors(replaced(ts, tinyTensor{"wpe.weight", []int{4, 4}, make([]float32, 16)}), "F16", ""),
			`tensor "wpe.weight" has shape [4 4], expected [5 4]`, true},
		{"missing", encodeTensors(without(ts, "h.1.ln_2.bias"), "F32", ""),
			`tensor "h.1.ln_2.bias" [4] is missing`, true},
		{"missing wte", encodeTensors(without(ts, "wte.weight"), "F32", ""),
			`tensor "wte.weight" [7 4] is missing`, true},
		{"unknown", encodeTensors(append(slices.Clone(ts), tinyTensor{"h.0.attn.rotary", []int{2}, []float32{1, 2}}), "F32", ""),
			`unknown tensor "h.0.attn.rotary" [2]`, true},
		{"unknown head", encodeTensors(append(slices.Clone(ts), tinyTensor{"score.weight", []int{2, 4}, make([]float32, 8)}), "F32", ""),
			`unknown tensor "score.weight" [2 4]`, true},
		{"more layers than the config", encodeTensors(append(slices.Clone(ts), tinyTensor{"h.2.ln_1.weight", []int{4}, make([]float32, 4)}), "F32", ""),
			`unknown tensor "h.2.ln_1.weight" [4]: config.json has n_layer 2`, true},
		{"mask buffer past the last layer", encodeTensors(append(slices.Clone(ts), tinyTensor{"h.2.attn.bias", []int{1}, []float32{1}}), "F32", ""),
			`unknown tensor "h.2.attn.bias" [1]: config.json has n_layer 2`, true},
		{"mis-shaped lm_head", encodeTensors(append(slices.Clone(ts), tinyTensor{"lm_head.weight", []int{4, 7}, make([]float32, 28)}), "F32", ""),
			`tensor "lm_head.weight" has shape [4 7], expected [7 4]`, true},
		{"integer weights", safetensorstest.Encode(nil, append(tensorsOf(without(ts, "ln_f.bias")),
			safetensorstest.Tensor{Name: "ln_f.bias", DType: "I32", Shape: []int{4}, Data: make([]byte, 16)})...),
			`tensor "ln_f.bias" [4] has dtype I32; goformer reads F32, F16 and BF16`, true},
		{"with and without prefix", safetensorstest.Encode(nil, append(tensorsOf(ts),
			safetensorstest.Tensor{Name: "transformer.ln_f.bias", DType: "F32", Shape: []int{4}, Data: make([]byte, 16)})...),
			`tensor "ln_f.bias" appears twice: as "ln_f.bias" in`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeCheckpointDir(t, tinyConfigJSON, map[string][]byte{SafetensorsFile: c.data})
			_, err := LoadDir(dir)
			require.ErrorIs(t, err, ErrTensorMismatch)
			assert.Contains(t, err.Error(), c.want)
			if c.inFile {
				assert.Contains(t, err.Error(), filepath.Join(dir, SafetensorsFile)+": checkpoint does not match its config: ")
			}
		})
	}
}

func tensorsOf(ts []tinyTensor) []safetensorstest.Tensor {
	var out []safetensorstest.Tensor
	for _, t := range ts {
		out = append(out, safetensorstest.Tensor{Name: t.name, DType: "F32", Shape: t.shape, Data: safetensorstest.F32(t.values)})
	}
	return out
}

func TestLoadRejectsBadShards(t *testing.T) {
	ts := tinyTensors(8)
	names := func(part []tinyTensor) []string {
		var n []string
		for _, t := range part {
			n = append(n, t.name)
		}
		return n
	}
	const s1, s2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
	first, second := ts[:10], ts[10:]
	shard1, shard2 := encodeTensors(first, "F32", ""), encodeTensors(second, "F32", "")
	for _, c := range []struct {
		name  string
		files map[string][]byte
		is    error
		want  string
	}{
		{"missing shard", map[string][]byte{s1: shard1,
			safetensors.IndexFile: writeIndex(map[string][]string{s1: names(first), s2: names(second)})},
			fs.ErrNotExist, s2},
		{"missing shard a present one's tensor is placed in", map[string][]byte{s1: encodeTensors(ts, "F32", ""),
			safetensors.IndexFile: writeIndex(map[string][]string{s1: names(first), s2: names(second)})},
			fs.ErrNotExist, safetensors.IndexFile + ": stat "},
		{"truncated shard", map[string][]byte{s1: shard1, s2: shard2[:len(shard2)-1],
			safetensors.IndexFile: writeIndex(map[string][]string{s1: names(first), s2: names(second)})},
			safetensors.ErrInvalid, s2 + ": invalid safetensors data"},
		{"tensor the index does not list", map[string][]byte{s1: shard1, s2: shard2,
			safetensors.IndexFile: writeIndex(map[string][]string{s1: names(first), s2: names(second[1:])})},
			ErrTensorMismatch, `holds tensor "` + second[0].name + `", which model.safetensors.index.json does not list`},
		{"tensor in the wrong shard", map[string][]byte{s1: shard1, s2: shard2,
			safetensors.IndexFile: writeIndex(map[string][]string{s1: append(names(first), second[0].name), s2: names(second[1:])})},
			ErrTensorMismatch, `holds tensor "` + second[0].name + `", which model.safetensors.index.json places in ` + s1},
		{"listed tensor absent", map[string][]byte{s1: shard1, s2: shard2,
			safetensors.IndexFile: writeIndex(map[string][]string{s1: append(names(first), "h.9.ln_1.weight"), s2: names(second)})},
			ErrTensorMismatch, `places tensor "h.9.ln_1.weight" in`},
		{"shard outside the directory", map[string][]byte{s1: shard1, s2: shard2,
			safetensors.IndexFile: writeIndex(map[string][]string{"../" + s1: names(first), s2: names(second)})},
			safetensors.ErrInvalid, `"../` + s1 + `", which is not a file name`},
		{"malformed index", map[string][]byte{s1: shard1, safetensors.IndexFile: []byte(`{"weight_map": `)},
			safetensors.ErrInvalid, "index JSON"},
		{"missing tensor across shards", map[string][]byte{s1: shard1, s2: encodeTensors(second[1:], "F32", ""),
			safetensors.IndexFile: writeIndex(map[string][]string{s1: names(first), s2: names(second[1:])})},
			ErrTensorMismatch, `model.safetensors.index.json: checkpoint does not match its config: tensor "` + second[0].name + `"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeCheckpointDir(t, tinyConfigJSON, c.files)
			_, err := LoadDir(dir)
			require.ErrorIs(t, err, c.is)
			assert.Contains(t, err.Error(), c.want)
			assert.Empty(t, mappedFiles(t, dir), "a failed load unmaps every shard")
		})
	}
}
