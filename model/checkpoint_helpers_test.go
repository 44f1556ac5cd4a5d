package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/goformer/goformer/model/modeltest"
	"github.com/stretchr/testify/require"
)

// tinyTensor is one tensor of a generated checkpoint, in stored layout.
type tinyTensor struct {
	name   string // without the transformer. prefix
	shape  []int
	values []float32
}

// tinyTensors is modeltest.TinyTensors: a GPT-2 with tinyConfigJSON's
// shape, every value exact in F16 and BF16.
func tinyTensors(seed uint64) []tinyTensor {
	var ts []tinyTensor
	for _, t := range modeltest.TinyTensors(seed) {
		ts = append(ts, tinyTensor{t.Name, t.Shape, t.Values})
	}
	return ts
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
// prefixed with prefix (modeltest.EncodeTensors).
func encodeTensors(ts []tinyTensor, dtype, prefix string) []byte {
	out := make([]modeltest.Tensor, len(ts))
	for i, t := range ts {
		out[i] = modeltest.Tensor{Name: t.name, Shape: t.shape, Values: t.values}
	}
	return modeltest.EncodeTensors(out, dtype, prefix)
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
var writeIndex = modeltest.Index

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
