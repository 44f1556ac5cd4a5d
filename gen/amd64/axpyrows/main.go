// Command axpyrows writes the AVX-512 and AVX2 tiles of kernels.AxpyRows, the matrix
// product of blocked attention (scores Q·Kᵀ against transposed keys, and
// the weighted sum P·V), into asm/axpyrows_amd64.s; gen/gen.go runs it.
//
// Assembly because the product is a register tile: up to six rows of C by
// 64 columns held in 24 ZMM accumulators while k rows of B stream past, so
// each B vector loaded serves six rows (AVX2: three rows by 32 columns in
// 12 YMM). Each element is still a chain of
// fused multiply-adds in order of p starting from its value in C, exactly
// what k calls of Axpy compute, so the tile is bit for bit the definition.
// The other tiers run that definition through their own Axpy.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// tileRows is the most rows of C per tile: 6·4 accumulators, four B
// vectors and one broadcast take 29 of the 32 ZMM registers.
const tileRows = 6

func main() {
	ConstraintExpr("amd64,!purego")
	for rows := 1; rows <= tileRows; rows++ {
		axpyRowsTile(rows)
	}
	for rows := 1; rows <= avx2TileRows; rows++ {
		axpyRowsTileAVX2(rows)
	}
	Generate()
}

// rowAddr addresses row i (< 6) of rows stride bytes apart: base0 holds
// row 0, base3 row 3 (x86 index scales stop at 8 and skip 3, 5).
func rowAddr(base0, base3, stride Register, i int) Mem {
	switch i {
	case 0:
		return Mem{Base: base0}
	case 1:
		return Mem{Base: base0, Index: stride, Scale: 1}
	case 2:
		return Mem{Base: base0, Index: stride, Scale: 2}
	case 3:
		return Mem{Base: base3}
	case 4:
		return Mem{Base: base3, Index: stride, Scale: 1}
	case 5:
		return Mem{Base: base3, Index: stride, Scale: 2}
	}
	panic("rowAddr: row out of range")
}

func axpyRowsTile(rows int) {
	name := fmt.Sprintf("AxpyRows%dAVX512", rows)
	TEXT(name, NOSPLIT, "func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, k int, mask uint64)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s adds A·B to %d rows of C and up to 64 columns (kernels.AxpyRows):", name, rows),
		"",
		fmt.Sprintf("	for i := 0; i < %d; i++ {", rows),
		"		for p := 0; p < k; p++ {",
		"			for j := 0; j < 64; j++ {",
		"				if mask&(1<<j) != 0 {",
		"					c[i*ldc+j] = fma(a[i*lda+p], b[p*ldb+j], c[i*ldc+j])",
		"				}",
		"			}",
		"		}",
		"	}",
		"",
		"one rounding per multiply-add, in order of p. mask selects the columns;",
		"its set bits are a prefix. Strides are in elements; k ≥ 1. It needs AVX512F.",
	)
	c0 := Load(Param("c").Base(), GP64())
	a0 := Load(Param("a").Base(), GP64())
	b := Load(Param("b").Base(), GP64())
	ldc := Load(Param("ldc"), GP64())
	lda := Load(Param("lda"), GP64())
	ldb := Load(Param("ldb"), GP64())
	k := Load(Param("k"), GP64())
	mask := GP64()
	Load(Param("mask"), mask)
	SHLQ(U8(2), ldc)
	SHLQ(U8(2), lda)
	SHLQ(U8(2), ldb)
	c3, a3 := GP64(), GP64()
	LEAQ(Mem{Base: c0, Index: ldc, Scale: 2}, c3)
	ADDQ(ldc, c3)
	LEAQ(Mem{Base: a0, Index: lda, Scale: 2}, a3)
	ADDQ(lda, a3)

	// One mask per 16-column vector, from the 16 bits of mask for it.
	masks := make([]Register, 4)
	for v := range masks {
		masks[v] = K()
		KMOVW(mask.As32(), masks[v])
		if v < 3 {
			SHRQ(U8(16), mask)
		}
	}

	acc := make([][]VecVirtual, rows)
	for i := range rows {
		acc[i] = make([]VecVirtual, 4)
		for v := range 4 {
			acc[i][v] = ZMM()
			VMOVUPS_Z(rowAddr(c0, c3, ldc, i).Offset(64*v), masks[v], acc[i][v])
		}
	}

	// The row of B 1<<axpyRowsAheadLog steps on, at these columns: rows of
	// B lie ldb apart (keys transposed: a whole cache row; values: a whole
	// slot), too far apart for the hardware prefetchers to follow. Hints
	// past B's end never fault.
	ahead := GP64()
	MOVQ(ldb, ahead)
	SHLQ(U8(axpyRowsAheadLog), ahead)

	Label(name + "Step")
	for v := range 4 {
		PREFETCHT0(Mem{Base: b, Index: ahead, Scale: 1, Disp: 64 * v})
	}
	bv := make([]VecVirtual, 4)
	for v := range 4 {
		bv[v] = ZMM()
		VMOVUPS_Z(Mem{Base: b}.Offset(64*v), masks[v], bv[v])
	}
	for i := range rows {
		s := ZMM()
		VBROADCASTSS(rowAddr(a0, a3, lda, i), s)
		for v := range 4 {
			VFMADD231PS(bv[v], s, acc[i][v])
		}
	}
	ADDQ(U8(4), a0)
	ADDQ(U8(4), a3)
	ADDQ(ldb, b)
	DECQ(k)
	JNZ(LabelRef(name + "Step"))

	for i := range rows {
		for v := range 4 {
			VMOVUPS(acc[i][v], masks[v], rowAddr(c0, c3, ldc, i).Offset(64*v))
		}
	}
	VZEROUPPER()
	RET()
}

// axpyRowsAheadLog is log2 of how many rows of B ahead a tile prefetches.
const axpyRowsAheadLog = 3

// avx2TileRows is the most rows of C per AVX2 tile: 3·4 accumulators and
// one broadcast take 13 of the 16 YMM registers; B is read from memory by
// each row's multiply-adds (L1 after the first).
const avx2TileRows = 3

// axpyRowsTileAVX2 is axpyRowsTile for AVX2: 32 columns, all of them (the
// caller runs the last n mod 32 columns through Axpy, which rounds each
// element the same way).
func axpyRowsTileAVX2(rows int) {
	name := fmt.Sprintf("AxpyRows%dAVX2", rows)
	TEXT(name, NOSPLIT, "func(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, k int, mask uint64)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s adds A·B to %d rows of C and 32 columns (kernels.AxpyRows):", name, rows),
		"",
		fmt.Sprintf("	for i := 0; i < %d; i++ {", rows),
		"		for p := 0; p < k; p++ {",
		"			for j := 0; j < 32; j++ {",
		"				c[i*ldc+j] = fma(a[i*lda+p], b[p*ldb+j], c[i*ldc+j])",
		"			}",
		"		}",
		"	}",
		"",
		"one rounding per multiply-add, in order of p. mask is unused (the",
		"AVX-512 tiles' signature). Strides are in elements; k ≥ 1. It needs",
		"AVX2 and FMA.",
	)
	c0 := Load(Param("c").Base(), GP64())
	a0 := Load(Param("a").Base(), GP64())
	b := Load(Param("b").Base(), GP64())
	ldc := Load(Param("ldc"), GP64())
	lda := Load(Param("lda"), GP64())
	ldb := Load(Param("ldb"), GP64())
	k := Load(Param("k"), GP64())
	SHLQ(U8(2), ldc)
	SHLQ(U8(2), lda)
	SHLQ(U8(2), ldb)

	acc := make([][]VecVirtual, rows)
	for i := range rows {
		acc[i] = make([]VecVirtual, 4)
		for v := range 4 {
			acc[i][v] = YMM()
			VMOVUPS(rowAddr(c0, nil, ldc, i).Offset(32*v), acc[i][v])
		}
	}
	ahead := GP64()
	MOVQ(ldb, ahead)
	SHLQ(U8(axpyRowsAheadLog), ahead)

	// Two hints per step: this tile's columns eight rows on, and the next
	// 32 columns of this row, which the next tile (kernels.AxpyRows runs
	// them left to right) reads a whole tile's time from now. A decode
	// step's attention does little arithmetic per row of B, so eight rows
	// are far less than DRAM's latency; a tile's time is about it.
	Label(name + "Step")
	PREFETCHT0(Mem{Base: b, Index: ahead, Scale: 1})
	PREFETCHT0(Mem{Base: b, Index: ahead, Scale: 1, Disp: 64})
	PREFETCHT0(Mem{Base: b, Disp: 128})
	PREFETCHT0(Mem{Base: b, Disp: 192})
	for i := range rows {
		s := YMM()
		VBROADCASTSS(rowAddr(a0, nil, lda, i), s)
		for v := range 4 {
			VFMADD231PS(Mem{Base: b}.Offset(32*v), s, acc[i][v])
		}
	}
	ADDQ(U8(4), a0)
	ADDQ(ldb, b)
	DECQ(k)
	JNZ(LabelRef(name + "Step"))

	for i := range rows {
		for v := range 4 {
			VMOVUPS(acc[i][v], rowAddr(c0, nil, ldc, i).Offset(32*v))
		}
	}
	VZEROUPPER()
	RET()
}
