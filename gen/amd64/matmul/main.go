// Command matmul writes goformer's amd64 fp32 matrix kernels: the GEMVs of
// a decode step, the multi-row GEMVs of a batched decode step and the GEMM
// micro-kernels of a prefill, for AVX-512 and for AVX2+FMA. Run it through `go generate ./gen` from the repository root.
package main

import (
	. "github.com/mmcloughlin/avo/build"
)

func main() {
	ConstraintExpr("amd64,!purego")
	gemvAVX512()
	gemvAVX2()
	gemvBatchAVX512()
	gemvBatchAVX2()
	gemmKernelAVX512()
	gemmKernelAVX2()
	packTransposeAVX2()
	panelGemvAVX512()
	panelGemvAVX2()
	Generate()
}
