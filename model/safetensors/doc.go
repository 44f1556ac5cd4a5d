// Package safetensors reads the safetensors checkpoint format: an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape
// and byte range, then the tensors' bytes.
//
// A File is a view over one []byte, so the same code reads a memory-mapped
// file and bytes embedded in the binary. Every offset and size in the header
// is validated before any tensor is handed out: a corrupt or truncated file
// is an error wrapping ErrInvalid, never a panic.
//
// safetensors imports only the standard library and golang.org/x/sys; it never
// imports other goformer packages.
package safetensors
