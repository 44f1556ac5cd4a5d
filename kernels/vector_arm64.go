//go:build arm64 && !purego

package kernels

// useVectorNEON installs the NEON row kernels.
func useVectorNEON(t *impl) {}
