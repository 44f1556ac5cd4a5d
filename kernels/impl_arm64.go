//go:build arm64 && !purego

package kernels

// archTiers lists the arm64 SIMD tiers this CPU can run, best first.
func archTiers() []*impl { return nil }
