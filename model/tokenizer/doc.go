// Package tokenizer is goformer's byte-level BPE tokenizer, the scheme of
// GPT-2: text is cut into pieces by GPT-2's pre-tokenizer, each piece's UTF-8
// bytes become tokens of the 256-symbol byte alphabet, and merges are applied
// by rank until none applies. Every byte string has an encoding, so there is
// no unknown token, and Decode(Encode(s)) == s for any s, invalid UTF-8
// included.
//
// A Tokenizer is built from a token list and a merge list (New), which is all
// a GGUF file's tokenizer metadata carries too, or loaded from a Hugging Face
// checkpoint's vocab.json and merges.txt (LoadDir, LoadFiles, LoadFS).
//
// This package imports only the standard library; it must never import
// runtime, kernels or cmd.
package tokenizer
