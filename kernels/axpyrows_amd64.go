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
}
