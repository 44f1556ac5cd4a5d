//go:build amd64 && !purego

package kernels

import (
	"github.com/goformer/goformer/asm"
	"golang.org/x/sys/cpu"
)

// hasF16C: the blocked kernels widen each block's fp16 scales with
// VCVTPH2PS. Every AVX2 core has it; a tier without it keeps the generic
// twins.
var hasF16C = cpu.X86.HasF16C

// useKQuantAVX2 installs the AVX2 kernels of the blocked types that have
// them (gen/amd64/kquant), and of the Q8_K activations; the others keep
// their generic twins. The AVX-512 tier runs them too.
func useKQuantAVX2(t *impl) {
	t.types[Q8_K].quantizeQ8K = asm.Q8KQuantizeAVX2
	if !hasF16C {
		return
	}
	for _, k := range []struct {
		typ    WeightType
		matVec func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int)
		tile   func(c []float32, ldc int, w []byte, aq []int8, as []float32, asum []int16, k, n int)
	}{
		{Q4_1, asm.Q4_1MatVecAVX2, asm.Q4_1MatMul3AVX2},
		{Q5_1, asm.Q5_1MatVecAVX2, asm.Q5_1MatMul3AVX2},
		{IQ4_NL, asm.IQ4_NLMatVecAVX2, asm.IQ4_NLMatMul3AVX2},
		{IQ4_XS, asm.IQ4_XSMatVecAVX2, asm.IQ4_XSMatMul3AVX2},
		{Q2_K, asm.Q2_KMatVecAVX2, asm.Q2_KMatMul3AVX2},
		{Q3_K, asm.Q3_KMatVecAVX2, asm.Q3_KMatMul3AVX2},
		{Q4_K, asm.Q4_KMatVecAVX2, asm.Q4_KMatMul3AVX2},
		{Q5_K, asm.Q5_KMatVecAVX2, asm.Q5_KMatMul3AVX2},
		{Q6_K, asm.Q6_KMatVecAVX2, asm.Q6_KMatMul3AVX2},
	} {
		t.types[k.typ].blockMatVec = k.matVec
		t.types[k.typ].blockTile = blockTile{rows: 3, fn: k.tile}
	}
	// Q4_0 and Q5_0 sum each output as one chain over its blocks, eight
	// outputs in the lanes (gen/amd64/kquant/chain.go).
	t.types[Q4_0].blockMatVec = asm.Q4_0MatVecAVX2
	t.types[Q4_0].chainTile = chainTile{fn: asm.Q4_0MatMul8AVX2, fn16: asm.Q4_0MatMul16AVX2, off: 8}
	t.types[Q5_0].blockMatVec = asm.Q5_0MatVecAVX2
	t.types[Q5_0].chainTile = chainTile{fn: asm.Q5_0MatMul8AVX2, fn16: asm.Q5_0MatMul16AVX2, off: 16}
	// Their interleaved forms (interleave.go): the same chains, the rows'
	// blocks read in a few loads.
	t.types[Q4_0x8] = typeKernels{blockMatVec: asm.Q4_0x8MatVecAVX2, interleaved: true,
		chainTile: chainTile{fn: asm.Q4_0x8MatMul8AVX2, fn16: asm.Q4_0x8MatMul16AVX2, off: 8}}
	t.types[Q5_0x8] = typeKernels{blockMatVec: asm.Q5_0x8MatVecAVX2, interleaved: true,
		chainTile: chainTile{fn: asm.Q5_0x8MatMul8AVX2, fn16: asm.Q5_0x8MatMul16AVX2, off: 16}}
}

// hasBITALG: the AVX-512 tier's Q5_0 kernels pick their fifth bits with
// VPSHUFBITQMB (AVX512_BITALG: Ice Lake, Zen 4 and later); without it
// they stay AVX2's.
var hasBITALG = cpu.X86.HasAVX512BITALG

// useKQuantAVX512 puts into an AVX-512 tier (after useKQuantAVX2) the Q5_0
// kernels that add their fifth bits through mask registers: the same codes
// and integer sums as the AVX2 ones, so the same results bit for bit, in
// fewer instructions (pairFifthsMasked in gen/amd64/kquant).
func useKQuantAVX512(t *impl) {
	if !hasF16C || !hasBITALG {
		return
	}
	t.types[Q5_0].blockMatVec = asm.Q5_0MatVecAVX512
	t.types[Q5_0].chainTile = chainTile{fn: asm.Q5_0MatMul8AVX512, fn16: asm.Q5_0MatMul16AVX512, off: 16}
	t.types[Q5_0x8].blockMatVec = asm.Q5_0x8MatVecAVX512
	t.types[Q5_0x8].chainTile = chainTile{fn: asm.Q5_0x8MatMul8AVX512, fn16: asm.Q5_0x8MatMul16AVX512, off: 16}
}
