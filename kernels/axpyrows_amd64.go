//go:build amd64 && !purego

package kernels

import "github.com/goformer/goformer/asm"

// useAxpyRowsAVX512 installs the AVX-512 register tiles of AxpyRows, one
// per row count 1..6.
func useAxpyRowsAVX512(t *impl) {
	t.axpyRowsTiles = []axpyRowsTile{
		asm.AxpyRows1AVX512, asm.AxpyRows2AVX512, asm.AxpyRows3AVX512,
		asm.AxpyRows4AVX512, asm.AxpyRows5AVX512, asm.AxpyRows6AVX512,
	}
	t.axpyRowsCols, t.axpyRowsMasked = 64, true
}

// useAxpyRowsAVX2 installs the AVX2 register tiles of AxpyRows, one per
// row count 1..3, 32 columns each. Without them a decode step's attention
// was 13-15% of SmolLM2-135M's int8 decode on two threads: one Axpy call
// per key dimension and per value, each re-reading its row of C.
func useAxpyRowsAVX2(t *impl) {
	t.axpyRowsTiles = []axpyRowsTile{asm.AxpyRows1AVX2, asm.AxpyRows2AVX2, asm.AxpyRows3AVX2}
	t.axpyRowsCols, t.axpyRowsMasked = 32, false
}
