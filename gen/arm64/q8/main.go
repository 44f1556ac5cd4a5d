// Command q8 writes the NEON int8 kernels of package kernels (q8.go) to
// asm/q8_arm64.s and their Go declarations to asm/q8_arm64.go: the
// block-quantized matrix-vector product, once with SDOT (the dotprod
// extension) and once with widening multiplies for ARMv8.0 cores, and the
// row quantizer.
//
// Assembly because Go cannot reach the byte multiplies (SDOT, SMULL) at all,
// and the logits GEMV over a 50,257-row int8 embedding is the largest single
// weight read of a decode step.
//
// Both products are exact in int32: SDOT adds four int8 products straight
// into an int32 lane; the widening path multiplies bytes into int16 lanes
// (|w·x| ≤ 128·127 = 16256 fits) and adds adjacent pairs into int32 lanes
// with SADALP, never summing in int16. Each block of 32 has its own scale,
// so the integer sums of four blocks are gathered into the four lanes of one
// vector (pairwise adds), converted to float32 and multiplied by ws·xs lane
// by lane into one float32 accumulator per row.
package main

import (
	"flag"
	"fmt"
	"log"

	. "github.com/goformer/goformer/gen/arm64"
)

func main() {
	out := flag.String("out", "q8_arm64.s", "assembly output")
	decl := flag.String("decl", "q8_arm64.go", "Go declarations output")
	flag.Parse()

	f := NewFile("gen/arm64/q8")
	matVec(f, sdot)
	matVec(f, widening)
	matVec16(f)
	quantize(f)
	if err := f.Write(*out, *decl, "asm"); err != nil {
		log.Fatal(err)
	}
}

var matVecParams = []Param{
	P("y", "[]float32"), P("wq", "[]int8"), P("ws", "[]float32"),
	P("xq", "[]int8"), P("xs", "[]float32"), P("k", "int"), P("n", "int"),
}

// matVecDoc is the meaning of both matrix-vector kernels.
func matVecDoc(name, needs string) []string {
	return []string{
		name + " computes y = W·x for int8 blocks of 32 (kernels.Q8MatVec):",
		"",
		"\tnb := k / 32",
		"\tfor j := 0; j < n; j++ {",
		"\t\tvar s float32",
		"\t\tfor b := 0; b < nb; b++ {",
		"\t\t\tvar dot int32",
		"\t\t\tfor i := 0; i < 32; i++ {",
		"\t\t\t\tdot += int32(wq[j*k+32*b+i]) * int32(xq[32*b+i])",
		"\t\t\t}",
		"\t\t\ts += ws[j*nb+b] * xs[b] * float32(dot)",
		"\t\t}",
		"\t\ty[j] = s",
		"\t}",
		"",
		"k is a positive multiple of 32 and n ≥ 1; the slices hold at least n*k,",
		"n*k/32, k, k/32 and n elements. The integer sums are exact for every int8",
		"w and x; the float32 sum over blocks runs in another order.",
		needs,
	}
}

// Registers of the matrix-vector kernels.
const (
	// General registers: y, the first row of the group in wq and ws, xq,
	// xs, k, n, bytes of scales per row, counters, the x pointers of a
	// pass; rows r = 0..3 of a group walk wq through R12+r and ws
	// through R19+r.
	rY, rWRow, rSRow, rX, rXS, rK, rN, rSB = "R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7"
	rChunks, rTail, rXP, rXSP              = "R8", "R9", "R10", "R11"

	// Vector registers: x of four blocks in V0-V7, W scratch in V8-V11,
	// row r's float32 accumulator in V12+r, and the int32 sums of row r
	// and block b of a chunk in V16+4r+b.
	vX, vW, vAcc, vDot V = 0, 8, 12, 16
)

func rW(r int) string  { return fmt.Sprintf("R%d", 12+r) }
func rWS(r int) string { return fmt.Sprintf("R%d", 19+r) }

func dot(r, b int) V { return vDot + V(4*r+b) }

// chunkBlocks is how many blocks one step of the k loop covers: their sums
// fill the four lanes of a vector.
const chunkBlocks = 4

// rowsPerPass is how many rows of W share one load of each piece of x.
const rowsPerPass = 4

// product is one way to multiply a block: block emits acc += the int32 dot
// products of the 32 bytes of W in w, w+1 with those of x in x, x+1, spread
// over acc's four lanes.
type product struct {
	name, needs string
	block       func(f *File, acc, w, x V)
	// scratch: block uses V10-V11, so every row loads W into V8-V9.
	scratch bool
}

// sdot: SDOT adds four products into each int32 lane.
var sdot = product{
	name:  "Q8MatVecNEONDot",
	needs: "It needs the dotprod extension (cpu.ARM64.HasASIMDDP).",
	block: func(f *File, acc, w, x V) {
		f.Inst(SDot(acc, w, x))
		f.Inst(SDot(acc, w+1, x+1))
	},
}

// widening: SMULL and SMULL2 multiply eight bytes each into int16 lanes,
// SADALP adds adjacent pairs of those into acc's int32 lanes.
var widening = product{
	name:  "Q8MatVecNEON",
	needs: "It runs on every ARMv8.0 core: widening multiplies, no dotprod.",
	block: func(f *File, acc, w, x V) {
		tmp := vW + 2
		for i := range V(2) {
			f.Inst(SMull(B8, tmp, w+i, x+i))
			f.Inst(SMull(B16, tmp+1, w+i, x+i))
			f.Inst(SAdaLP(H8, acc, tmp))
			f.Inst(SAdaLP(H8, acc, tmp+1))
		}
	},
	scratch: true,
}

func matVec(f *File, pr product) {
	fn := f.Func(pr.name, matVecDoc(pr.name, pr.needs), matVecParams, nil)
	f.Op("MOVD %s, %s", fn.Base("y"), rY)
	f.Op("MOVD %s, %s", fn.Base("wq"), rWRow)
	f.Op("MOVD %s, %s", fn.Base("ws"), rSRow)
	f.Op("MOVD %s, %s", fn.Base("xq"), rX)
	f.Op("MOVD %s, %s", fn.Base("xs"), rXS)
	f.Op("MOVD %s, %s", fn.Arg("k"), rK)
	f.Op("MOVD %s, %s", fn.Arg("n"), rN)
	f.Op("LSR $3, %s, %s", rK, rSB) // k/32 float32 scales per row
	rowGroup(f, rowsPerPass, pr)
	rowGroup(f, 1, pr)
	f.Op("RET")
}

// rowGroup emits the loop that takes rows rows of W per pass while that
// many remain. Each pass walks k in chunks of four blocks, then single
// blocks, and stores rows values of y.
func rowGroup(f *File, rows int, pr product) {
	p := fmt.Sprintf("rows%d", rows)
	f.Label(p)
	f.Op("CMP $%d, %s", rows, rN)
	f.Op("BLT %sdone", p)
	f.Op("MOVD %s, %s", rWRow, rW(0))
	f.Op("MOVD %s, %s", rSRow, rWS(0))
	for r := 1; r < rows; r++ {
		f.Op("ADD %s, %s, %s", rK, rW(r-1), rW(r))
		f.Op("ADD %s, %s, %s", rSB, rWS(r-1), rWS(r))
	}
	f.Op("MOVD %s, %s", rX, rXP)
	f.Op("MOVD %s, %s", rXS, rXSP)
	for r := range rows {
		f.Zero(vAcc + V(r))
	}

	f.Comment("Chunks of %d blocks: one vector of block sums per row.", chunkBlocks)
	f.Op("LSR $7, %s, %s", rK, rChunks)
	f.Op("CBZ %s, %stail", rChunks, p)
	f.Label(p + "chunk")
	for r := range rows {
		for b := range chunkBlocks {
			f.Zero(dot(r, b))
		}
	}
	f.Op("VLD1.P 64(%s), %s", rXP, List(vX, 4))
	f.Op("VLD1.P 64(%s), %s", rXP, List(vX+4, 4))
	for b := range chunkBlocks {
		for r := range rows {
			// Alternate W registers between rows so one row's load
			// need not wait for the previous row's multiplies.
			w := vW
			if !pr.scratch {
				w += V(2 * (r % 2))
			}
			f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rW(r), w, w+1)
			pr.block(f, dot(r, b), w, vX+V(2*b))
		}
	}
	// Pairwise sums gather block b's total in lane b; V16+4r+1 and +2
	// then hold xs and row r's ws.
	for r := range rows {
		d := dot(r, 0)
		f.Op("VADDP V%d.S4, V%d.S4, V%d.S4", d+1, d, d)
		f.Op("VADDP V%d.S4, V%d.S4, V%d.S4", d+3, d+2, d+2)
		f.Op("VADDP V%d.S4, V%d.S4, V%d.S4", d+2, d, d)
		f.Inst(SCvtF(S4, d, d))
	}
	xs := dot(0, 1)
	f.Op("VLD1.P 16(%s), [V%d.S4]", rXSP, xs)
	for r := range rows {
		d := dot(r, 0)
		f.Op("VLD1.P 16(%s), [V%d.S4]", rWS(r), d+2)
		f.Inst(FMul(S4, d+2, d+2, xs))
		f.Inst(FMla(S4, vAcc+V(r), d, d+2))
	}
	f.Op("SUBS $1, %s, %s", rChunks, rChunks)
	f.Op("BNE %schunk", p)

	f.Comment("The last k/32 mod %d blocks one at a time, each sum in lane 0.", chunkBlocks)
	f.Label(p + "tail")
	f.Op("UBFX $5, %s, $2, %s", rK, rTail)
	f.Op("CBZ %s, %ssum", rTail, p)
	f.Label(p + "block")
	f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rXP, vX, vX+1)
	xsS := dot(0, 1)
	f.Op("FMOVS.P 4(%s), F%d", rXSP, xsS)
	for r := range rows {
		d := dot(r, 0)
		w := vW
		f.Zero(d)
		f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rW(r), w, w+1)
		pr.block(f, d, w, vX)
		// addv and the scalar loads clear lanes 1-3, which then add 0·0.
		f.Inst(AddV(d, d))
		f.Inst(SCvtF(S4, d, d))
		f.Op("FMOVS.P 4(%s), F%d", rWS(r), d+2)
		f.Op("FMULS F%d, F%d, F%d", xsS, d+2, d+2)
		f.Inst(FMla(S4, vAcc+V(r), d, d+2))
	}
	f.Op("SUBS $1, %s, %s", rTail, rTail)
	f.Op("BNE %sblock", p)

	f.Label(p + "sum")
	if rows == 4 {
		// Pairwise sums gather row r's total in lane r of V12.
		f.Inst(FAddP(S4, vAcc, vAcc, vAcc+1))
		f.Inst(FAddP(S4, vAcc+2, vAcc+2, vAcc+3))
		f.Inst(FAddP(S4, vAcc, vAcc, vAcc+2))
		f.Op("VST1.P [V%d.S4], 16(%s)", vAcc, rY)
	} else {
		f.Sum4(vAcc)
		f.Op("FMOVS.P F%d, 4(%s)", vAcc, rY)
	}
	// The last row's pointers now sit at the start of the next group.
	f.Op("MOVD %s, %s", rW(rows-1), rWRow)
	f.Op("MOVD %s, %s", rWS(rows-1), rSRow)
	f.Op("SUB $%d, %s", rows, rN)
	f.Op("B %s", p)
	f.Label(p + "done")
}

// quantize emits the row quantizer, one block of 32 float32 per step. Every
// float32 step is the one the generic twin takes, so the output is bit for
// bit the same: FDIV for amax/127 and 1/d, FMUL for x·id, and FCVTAS, whose
// rounding (to nearest, ties away from zero) is roundHalfAwayFromZero.
func quantize(f *File) {
	fn := f.Func("Q8QuantizeNEON", []string{
		"Q8QuantizeNEON quantizes x into int8 blocks of 32 (kernels.Q8Quantize):",
		"",
		"\tfor b := 0; b < len(x)/32; b++ {",
		"\t\tamax := max |x[32b+i]| over i < 32",
		"\t\td := amax / 127",
		"\t\tid := 1 / d // 0, and d = 0, when d < 2⁻¹²⁶",
		"\t\tfor i := 0; i < 32; i++ {",
		"\t\t\txq[32b+i] = int8(roundHalfAwayFromZero(x[32b+i] * id))",
		"\t\t}",
		"\t\txs[b] = d",
		"\t}",
		"",
		"every step in float32. len(x) is a multiple of 32; xq and xs hold",
		"len(x) and len(x)/32 elements. x must be finite.",
	}, []Param{P("xq", "[]int8"), P("xs", "[]float32"), P("x", "[]float32")}, nil)
	f.Op("MOVD %s, R0", fn.Base("xq"))
	f.Op("MOVD %s, R1", fn.Base("xs"))
	f.Op("MOVD %s, R2", fn.Base("x"))
	f.Op("MOVD %s, R3", fn.Len("x"))
	f.Op("LSR $5, R3, R3")
	f.Op("CBZ R3, done")
	const (
		vD, vID    V = 16, 17 // d and id in lane 0
		v127, vOne V = 30, 31
	)
	f.Op("FMOVS $127.0, F%d", v127)
	f.Op("FMOVS $1.0, F%d", vOne)

	f.Label("block")
	f.Op("VLD1.P 64(R2), %s", List(0, 4))
	f.Op("VLD1.P 64(R2), %s", List(4, 4))
	for i := range V(8) {
		f.Inst(FAbs(S4, 8+i, i))
	}
	for _, m := range [][2]V{{8, 9}, {10, 11}, {12, 13}, {14, 15}, {8, 10}, {12, 14}, {8, 12}} {
		f.Inst(FMax(S4, m[0], m[0], m[1]))
	}
	f.Inst(FMaxV(8, 8))
	f.Op("FDIVS F%d, F8, F%d", v127, vD)
	// d is not negative, so d ≥ 2⁻¹²⁶ compares its bits as an integer.
	f.Op("FMOVS F%d, R4", vD)
	f.Op("CMPW $0x800000, R4")
	f.Op("BLO zero")
	f.Op("FDIVS F%d, F%d, F%d", vD, vOne, vID)
	f.Op("B scale")
	f.Label("zero")
	f.Zero(vD, vID)
	f.Label("scale")
	f.Op("FMOVS.P F%d, 4(R1)", vD)
	for i := range V(8) {
		f.Inst(FMulElem(i, i, vID, 0))
		f.Inst(FCvtAS(S4, i, i))
	}
	// The int32 values lie in [-127, 127]: keeping the low half of each
	// lane twice (even halfwords, then even bytes) narrows them to int8.
	for i := 0; i < 8; i += 2 {
		f.Op("VUZP1 V%d.H8, V%d.H8, V%d.H8", i+1, i, i)
	}
	f.Op("VUZP1 V2.B16, V0.B16, V0.B16")
	f.Op("VUZP1 V6.B16, V4.B16, V1.B16")
	f.Op("VST1.P [V0.B16, V1.B16], 32(R0)")
	f.Op("SUBS $1, R3, R3")
	f.Op("BNE block")
	f.Label("done")
	f.Op("RET")
}
