//go:build arm64 && !purego

package kernels

// useQ8NEON installs the NEON int8 kernels: q8Quantize, and q8MatVec with
// SDOT where cpu.ARM64.HasASIMDDP, widening multiply-accumulate otherwise.
// Until they exist the NEON tier runs the generic ones.
func useQ8NEON(t *impl) {}
