// Package model describes transformer checkpoints: their configuration, the
// architecture choices that tell one family from another, and the weights in
// goformer's run-time layout, named for what each tensor does in every
// family (Weights, Layer, Matrix). LoadDir and LoadFS read a Hugging Face
// checkpoint of GPT-2 or the Llama family (Llama, Mistral, Qwen2), LoadGGUF
// a llama.cpp GGUF file of architecture gpt2, llama or qwen2, and Load
// either; file formats (safetensors, gguf) and the tokenizer live in
// subpackages.
//
// model imports kernels and quant, never runtime or cmd.
package model
