package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model/demo"
	"github.com/goformer/goformer/model/tokenizer"
	"github.com/goformer/goformer/runtime"
)

// modelFlags are the flags every command that runs a model shares.
type modelFlags struct {
	path        string
	embeddings  string
	weights     string
	activations string
	threads     int
	stderr      io.Writer // where load prints the tokenizer's warning
}

func (f *modelFlags) register(fs *flag.FlagSet, stderr io.Writer) {
	f.stderr = stderr
	fs.StringVar(&f.path, "m", "", "checkpoint directory or GGUF file (default: the demo model built into goformer)")
	fs.StringVar(&f.embeddings, "embeddings", "int8", "token embeddings in memory: int8 or f32")
	fs.StringVar(&f.weights, "weights", "f32", "linear layers in memory: f32 (as the checkpoint has them) or int8 (quantized at load)")
	fs.StringVar(&f.activations, "activations", "int8", "quantized layers' input: int8 (as llama.cpp) or int8x2 (its rounding error multiplied too: ~250x nearer exact, half the speed)")
	fs.IntVar(&f.threads, "threads", kernels.DefaultThreads(), fmt.Sprintf("run the kernels and attention on `N` threads (default: the physical cores, %d here)", kernels.DefaultThreads()))
	alias(fs, "t", "threads")
}

// load opens the model the flags name. It returns ctx's error as soon as
// ctx is done (Ctrl-C), even while a read blocks; a model that arrives
// after that is closed.
func (f *modelFlags) load(ctx context.Context) (*runtime.Model, error) {
	emb, err := runtime.ParseEmbeddings(f.embeddings)
	if err != nil {
		return nil, usageError("--embeddings: %v", err)
	}
	w, err := runtime.ParseWeights(f.weights)
	if err != nil {
		return nil, usageError("--weights: %v", err)
	}
	act, err := runtime.ParseActivations(f.activations)
	if err != nil {
		return nil, usageError("--activations: %v", err)
	}
	if f.threads < 1 {
		return nil, usageError("--threads %d: want at least 1", f.threads)
	}
	// The kernels' thread count is the process's, not the model's.
	kernels.SetThreads(f.threads)
	opts := runtime.Options{Embeddings: emb, Weights: w, Activations: act}
	m, err := interruptible(ctx, func() (*runtime.Model, error) {
		if f.path == "" {
			return runtime.LoadFS(demo.FS, opts)
		}
		return loadPath(f.path, opts)
	}, func(m *runtime.Model) { m.Close() })
	if err == nil && f.stderr != nil {
		for _, w := range m.Warnings() {
			fmt.Fprintf(f.stderr, "goformer: warning: %s\n", w)
		}
	}
	return m, err
}

// warnTokenizer prints the tokenizer's warning, if any, as one line.
func warnTokenizer(stderr io.Writer, tok *tokenizer.Tokenizer) {
	if w := tok.Warning(); w != "" && stderr != nil {
		fmt.Fprintf(stderr, "goformer: warning: %s\n", w)
	}
}

// loadPath loads the model at a path: a variable so that tests can make a
// load that blocks (the loaders never wait on a FIFO).
var loadPath = runtime.Load

// threadCount is the number of threads the kernels run on, once load has
// set it from --threads.
func (f *modelFlags) threadCount() int { return kernels.Threads() }

// name is the model's path, or "demo".
func (f *modelFlags) name() string {
	if f.path == "" {
		return "demo"
	}
	return f.path
}
