//go:build arm64 && !purego

package kernels

import "github.com/goformer/goformer/asm"

// useKQuantNEON installs the NEON kernels of the blocked types that have
// them (gen/arm64/kquant), with SDOT where the core has dotprod; the
// others keep their generic twins. The GEMM runs them row by row.
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
			Q4_0: asm.Q4_0MatVecNEONDot, Q5_0: asm.Q5_0MatVecNEONDot, Q4_K: asm.Q4_KMatVecNEONDot, Q6_K: asm.Q6_KMatVecNEONDot,
		}
	}
	return map[WeightType]func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int){
		Q4_0: asm.Q4_0MatVecNEON, Q5_0: asm.Q5_0MatVecNEON, Q4_K: asm.Q4_KMatVecNEON, Q6_K: asm.Q6_KMatVecNEON,
	}
}
