//go:build amd64 && !purego

package kernels

import "github.com/goformer/goformer/asm"

// useVectorAVX512 installs the AVX-512 row kernels: softmax and exp,
// LayerNorm, RMSNorm, GELU, SwiGLU, add, scale, dot, axpy and RoPE.
func useVectorAVX512(t *impl) {
	t.softmax = asm.SoftmaxAVX512
	t.exp = asm.ExpAVX512
	t.layerNorm = asm.LayerNormAVX512
	t.rmsNorm = asm.RMSNormAVX512
	t.gelu = asm.GELUAVX512
	t.swiglu = asm.SwiGLUAVX512
	t.add = asm.AddAVX512
	t.scale = asm.ScaleAVX512
	t.dot = asm.DotAVX512
	t.axpy = asm.AxpyAVX512
	t.ropeHalf = asm.RoPEHalfAVX512
	t.ropeInterleaved = asm.RoPEInterleavedAVX512
}

// useVectorAVX2 installs the AVX2+FMA row kernels.
func useVectorAVX2(t *impl) {
	t.softmax = asm.SoftmaxAVX2
	t.exp = asm.ExpAVX2
	t.layerNorm = asm.LayerNormAVX2
	t.rmsNorm = asm.RMSNormAVX2
	t.gelu = asm.GELUAVX2
	t.swiglu = asm.SwiGLUAVX2
	t.add = asm.AddAVX2
	t.scale = asm.ScaleAVX2
	t.dot = asm.DotAVX2
	t.axpy = asm.AxpyAVX2
	t.ropeHalf = asm.RoPEHalfAVX2
	t.ropeInterleaved = asm.RoPEInterleavedAVX2
}
