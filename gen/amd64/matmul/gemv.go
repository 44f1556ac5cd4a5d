package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// gemvDoc is the meaning of both GEMVs, for their stubs.
var gemvDoc = []string{
	"is the matrix-vector product of a decode step, for n = len(y), k = len(x)",
	"and W = w[:n*k] row-major [n×k]:",
	"",
	"	for j := 0; j < n; j++ {",
	"		s := float32(0)",
	"		if len(bias) != 0 {",
	"			s = bias[j]",
	"		}",
	"		for p := 0; p < k; p++ {",
	"			s += w[j*k+p] * x[p]",
	"		}",
	"		y[j] = s",
	"	}",
	"",
	"It needs len(w) ≥ n*k and len(bias) = 0 or ≥ n, and reads no element past",
	"those bounds.",
}

// gemvRows is the number of rows of W one pass of a GEMV reduces and
// stores together. The rows are read one after the other, each from start
// to end with four independent accumulators: W streams from memory in
// address order, a single sequential stream. Walking the four rows side by
// side (four streams 4·k bytes apart) kept the same number of bytes in flight
// but streamed DRAM ~1.5× slower on Zen 4, whose prefetchers follow one
// stream best (measured 14-16 against 22-28 GB/s on one core).
const gemvRows = 4

// gemvUnroll is the number of vectors of a row each loop step reads, one
// accumulator each.
const gemvUnroll = 4

// gemvISA describes what differs between the AVX-512 and AVX2 GEMVs.
type gemvISA struct {
	name  string
	width int                     // float32 lanes per vector
	vec   func(i int) VecPhysical // accumulator and temporary registers
	// tailLoad loads the last k%width values at src into dst, zeroing the
	// rest and never touching memory past them.
	tailLoad func(src Mem, dst VecPhysical)
	// setupTail prepares tailLoad from the tail length in r (1..width-1).
	setupTail func(r GPPhysical)
}

var zmm = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}
var ymm = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

func gemvAVX512() {
	TEXT("GemvAVX512", NOSPLIT, "func(y, x, w, bias []float32)")
	Doc(append([]string{"GemvAVX512 " + gemvDoc[0]}, gemvDoc[1:]...)...)
	Pragma("noescape")
	gemvBody(avx512GemvISA())
}

func gemvAVX2() {
	TEXT("GemvAVX2", NOSPLIT, "func(y, x, w, bias []float32)")
	Doc(append([]string{"GemvAVX2 " + gemvDoc[0]}, gemvDoc[1:]...)...)
	Pragma("noescape")
	gemvBody(avx2GemvISA())
}

// avx512GemvISA is the AVX-512 tail handling: a K1 mask from BZHI and
// zeroing masked loads.
func avx512GemvISA() gemvISA {
	return gemvISA{
		name:  "avx512",
		width: 16,
		vec:   func(i int) VecPhysical { return zmm[i] },
		setupTail: func(r GPPhysical) {
			MOVL(U32(0xffffffff), EAX)
			BZHIL(r.As32(), EAX, EAX)
			KMOVW(EAX, K1)
		},
		tailLoad: func(src Mem, dst VecPhysical) { VMOVUPS_Z(src, K1, dst) },
	}
}

// tailMaskData is the AVX2 tail-mask table, written once per file.
var tailMaskData *Mem

// avx2GemvISA is the AVX2 tail handling: VMASKMOVPS with a mask in Y15 read
// from a table. setupTail clobbers AX and R10.
func avx2GemvISA() gemvISA {
	if tailMaskData == nil {
		// 8 all-ones words then 8 zero words: the 8 words from
		// gemvTailMask+4*(8-r) select the first r lanes for VMASKMOVPS.
		mask := GLOBL("gemvTailMask", RODATA|NOPTR)
		for i := 0; i < 16; i++ {
			v := uint32(0)
			if i < 8 {
				v = 0xffffffff
			}
			DATA(4*i, U32(v))
		}
		tailMaskData = &mask
	}
	mask := *tailMaskData
	maskReg := Y15
	return gemvISA{
		name:  "avx2",
		width: 8,
		vec:   func(i int) VecPhysical { return ymm[i] },
		setupTail: func(r GPPhysical) {
			// AX = 8 - r, then the mask is the 8 words at tailMask+4*AX.
			MOVQ(U32(8), RAX)
			SUBQ(r, RAX)
			LEAQ(mask, R10)
			VMOVDQU(Mem{Base: R10, Index: RAX, Scale: 4}, maskReg)
		},
		tailLoad: func(src Mem, dst VecPhysical) { VMASKMOVPS(src, maskReg, dst) },
	}
}

// gemvBody writes a GEMV: passes of gemvRows rows of W, then single rows.
//
// Registers: DX y, SI x, DI the current row of W, BX bias (0 when there is
// none), R8 rows left, R9 the row length in bytes, R13 the byte offset along
// the row, CX the tail length k%width, AX scratch.
// Vector registers 0..3 hold the rows' sums, 4..7 accumulate, 8..11 hold
// x, 12 is scratch.
func gemvBody(isa gemvISA) {
	Load(Param("y").Base(), RDX)
	Load(Param("y").Len(), R8)
	Load(Param("x").Base(), RSI)
	Load(Param("x").Len(), R9)
	Load(Param("w").Base(), RDI)
	Load(Param("bias").Base(), RBX)
	Load(Param("bias").Len(), RCX)
	// A nil bias is flagged by BX = 0.
	TESTQ(RCX, RCX)
	CMOVQEQ(RCX, RBX)

	MOVQ(R9, RCX)
	ANDQ(U32(isa.width-1), RCX)
	SHLQ(U8(2), R9)
	TESTQ(RCX, RCX)
	JZ(LabelRef("rows" + isa.name))
	isa.setupTail(RCX)

	Label("rows" + isa.name)
	CMPQ(R8, U32(gemvRows))
	JB(LabelRef("single" + isa.name))
	gemvPass(isa, gemvRows)
	SUBQ(U32(gemvRows), R8)
	JMP(LabelRef("rows" + isa.name))

	Label("single" + isa.name)
	TESTQ(R8, R8)
	JZ(LabelRef("done" + isa.name))
	gemvPass(isa, 1)
	DECQ(R8)
	JMP(LabelRef("single" + isa.name))

	Label("done" + isa.name)
	VZEROUPPER()
	RET()
}

// gemvPass computes rows outputs from rows consecutive rows of W starting at
// DI, stores them at DX, and advances DI, DX and BX past them.
func gemvPass(isa gemvISA, rows int) {
	for r := 0; r < rows; r++ {
		gemvRow(isa, fmt.Sprintf("%s%d_%d", isa.name, rows, r), isa.vec(r))
		ADDQ(R9, RDI)
	}
	tmp := isa.vec(12)
	// Fold each row's vector into one ymm (the VEX horizontal adds below
	// need registers 0..15 and at most 256 bits).
	if isa.width == 16 {
		for r := 0; r < rows; r++ {
			VEXTRACTF64X4(U8(1), isa.vec(r), tmp.AsY())
			VADDPS(tmp.AsY(), isa.vec(r).AsY(), isa.vec(r).AsY())
		}
	}
	id := fmt.Sprintf("%s%d", isa.name, rows)
	s, sx := isa.vec(0).AsY(), isa.vec(0).AsX()
	if rows == 4 {
		// Y0 = [a01 a23 b01 b23 | a45 a67 b45 b67], and so on: three
		// horizontal adds leave lane i of each half holding a partial sum of
		// row i.
		VHADDPS(isa.vec(1).AsY(), s, s)
		VHADDPS(isa.vec(3).AsY(), isa.vec(2).AsY(), isa.vec(2).AsY())
		VHADDPS(isa.vec(2).AsY(), s, s)
		VEXTRACTF128(U8(1), s, tmp.AsX())
		VADDPS(tmp.AsX(), sx, sx)
	} else {
		VEXTRACTF128(U8(1), s, tmp.AsX())
		VADDPS(tmp.AsX(), sx, sx)
		VHADDPS(sx, sx, sx)
		VHADDPS(sx, sx, sx)
	}
	TESTQ(RBX, RBX)
	JZ(LabelRef("store" + id))
	if rows == 4 {
		VADDPS(Mem{Base: RBX}, sx, sx)
	} else {
		VADDSS(Mem{Base: RBX}, sx, sx)
	}
	ADDQ(U32(4*rows), RBX)

	Label("store" + id)
	if rows == 4 {
		VMOVUPS(sx, Mem{Base: RDX})
	} else {
		VMOVSS(sx, Mem{Base: RDX})
	}
	ADDQ(U32(4*rows), RDX)
}

// gemvRow leaves in sum the lane-wise products of the row of W at DI with x
// (the row's dot product is the sum of sum's lanes): gemvUnroll vectors a
// step into as many accumulators, then single vectors, then the masked
// tail. It clobbers registers 4..12 besides sum, R13 and AX.
func gemvRow(isa gemvISA, id string, sum VecPhysical) {
	acc := func(u int) VecPhysical { return isa.vec(4 + u) }
	xv := func(u int) VecPhysical { return isa.vec(8 + u) }
	tmp := isa.vec(12)
	vb := 4 * isa.width
	at := func(base GPPhysical, disp int) Mem { return Mem{Base: base, Index: R13, Scale: 1, Disp: disp} }
	for u := 0; u < gemvUnroll; u++ {
		VXORPS(acc(u), acc(u), acc(u))
	}
	XORQ(R13, R13)

	Label("loopN" + id)
	LEAQ(Mem{Base: R13, Disp: gemvUnroll * vb}, RAX)
	CMPQ(RAX, R9)
	JA(LabelRef("loop1" + id))
	for u := 0; u < gemvUnroll; u++ {
		VMOVUPS(at(RSI, u*vb), xv(u))
	}
	for u := 0; u < gemvUnroll; u++ {
		VFMADD231PS(at(RDI, u*vb), xv(u), acc(u))
	}
	MOVQ(RAX, R13)
	JMP(LabelRef("loopN" + id))

	Label("loop1" + id)
	LEAQ(Mem{Base: R13, Disp: vb}, RAX)
	CMPQ(RAX, R9)
	JA(LabelRef("tail" + id))
	VMOVUPS(at(RSI, 0), xv(0))
	VFMADD231PS(at(RDI, 0), xv(0), acc(0))
	MOVQ(RAX, R13)
	JMP(LabelRef("loop1" + id))

	Label("tail" + id)
	TESTQ(RCX, RCX)
	JZ(LabelRef("fold" + id))
	isa.tailLoad(at(RSI, 0), xv(0))
	isa.tailLoad(at(RDI, 0), tmp)
	VFMADD231PS(tmp, xv(0), acc(1))

	Label("fold" + id)
	VADDPS(acc(1), acc(0), acc(0))
	VADDPS(acc(3), acc(2), acc(2))
	VADDPS(acc(2), acc(0), sum)
}
