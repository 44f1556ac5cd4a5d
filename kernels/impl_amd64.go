//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// The amd64 tiers. AVX-512 needs F for the arithmetic, BW and VL for the
// byte/word forms and masked tails, BMI2 for the BZHI that builds tail masks;
// AVX2 needs FMA alongside.
var (
	hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasBMI2
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// archTiers lists the amd64 SIMD tiers this CPU can run, best first. Each
// starts from the generic table; the files per kernel family
// (matmul_amd64.go, vector_amd64.go) put in their assembly.
func archTiers() []*impl {
	var ts []*impl
	avx512 := func(name string) *impl {
		t := withGeneric(name)
		useMatMulAVX512(t)
		useVectorAVX512(t)
		useQ8AVX512(t)
		useKQuantAVX2(t)
		useKQuantAVX512(t)
		useAxpyRowsAVX512(t)
		return t
	}
	if hasAMX {
		// The avx512 tier with the int8 products on AMX tiles.
		t := avx512("amx")
		useQ8AMX(t)
		ts = append(ts, t)
	}
	if hasAVX512 {
		ts = append(ts, avx512("avx512"))
	}
	if hasAVX2 {
		t := withGeneric("avx2")
		useMatMulAVX2(t)
		useVectorAVX2(t)
		useQ8AVX2(t)
		useAxpyRowsAVX2(t)
		useKQuantAVX2(t)
		ts = append(ts, t)
	}
	return ts
}
