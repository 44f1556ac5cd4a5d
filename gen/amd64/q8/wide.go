package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// q8MatVec16AVX2 is the int8-row GEMV against int16 activations
// (kernels.Q8MatVec16): each block of 32 row bytes is sign-extended to
// int16 (VPMOVSXBW, two halves of 16) and multiplied by the activations'
// int16 with VPMADDWD, whose pair sums |2·128·32767| < 2³¹ and the lane sums
// of a block (8.4M·2) are exact in int32. As in Q8MatVecAVX2, eight blocks
// per step share one VMULPS of their ws·xs, stored and broadcast per block,
// and the blocks left over go one at a time with the same arithmetic per
// lane (ws·xs rounded once, one FMA), so a row's result does not depend on
// where its groups fall. One row after another: one stream, which the
// logits GEMV over a 50,257-row table needs.
func q8MatVec16AVX2() {
	TEXT("Q8MatVec16AVX2", NOSPLIT, "func(y []float32, wq []int8, ws []float32, xq []int16, xs []float32, k, n int)")
	Pragma("noescape")
	// The meaning is Q8MatVec's loop with xq of int16 (matVecDoc[1:14]).
	doc := []string{"Q8MatVec16AVX2 computes y = W·x for int8 rows against int16 activations", "in blocks of 32 (kernels.Q8MatVec16):"}
	doc = append(doc, matVecDoc[1:14]...)
	Doc(append(doc, "", "k is a positive multiple of 32 and n ≥ 1; the slices hold at least n*k,",
		"n*k/32, k, k/32 and n elements. It needs AVX2 and FMA.")...)
	products := AllocLocal(32) // ws·xs of eight blocks

	matVecRows(1, false, func() VecVirtual { return YMM() }, func(g rowGroup, k Register) {
		xp := Load(Param("xq").Base(), GP64())
		xsp := Load(Param("xs").Base(), GP64())
		blocks := GP64()
		id := fmt.Sprint(len(g.w))
		// block multiplies block b of the row (at offset 32b of its values,
		// 64b of the activations) and adds it to the accumulator with the
		// scale product s.
		block := func(b int, s func() VecVirtual) {
			w0, w1 := YMM(), YMM()
			VPMOVSXBW(Mem{Base: g.w[0]}.Offset(32*b), w0)
			VPMOVSXBW(Mem{Base: g.w[0]}.Offset(32*b+16), w1)
			VPMADDWD(Mem{Base: xp}.Offset(64*b), w0, w0)
			VPMADDWD(Mem{Base: xp}.Offset(64*b+32), w1, w1)
			VPADDD(w1, w0, w0)
			VCVTDQ2PS(w0, w0)
			VFMADD231PS(s(), w0, g.acc[0])
		}

		MOVQ(k, blocks)
		SHRQ(U8(8), blocks)
		JZ(LabelRef("wide8x" + id + "Done"))
		Label("wide8x" + id)
		xs, p := YMM(), YMM()
		VMOVUPS(Mem{Base: xsp}, xs)
		VMULPS(Mem{Base: g.s[0]}, xs, p)
		VMOVUPS(p, products)
		PREFETCHT0(Mem{Base: g.s[0], Index: k, Scale: 1})
		for b := range 8 {
			PREFETCHT0(Mem{Base: g.w[0], Index: k, Scale: 8, Disp: 32 * b})
			block(b, func() VecVirtual {
				s := YMM()
				VBROADCASTSS(products.Offset(4*b), s)
				return s
			})
		}
		g.advance(256, 32)
		ADDQ(U32(512), xp)
		ADDQ(U8(32), xsp)
		DECQ(blocks)
		JNZ(LabelRef("wide8x" + id))
		Label("wide8x" + id + "Done")

		MOVQ(k, blocks)
		SHRQ(U8(5), blocks)
		ANDQ(U8(7), blocks) // the blocks after the groups of eight
		JZ(LabelRef("wide1x" + id + "Done"))
		Label("wide1x" + id)
		g.prefetch(k)
		block(0, func() VecVirtual {
			xs, s := YMM(), YMM()
			VBROADCASTSS(Mem{Base: xsp}, xs)
			VBROADCASTSS(Mem{Base: g.s[0]}, s)
			VMULPS(xs, s, s)
			return s
		})
		g.advance(32, 4)
		ADDQ(U8(64), xp)
		ADDQ(U8(4), xsp)
		DECQ(blocks)
		JNZ(LabelRef("wide1x" + id))
		Label("wide1x" + id + "Done")
	})
}
