// Package gguf reads GGUF files, the format llama.cpp keeps models in: a
// header, typed metadata (key/value pairs), tensor descriptions, and the
// tensors' bytes, which Open memory-maps.
//
// Parse validates the whole container before returning: every count and
// length is bounded by the bytes that remain before anything is allocated,
// and every tensor lies inside the file at the file's alignment. Errors wrap
// ErrInvalid and name the metadata key or tensor at fault. What the tensors
// mean (architectures, names, types a model can use) is model's business.
//
// gguf imports neither runtime nor the rest of model.
package gguf
