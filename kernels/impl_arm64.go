//go:build arm64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// hasNEON: Advanced SIMD is part of every ARMv8-A core, but ask anyway.
var hasNEON = cpu.ARM64.HasASIMD

// archTiers lists the arm64 SIMD tiers this CPU can run.
func archTiers() []*impl {
	if !hasNEON {
		return nil
	}
	t := withGeneric("neon")
	useMatMulNEON(t)
	useVectorNEON(t)
	useQ8NEON(t)
	useKQuantNEON(t)
	return []*impl{t}
}
