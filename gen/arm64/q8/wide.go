package main

import (
	. "github.com/goformer/goformer/gen/arm64"
)

// matVec16 writes Q8MatVec16NEON, the int8-row GEMV against int16
// activations (kernels.Q8MatVec16), for every ARMv8.0 core: per block of
// 32, SXTL widens the row's bytes to int16 and SMULL/SMLAL(2) multiply
// them by the activations into four int32 lanes (eight products each,
// |8·128·32767| < 2³¹: exact), converted to float32 and added with one
// FMLA by the block's ws·xs. One row after another, a single stream.
func matVec16(f *File) {
	const name = "Q8MatVec16NEON"
	// The meaning is Q8MatVec's loop with xq of int16 (lines 1-13 of
	// matVecDoc).
	doc := []string{name + " computes y = W·x for int8 rows against int16 activations in", "blocks of 32 (kernels.Q8MatVec16):"}
	doc = append(doc, matVecDoc(name, "")[1:14]...)
	doc = append(doc, "", "k is a positive multiple of 32 and n ≥ 1; the slices hold at least n*k,",
		"n*k/32, k, k/32 and n elements. The integer sums are exact; the float32",
		"sum over blocks runs in another order. It runs on every ARMv8.0 core.")
	params := []Param{
		P("y", "[]float32"), P("wq", "[]int8"), P("ws", "[]float32"),
		P("xq", "[]int16"), P("xs", "[]float32"), P("k", "int"), P("n", "int"),
	}
	fn := f.Func(name, doc, params, nil)
	f.Op("MOVD %s, %s", fn.Base("y"), rY)
	f.Op("MOVD %s, %s", fn.Base("wq"), rWRow)
	f.Op("MOVD %s, %s", fn.Base("ws"), rSRow)
	f.Op("MOVD %s, %s", fn.Base("xq"), rX)
	f.Op("MOVD %s, %s", fn.Base("xs"), rXS)
	f.Op("MOVD %s, %s", fn.Arg("k"), rK)
	f.Op("MOVD %s, %s", fn.Arg("n"), rN)
	const (
		vX16 V = 0  // the block's 32 int16 activations, V0-V3
		vW8  V = 8  // the row's 32 bytes, V8-V9
		vW16 V = 4  // widened to int16, V4-V7
		vSum V = 16 // the block's int32 lanes
		vS   V = 17 // ws·xs in lane 0
		vXS  V = 18
	)
	f.Label("wrow")
	f.Op("MOVD %s, %s", rX, rXP)
	f.Op("MOVD %s, %s", rXS, rXSP)
	f.Zero(vAcc)
	f.Op("LSR $5, %s, %s", rK, rChunks)
	f.Label("wblock")
	f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rWRow, vW8, vW8+1)
	f.Op("VLD1.P 64(%s), [V%d.H8, V%d.H8, V%d.H8, V%d.H8]", rXP, vX16, vX16+1, vX16+2, vX16+3)
	for i := range V(2) {
		f.Inst(SXtl(B8, vW16+2*i, vW8+i))
		f.Inst(SXtl(B16, vW16+2*i+1, vW8+i))
	}
	for i := range V(4) {
		if i == 0 {
			f.Inst(SMull(H4, vSum, vW16, vX16))
		} else {
			f.Inst(SMlal(H4, vSum, vW16+i, vX16+i))
		}
		f.Inst(SMlal(H8, vSum, vW16+i, vX16+i))
	}
	f.Inst(SCvtF(S4, vSum, vSum))
	f.Op("FMOVS.P 4(%s), F%d", rSRow, vS)
	f.Op("FMOVS.P 4(%s), F%d", rXSP, vXS)
	f.Op("FMULS F%d, F%d, F%d", vXS, vS, vS)
	f.Inst(FMlaElem(vAcc, vSum, vS, 0))
	f.Op("SUBS $1, %s, %s", rChunks, rChunks)
	f.Op("BNE wblock")
	f.Sum4(vAcc)
	f.Op("FMOVS.P F%d, 4(%s)", vAcc, rY)
	f.Op("SUBS $1, %s, %s", rN, rN)
	f.Op("BNE wrow")
	f.Op("RET")
}
