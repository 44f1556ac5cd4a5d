//go:build amd64 && !purego

package kernels

import (
	"github.com/goformer/goformer/asm"
	"golang.org/x/sys/cpu"
)

// hasVNNI: the AVX-512 tier exists on cores without VNNI (Skylake-X), which
// get the AVX2 int8 kernel inside it.
var hasVNNI = cpu.X86.HasAVX512VNNI

// useQ8AVX512 installs the int8 kernels of the AVX-512 tier.
func useQ8AVX512(t *impl) {
	q := &t.types[Q8_0]
	// The int16-activation GEMV streams the same bytes as the int8 one and
	// is memory-bound at AVX2 width, so AVX-512 runs the AVX2 kernel.
	*q = typeKernels{quantize: asm.Q8QuantizeAVX2, matVec: asm.Q8MatVecAVX2, tile: q8Tile{rows: 3, fn: asm.Q8MatMul3AVX2}, matVec16: asm.Q8MatVec16AVX2}
	if hasVNNI {
		q.matVec = asm.Q8MatVecVNNI
		q.tile = q8Tile{rows: 3, fn: asm.Q8MatMul3VNNI}
		t.q8PanelTiles = [...]q8PanelTile{nil, asm.Q8PanelMatMul1VNNI, asm.Q8PanelMatMul2VNNI, asm.Q8PanelMatMul3VNNI, asm.Q8PanelMatMul4VNNI}
	}
}

// useQ8AVX2 installs the int8 kernels of the AVX2 tier.
func useQ8AVX2(t *impl) {
	t.types[Q8_0] = typeKernels{quantize: asm.Q8QuantizeAVX2, matVec: asm.Q8MatVecAVX2, tile: q8Tile{rows: 3, fn: asm.Q8MatMul3AVX2}, matVec16: asm.Q8MatVec16AVX2}
}
