// Command vector writes the amd64 row kernels of package kernels (softmax
// and exp, LayerNorm, RMSNorm, GELU, SwiGLU, add, scale, dot, axpy, RoPE) for two tiers,
// AVX-512 and AVX2+FMA, as one Go assembly file and its declarations
// (asm/vector_amd64.s, asm/vector_amd64_stub.go); gen/gen.go runs it.
//
// These kernels are assembly because they run once per row of every layer
// and are memory- or exp-bound: Go's compiler does not vectorize them, and
// the pure-Go twins in kernels/generic.go run 10-100x slower
// (bench/RESULTS.md). Each tier is
// written once against the tier type (tier.go), which hides the vector
// width and the way tails are masked.
package main

import (
	. "github.com/mmcloughlin/avo/build"
)

func main() {
	ConstraintExpr("amd64,!purego")
	declareConstants()
	for _, t := range []*tier{avx512, avx2} {
		genExp(t)
		genSoftmax(t)
		genLayerNorm(t)
		genRMSNorm(t)
		genGELU(t)
		genSwiGLU(t)
		genAdd(t)
		genScale(t)
		genDot(t)
		genAxpy(t)
		genRoPEHalf(t)
		genRoPEInterleaved(t)
	}
	Generate()
}
