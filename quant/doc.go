// Package quant holds goformer's quantized weights. Matrix is int8 blocks
// of kernels.Q8Block values with one float32 scale each (the layout of
// GGUF's Q8_0, with its fp16 scales widened exactly to float32);
// BlockMatrix is a matrix of any other GGUF block type (Q4_0 … Q6_K,
// IQ4_NL, IQ4_XS) kept as the file stores it, and BlockFormats expand those
// blocks bit for bit as ggml does. Either can serve a token embedding both
// ways: Row dequantizes one row for the input lookup, MatVec multiplies the
// final hidden state by every row for the logits.
//
// It builds on package kernels and must never import model, runtime or cmd.
package quant
