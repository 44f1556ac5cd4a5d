//go:build amd64 && !purego

package kernels

// archTiers lists the amd64 SIMD tiers this CPU can run, best first.
func archTiers() []*impl { return nil }
