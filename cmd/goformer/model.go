package main

import (
	"flag"

	"github.com/goformer/goformer/model/demo"
	"github.com/goformer/goformer/runtime"
)

// modelFlags are the flags every command that runs a model shares.
type modelFlags struct {
	path       string
	embeddings string
}

func (f *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.path, "m", "", "checkpoint directory (default: the demo model built into goformer)")
	fs.StringVar(&f.embeddings, "embeddings", "int8", "token embeddings in memory: int8 or f32")
}

// load opens the model the flags name.
func (f *modelFlags) load() (*runtime.Model, error) {
	emb, err := runtime.ParseEmbeddings(f.embeddings)
	if err != nil {
		return nil, usageError("--embeddings: %v", err)
	}
	opts := runtime.Options{Embeddings: emb}
	if f.path == "" {
		return runtime.LoadFS(demo.FS, opts)
	}
	return runtime.Load(f.path, opts)
}
