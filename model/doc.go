// Package model describes transformer checkpoints: their configuration, the
// architecture choices that tell one family from another, and the weights in
// goformer's run-time layout. LoadDir and LoadFS read a Hugging Face GPT-2
// checkpoint, LoadGGUF a llama.cpp GGUF file of architecture gpt2, and Load
// either; file formats (safetensors, gguf) and the tokenizer live in
// subpackages.
//
// model imports kernels and quant, never runtime or cmd.
package model
