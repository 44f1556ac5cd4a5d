//go:build arm64 && !purego

package kernels

import "github.com/goformer/goformer/asm"

// useKQuantNEON installs the NEON kernels of the blocked types
// (gen/arm64/kquant, one for every type), with SDOT where the core has
// dotprod. The GEMM runs them row by row.
func useKQuantNEON(t *impl) {
	for typ, k := range kquantNEON(hasDotProd) {
		t.types[typ].blockMatVec = k
	}
}

// kquantNEON returns the NEON GEMVs of the blocked types for a core with
// or without the dotprod extension.
func kquantNEON(dotProd bool) map[WeightType]func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int) {
	if dotProd {
		return map[WeightType]func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int){
			Q4_0: asm.Q4_0MatVecNEONDot, Q4_1: asm.Q4_1MatVecNEONDot, Q5_0: asm.Q5_0MatVecNEONDot, Q5_1: asm.Q5_1MatVecNEONDot,
			Q2_K: asm.Q2_KMatVecNEONDot, Q3_K: asm.Q3_KMatVecNEONDot, Q4_K: asm.Q4_KMatVecNEONDot, Q5_K: asm.Q5_KMatVecNEONDot,
			Q6_K: asm.Q6_KMatVecNEONDot, IQ4_NL: asm.IQ4_NLMatVecNEONDot, IQ4_XS: asm.IQ4_XSMatVecNEONDot,
		}
	}
	return map[WeightType]func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int){
		Q4_0: asm.Q4_0MatVecNEON, Q4_1: asm.Q4_1MatVecNEON, Q5_0: asm.Q5_0MatVecNEON, Q5_1: asm.Q5_1MatVecNEON,
		Q2_K: asm.Q2_KMatVecNEON, Q3_K: asm.Q3_KMatVecNEON, Q4_K: asm.Q4_KMatVecNEON, Q5_K: asm.Q5_KMatVecNEON,
		Q6_K: asm.Q6_KMatVecNEON, IQ4_NL: asm.IQ4_NLMatVecNEON, IQ4_XS: asm.IQ4_XSMatVecNEON,
	}
}
