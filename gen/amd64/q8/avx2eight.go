package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// avx2EightBlocks runs the AVX2 step over every whole group of eight blocks
// (256 bytes of each row), leaving xp, xsp and the row pointers at the
// blocks that remain; groups is a scratch register, products 32 bytes of
// stack per row. It computes each lane exactly as the one-block step does
// (the same int32 sums, ws·xs rounded once, one FMA per lane in block
// order), so Q8MatMul's rows stay equal to it bit for bit; what it saves is
// a VMULPS per block and row: one VMULPS of eight ws by eight xs per row,
// stored, and then each block's product is a broadcast load.
func avx2EightBlocks(g rowGroup, k, xp, xsp, groups Register, ones VecVirtual, products Mem) {
	id := fmt.Sprint(len(g.w))
	MOVQ(k, groups)
	SHRQ(U8(8), groups)
	JZ(LabelRef("avx2Eight" + id + "Done"))
	Label("avx2Eight" + id)
	xs := YMM()
	VMOVUPS(Mem{Base: xsp}, xs)
	for r := range g.w {
		p := YMM()
		VMULPS(Mem{Base: g.s[r]}, xs, p)
		VMOVUPS(p, products.Offset(32*r))
		PREFETCHT0(Mem{Base: g.s[r], Index: k, Scale: 1})
	}
	for b := range 8 {
		x := YMM()
		VMOVDQU(Mem{Base: xp}.Offset(32*b), x)
		for r := range g.w {
			// Every block, as the one-block step does: prefetching each
			// 64-byte line once measured slower from DRAM.
			PREFETCHT0(Mem{Base: g.w[r], Index: k, Scale: 8, Disp: 32 * b})
			w, sx, s := YMM(), YMM(), YMM()
			VMOVDQU(Mem{Base: g.w[r]}.Offset(32*b), w)
			VPSIGNB(w, x, sx) // x·sign(w)
			VPSIGNB(w, w, w)  // |w|, -128 read as unsigned 128
			VPMADDUBSW(sx, w, sx)
			VPMADDWD(ones, sx, sx)
			VCVTDQ2PS(sx, sx)
			VBROADCASTSS(products.Offset(32*r+4*b), s)
			VFMADD231PS(s, sx, g.acc[r])
		}
	}
	g.advance(256, 32)
	ADDQ(U32(256), xp)
	ADDQ(U8(32), xsp)
	DECQ(groups)
	JNZ(LabelRef("avx2Eight" + id))
	Label("avx2Eight" + id + "Done")
}
