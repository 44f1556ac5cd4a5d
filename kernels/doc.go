// Package kernels is goformer's numeric core: fp32 matrix products (MatMul
// over row-major weights, and Panels, weights packed once at load whose
// every output is one FMA chain on every tier, panels.go), int8
// block-quantized matrix-vector and matrix products (q8.go, q8matmul.go,
// and Q8Panels, int8 weights packed at load for the VNNI tiles, q8panels.go),
// the products of GGUF's other block types over the file's blocks
// (quant.go, blocks_generic.go, a table entry per type in types.go),
// softmax, normalization, the GELU and SwiGLU activations and the small vector forms attention needs.
//
// Large products are split across a persistent pool of worker goroutines
// (pool.go, parallel.go), Threads() of them counting the caller, by default
// one per physical core (threads.go); Parallel lends the pool to callers
// such as attention. A split never changes a result.
//
// Every kernel has three parts, each one hop from the last:
//   - here, a public function that checks shapes and states its meaning as a Go loop;
//   - a pure-Go twin (generic.go) that is the definition of what the kernel computes;
//   - SIMD implementations generated into package asm by the programs in gen/,
//     one table of functions per instruction-set tier (AVX-512, AVX2+FMA, NEON).
//
// The tier is chosen once, at start-up, from golang.org/x/sys/cpu; the
// environment variable GOFORMER_ISA=generic|avx2|avx512|neon forces one, and
// the build tag purego compiles no assembly at all.
//
// Kernels are building blocks for goformer's own code: a length mismatch is a
// programming error and panics with a message naming the kernel and the
// lengths. No kernel reads or writes outside the slices it is given.
//
// This package imports only asm and the standard library; it must never
// import quant, model or runtime.
package kernels
