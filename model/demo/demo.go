// Package demo embeds goformer's demo model, so that the CLI can generate
// text with no file on disk and no download.
//
// The model is a small GPT-2 (3 layers, 128 wide, 4 heads, 256 positions)
// with GPT-2's own 50,257-token vocabulary, trained on the Brown corpus by
// train.py in this folder. Its weights are F16. README.md gives the corpus,
// hyperparameters, losses and the command that retrains it; reference.json
// holds float64 PyTorch outputs for tests and is not embedded.
package demo

import "embed"

// FS holds the model in Hugging Face layout at its root: config.json,
// model.safetensors, vocab.json and merges.txt.
//
//go:embed config.json model.safetensors vocab.json merges.txt
var FS embed.FS
