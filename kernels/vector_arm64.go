//go:build arm64 && !purego

package kernels

import "github.com/goformer/goformer/asm"

// useVectorNEON installs the NEON row kernels. The public functions have
// checked lengths and ruled out empty inputs, which the assembly assumes.
func useVectorNEON(t *impl) {
	t.softmax = asm.SoftmaxNEON
	t.exp = asm.ExpNEON
	t.layerNorm = asm.LayerNormNEON
	t.rmsNorm = asm.RMSNormNEON
	t.gelu = asm.GELUNEON
	t.swiglu = asm.SwiGLUNEON
	t.add = asm.AddNEON
	t.scale = asm.ScaleNEON
	t.dot = asm.DotNEON
	t.axpy = asm.AxpyNEON
	t.ropeHalf = asm.RoPEHalfNEON
	t.ropeInterleaved = asm.RoPEInterleavedNEON
}
