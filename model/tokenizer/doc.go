// Package tokenizer is goformer's tokenizer: byte-level BPE, the scheme of
// GPT-2, Llama 3, Qwen2 and most models since, and SentencePiece BPE, that
// of Llama 2, Mistral and Phi-3.
//
// Byte-level BPE cuts text into pieces with a pre-tokenizer chosen by name
// (GPT-2's by default; see PreTokenizers), turns each piece's UTF-8 bytes
// into tokens of the 256-symbol byte alphabet, and applies merges by rank
// until none applies. Every byte string has an encoding, so there is no
// unknown token, and Decode(Encode(s)) == s for any s, invalid UTF-8
// included. SentencePiece BPE writes spaces as "▁", joins adjacent pieces
// best-scored first, and falls back to <0xNN> byte tokens for characters it
// has no token for.
//
// A Tokenizer is built from a token list and a merge list (New, NewBPE), or
// tokens, scores and types (NewSentencePiece), which is what a GGUF file's
// tokenizer metadata carries, or loaded from a Hugging Face checkpoint's
// vocab.json and merges.txt or tokenizer.json (LoadDir, LoadFiles, LoadFS).
//
// This package imports only the standard library; it must never import
// runtime, kernels or cmd.
package tokenizer
