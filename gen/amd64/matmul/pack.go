package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// packTransposeAVX2 writes the panel packing of the GEMMs: a transpose of a
// rows×cols block in 4×8 tiles (four row loads, eight in-lane shuffles, eight
// 16-byte stores), several times faster than the Go loop it replaces, which
// at prefill sizes took as long as the multiplication itself. It walks down
// a column strip of 8 before moving right, so the eight rows of dst it fills
// are finished while they are in L1. It needs only AVX, so both tiers use it.
//
// Registers: DI the dst row of the current strip, SI the source row of the
// current tile, R8 the row stride ld in bytes, R9 rows/4, R10 cols in bytes,
// R11 the dst stride rows*4 in bytes, AX the strip's column offset in bytes,
// BX the dst address of the current tile, R12 the store address, R13 3*ld
// in bytes, CX row groups left in the strip, DX the source base.
func packTransposeAVX2() {
	TEXT("PackTransposeAVX2", NOSPLIT, "func(dst, src []float32, ld, rows, cols int)")
	Doc(
		"PackTransposeAVX2 packs a block of src for the GEMM micro-kernels, for rows a",
		"multiple of 4 and cols a multiple of 8:",
		"",
		"	for j := 0; j < rows; j++ {",
		"		for p := 0; p < cols; p++ {",
		"			dst[p*rows+j] = src[j*ld+p]",
		"		}",
		"	}",
		"",
		"It needs len(dst) ≥ rows*cols and len(src) ≥ (rows-1)*ld+cols, and does not check them.",
	)
	Pragma("noescape")
	Load(Param("dst").Base(), RDI)
	Load(Param("src").Base(), RDX)
	Load(Param("ld"), R8)
	Load(Param("rows"), R9)
	Load(Param("cols"), R10)
	SHLQ(U8(2), R8)
	SHLQ(U8(2), R10)
	MOVQ(R9, R11)
	SHLQ(U8(2), R11)
	SHRQ(U8(2), R9)
	JZ(LabelRef("done"))
	LEAQ(Mem{Base: R8, Index: R8, Scale: 2}, R13)
	XORQ(RAX, RAX)
	CMPQ(RAX, R10)
	JAE(LabelRef("done"))

	r := []VecPhysical{Y0, Y1, Y2, Y3}
	t := []VecPhysical{Y4, Y5, Y6, Y7}
	o := []VecPhysical{Y8, Y9, Y10, Y11}
	Label("strip")
	LEAQ(Mem{Base: RDX, Index: RAX, Scale: 1}, RSI)
	MOVQ(RDI, RBX)
	MOVQ(R9, RCX)
	Label("tile")
	VMOVUPS(Mem{Base: RSI}, r[0])
	VMOVUPS(Mem{Base: RSI, Index: R8, Scale: 1}, r[1])
	VMOVUPS(Mem{Base: RSI, Index: R8, Scale: 2}, r[2])
	VMOVUPS(Mem{Base: RSI, Index: R13, Scale: 1}, r[3])
	// Per 128-bit lane: t0 = r0[0] r1[0] r0[1] r1[1], t1 = r0[2] r1[2] r0[3]
	// r1[3], likewise t2, t3 from r2, r3; then o_i holds column i of the
	// lane's 4×4 block, and lane 1 holds column 4+i.
	VUNPCKLPS(r[1], r[0], t[0])
	VUNPCKHPS(r[1], r[0], t[1])
	VUNPCKLPS(r[3], r[2], t[2])
	VUNPCKHPS(r[3], r[2], t[3])
	VSHUFPS(U8(0x44), t[2], t[0], o[0])
	VSHUFPS(U8(0xee), t[2], t[0], o[1])
	VSHUFPS(U8(0x44), t[3], t[1], o[2])
	VSHUFPS(U8(0xee), t[3], t[1], o[3])
	// Column i goes to dst row i, column 4+i to dst row 4+i.
	MOVQ(RBX, R12)
	for i := 0; i < 4; i++ {
		VMOVUPS(o[i].AsX(), Mem{Base: R12})
		ADDQ(R11, R12)
	}
	for i := 0; i < 4; i++ {
		VEXTRACTF128(U8(1), o[i], Mem{Base: R12})
		if i < 3 {
			ADDQ(R11, R12)
		}
	}
	LEAQ(Mem{Base: RSI, Index: R8, Scale: 4}, RSI)
	ADDQ(U8(16), RBX)
	DECQ(RCX)
	JNZ(LabelRef("tile"))

	// Next strip: 8 columns right, 8 dst rows down.
	LEAQ(Mem{Base: RDI, Index: R11, Scale: 8}, RDI)
	ADDQ(U8(32), RAX)
	CMPQ(RAX, R10)
	JB(LabelRef("strip"))

	Label("done")
	VZEROUPPER()
	RET()
}
