// Package quant holds goformer's int8 weights: a matrix stored as int8 blocks
// of kernels.Q8Block values with one float32 scale each (the layout of GGUF's
// Q8_0, with its fp16 scales widened exactly to float32). One such matrix can
// serve a token embedding both ways: Row dequantizes one row for the input
// lookup, MatVec multiplies the final hidden state by every row for the
// logits.
//
// It builds on package kernels and must never import model, runtime or cmd.
package quant
