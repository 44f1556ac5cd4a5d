package model

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/goformer/goformer/model/internal/safetensorstest"
	"github.com/stretchr/testify/require"
)

// tinyTensor is one tensor of a generated checkpoint, in stored layout.
type tinyTensor struct {
	name   string // without the transformer. prefix
	shape  []int
	values []float32
}

// tinyTensors makes the tensors of a GPT-2 with tinyConfigJSON's shape (vocab
// 7, 5 positions, d 4, 2 layers, d_ff 12), in file order. Every value is a
// multiple of 1/64 below 2 in magnitude, so F16 and BF16 hold it exactly and
// a conversion must reproduce it bit for bit.
func tinyTensors(seed uint64) []tinyTensor {
	rng := rand.New(rand.NewPCG(seed, 7))
	mk := func(name string, shape ...int) tinyTensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.IntN(255)-127) / 64
		}
		return tinyTensor{name, shape, v}
	}
	ts := []tinyTensor{mk("wte.weight", 7, 4), mk("wpe.weight", 5, 4)}
	for l := range 2 {
		h := "h." + strconv.Itoa(l) + "."
		ts = append(ts,
			mk(h+"ln_1.weight", 4), mk(h+"ln_1.bias", 4),
			mk(h+"attn.c_attn.weight", 4, 12), mk(h+"attn.c_attn.bias", 12),
			mk(h+"attn.c_proj.weight", 4, 4), mk(h+"attn.c_proj.bias", 4),
			mk(h+"ln_2.weight", 4), mk(h+"ln_2.bias", 4),
			mk(h+"mlp.c_fc.weight", 4, 12), mk(h+"mlp.c_fc.bias", 12),
			mk(h+"mlp.c_proj.weight", 12, 4), mk(h+"mlp.c_proj.bias", 4),
		)
	}
	return append(ts, mk("ln_f.weight", 4), mk("ln_f.bias", 4))
}

func findTiny(ts []tinyTensor, name string) tinyTensor {
	for _, t := range ts {
		if t.name == name {
			return t
		}
	}
	panic("no tiny tensor " + name)
}

// encodeTensors writes ts as one safetensors file in dtype, each name
// prefixed with prefix.
func encodeTensors(ts []tinyTensor, dtype, prefix string) []byte {
	enc := map[string]func([]float32) []byte{
		"F32": safetensorstest.F32, "F16": safetensorstest.F16, "BF16": safetensorstest.BF16}[dtype]
	var out []safetensorstest.Tensor
	for _, t := range ts {
		out = append(out, safetensorstest.Tensor{Name: prefix + t.name, DType: dtype, Shape: t.shape, Data: enc(t.values)})
	}
	return safetensorstest.Encode(map[string]string{"format": "pt"}, out...)
}

// writeCheckpointDir writes a checkpoint directory: config, tokenizer files
// and the given weight files.
func writeCheckpointDir(t *testing.T, config string, weights map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		ConfigFile: []byte(config),
		VocabFile:  []byte(`{"a": 0}`),
		MergesFile: []byte("#version: 0.2\n"),
	}
	for name, data := range weights {
		files[name] = data
	}
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	return dir
}

// writeIndex encodes a model.safetensors.index.json for the given shards.
func writeIndex(shards map[string][]string) []byte {
	wm := map[string]string{}
	for shard, names := range shards {
		for _, n := range names {
			wm[n] = shard
		}
	}
	b, err := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": 0}, "weight_map": wm})
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return b
}

// transposed is the reference for a Conv1D weight's run-time layout: the
// stored [in][out] matrix read column by column.
func transposed(stored []float32, in, out int) []float32 {
	t := make([]float32, 0, len(stored))
	for o := range out {
		for i := range in {
			t = append(t, stored[i*out+o])
		}
	}
	return t
}
