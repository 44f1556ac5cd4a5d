//go:build arm64 && !purego

package kernels

import (
	"github.com/goformer/goformer/asm"
	"golang.org/x/sys/cpu"
)

// hasDotProd: SDOT is optional in ARMv8.2 and absent from ARMv8.0 cores such
// as the Cortex-A53, which get the widening multiply-accumulate kernel.
var hasDotProd = cpu.ARM64.HasASIMDDP

// useQ8NEON installs the NEON int8 kernels. The int16-activation GEMV
// (Q8MatVec16) widens with ARMv8.0 multiplies on every core: SDOT has no
// int8×int16 form.
func useQ8NEON(t *impl) {
	t.types[Q8_0] = typeKernels{quantize: asm.Q8QuantizeNEON, matVec: q8MatVecNEON(hasDotProd), matVec16: asm.Q8MatVec16NEON}
}

// q8MatVecNEON returns the NEON int8 matrix-vector kernel for a core with
// or without the dotprod extension.
func q8MatVecNEON(dotProd bool) func(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, n int) {
	if dotProd {
		return asm.Q8MatVecNEONDot
	}
	return asm.Q8MatVecNEON
}
