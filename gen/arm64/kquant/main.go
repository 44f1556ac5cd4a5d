// Command kquant writes the NEON kernels of goformer's blocked GGUF types
// (kernels/quant.go) to asm/kquant_arm64.s and their Go declarations to
// asm/kquant_arm64.go: the matrix-vector product of every blocked type,
// once with SDOT (the dotprod extension) and once with widening multiplies
// for ARMv8.0 cores. The bodies live by family: legacy.go the types of 32
// (Q4_0, Q4_1, Q5_0, Q5_1), k4.go the K-quants with a 6-bit scale and min
// per 32 (Q4_K, Q5_K), k16.go those with a scale per 16 (Q2_K, Q3_K, Q6_K),
// iq4.go the non-linear IQ4_NL and IQ4_XS.
//
// Assembly because Go cannot reach the byte multiplies (SDOT, SMULL), and
// a decode step is these products over every weight.
//
// Every code is a signed byte here (the plain q of Q2_K, Q4_1, Q4_K, Q5_1
// and Q5_K, at most 31; Q6_K's q − 32, Q3_K's q − 4, Q4_0's q − 8, Q5_0's
// q − 16; the IQ4 levels −127..113), and every integer sum is exact: SDOT
// adds four byte products into an int32 lane; the widening path
// multiplies bytes into int16 lanes (|q·x| ≤ 128·127 fits) and adds
// adjacent pairs into int32 lanes, never summing in int16. Each
// sub-block's sum is reduced to a scalar and multiplied by its integer
// scale in a general register, as the generic twin does; the float32 work
// is per block or super-block and scalar. A tier's GEMM runs this GEMV
// row by row, so its rows equal it bit for bit.
package main

import (
	"flag"
	"fmt"
	"log"

	. "github.com/goformer/goformer/gen/arm64"
)

func main() {
	out := flag.String("out", "kquant_arm64.s", "assembly output")
	decl := flag.String("decl", "kquant_arm64.go", "Go declarations output")
	flag.Parse()

	f := NewFile("gen/arm64/kquant")
	for _, t := range []blockType{q4_0, q4_1, q5_0, q5_1, q2K, q3K, q4K, q5K, q6K, iq4NL, iq4XS} {
		for _, p := range []product{sdot, widening} {
			matVec(f, t, p)
		}
	}
	if err := f.Write(*out, *decl, "asm"); err != nil {
		log.Fatal(err)
	}
}

var matVecParams = []Param{
	P("y", "[]float32"), P("w", "[]byte"), P("xq", "[]int8"), P("xs", "[]float32"),
	P("xsum", "[]int16"), P("k", "int"), P("n", "int"),
}

// Registers: y, the block pointer, the activations' values, scales and
// sums at the current block, n, blocks left in the row, and scratch.
const (
	rY, rW, rX, rXS, rSum, rN, rBlocks = "R0", "R1", "R2", "R3", "R4", "R5", "R6"
	rSumi                              = "R7" // the super-block's integer sum
	rT0, rT1, rT2, rT3, rT4            = "R8", "R9", "R10", "R11", "R12"
	rQ                                 = "R13" // the block's codes
	rSc0, rSc1, rMn0, rMn1             = "R14", "R15", "R16", "R17"

	// F registers, the low lanes of V0-V3, which no vector operation
	// touches: the row's sum, d·xs, dmin·xs, then xs and scratch.
	fRow, fD, fDmin, fXS, fT = 0, 1, 2, 3, 3
)

// Vector registers: x of a chunk in V16-V19, codes in V4-V7, dot scratch
// in V8-V13, constants in V28-V31.
const (
	vX, vQ, vDot, vTmp V = 16, 4, 8, 12
	vNibble, vThirty2  V = 31, 30 // 0x0f and 32 in every byte
	vHigh              V = 29     // 0x30 in every byte
	vEight, vSixteen   V = 28, 27
	// A family's own constants, made by its setup: Q5_0's and Q5_1's
	// spreads of qh's bytes eight apiece and each byte's bit; Q2_K's and
	// Q3_K's 3 and 4 in every byte; the IQ4 types' levels.
	vSpreadLo, vSpreadHi, vBits V = 14, 15, 22
	vThree, vFour               V = 14, 15
	vLevels                     V = 14
)

// product is one way to multiply 32 bytes: dot emits acc = Σ of the int32
// products of q, q+1 with x, x+1 in acc's four lanes.
type product struct {
	suffix, needs string
	dot           func(f *File, acc, q, x V)
}

var sdot = product{
	suffix: "NEONDot",
	needs:  "It needs the dotprod extension (cpu.ARM64.HasASIMDDP).",
	dot: func(f *File, acc, q, x V) {
		f.Zero(acc)
		f.Inst(SDot(acc, q, x))
		f.Inst(SDot(acc, q+1, x+1))
	},
}

var widening = product{
	suffix: "NEON",
	needs:  "It runs on every ARMv8.0 core: widening multiplies, no dotprod.",
	dot: func(f *File, acc, q, x V) {
		t := vTmp
		for i := range V(2) {
			f.Inst(SMull(B8, t, q+i, x+i))
			f.Inst(SMull(B16, t+1, q+i, x+i))
			if i == 0 {
				f.Inst(SAddLP(H8, acc, t))
			} else {
				f.Inst(SAdaLP(H8, acc, t))
			}
			f.Inst(SAdaLP(H8, acc, t+1))
		}
	},
}

// blockType is one GGUF block type's NEON body: it adds the super-block
// at rW to F0, the row's sum.
type blockType struct {
	name, meaning        string
	blockLen, blockBytes int
	setup                func(f *File) // constants of the body; may be nil
	body                 func(f *File, p product)
}

func matVec(f *File, t blockType, p product) {
	name := t.name + "MatVec" + p.suffix
	fn := f.Func(name, []string{
		name + " computes y = W·x for a " + t.name + " matrix W [n×k] of GGUF blocks and x",
		"quantized by kernels.QuantizeActivations (kernels.QuantMatVec):",
		"",
		"\tfor j := 0; j < n; j++ {",
		"\t\tvar s float32",
		fmt.Sprintf("\t\tfor b := 0; b < k/%d; b++ {", t.blockLen),
		"\t\t\ts += " + t.meaning + "(block b of row j, x's block b)",
		"\t\t}",
		"\t\ty[j] = s",
		"\t}",
		"",
		fmt.Sprintf("with exact integer sums. k is a positive multiple of %d and n ≥ 1.", t.blockLen),
		p.needs,
	}, matVecParams, nil)
	f.Op("MOVD %s, %s", fn.Base("y"), rY)
	f.Op("MOVD %s, %s", fn.Base("w"), rW)
	f.Op("MOVD %s, %s", fn.Arg("n"), rN)
	f.Op("VMOVI $15, V%d.B16", vNibble)
	f.Op("VMOVI $32, V%d.B16", vThirty2)
	f.Op("VMOVI $48, V%d.B16", vHigh)
	f.Op("VMOVI $8, V%d.B16", vEight)
	f.Op("VMOVI $16, V%d.B16", vSixteen)
	if t.setup != nil {
		t.setup(f)
	}
	f.Label("row")
	f.Op("MOVD %s, %s", fn.Base("xq"), rX)
	f.Op("MOVD %s, %s", fn.Base("xs"), rXS)
	f.Op("MOVD %s, %s", fn.Base("xsum"), rSum)
	f.Op("MOVD %s, %s", fn.Arg("k"), rBlocks)
	shift := 5
	if t.blockLen == 256 {
		shift = 8
	}
	f.Op("LSR $%d, %s, %s", shift, rBlocks, rBlocks)
	f.Op("FMOVS ZR, F%d", fRow)
	f.Label("block")
	t.body(f, p)
	f.Op("ADD $%d, %s, %s", t.blockBytes, rW, rW)
	f.Op("SUBS $1, %s, %s", rBlocks, rBlocks)
	f.Op("BNE block")
	f.Op("FMOVS.P F%d, 4(%s)", fRow, rY)
	f.Op("SUBS $1, %s, %s", rN, rN)
	f.Op("BNE row")
	f.Op("RET")
}

// half loads the fp16 at off(rW) into F reg as float32.
func half(f *File, off, reg int) {
	f.Op("MOVHU %d(%s), %s", off, rW, rT0)
	f.Op("FMOVS %s, F%d", rT0, reg)
	f.Op("FCVTHS F%d, F%d", reg, reg)
}

// dot32 leaves Σ q·x over 32 values (codes in vQ, vQ+1; x in x, x+1) in
// rT1.
func dot32(f *File, p product, x V) {
	p.dot(f, vDot, vQ, x)
	f.Inst(AddV(vDot, vDot))
	f.Op("VMOV V%d.S[0], %s", vDot, rT1)
}

// dotGroup leaves Σ q·x over the 16 bytes of q and x in rT1.
func dotGroup(f *File, p product, q, x V) {
	if p.suffix == sdot.suffix {
		f.Zero(vDot)
		f.Inst(SDot(vDot, q, x))
	} else {
		f.Inst(SMull(B8, vTmp, q, x))
		f.Inst(SMull(B16, vTmp+1, q, x))
		f.Inst(SAddLP(H8, vDot, vTmp))
		f.Inst(SAdaLP(H8, vDot, vTmp+1))
	}
	f.Inst(AddV(vDot, vDot))
	f.Op("VMOV V%d.S[0], %s", vDot, rT1)
}

// bitTo moves bit from of every byte of src to bit to in dst (the other
// bits shift along; the caller masks).
func bitTo(f *File, src, dst V, from, to int) {
	switch shift := to - from; {
	case shift > 0:
		f.Op("VSHL $%d, V%d.B16, V%d.B16", shift, src, dst)
	case shift < 0:
		f.Op("VUSHR $%d, V%d.B16, V%d.B16", -shift, src, dst)
	default:
		f.Op("VORR V%d.B16, V%d.B16, V%d.B16", src, src, dst)
	}
}

// nibbles loads the 16 bytes at off(rW) and leaves their low nibbles in
// vQ and their high ones in vQ+1: values 0..15 and 16..31.
func nibbles(f *File, off int) {
	f.Op("ADD $%d, %s, %s", off, rW, rQ)
	f.Op("VLD1 (%s), [V%d.B16]", rQ, vQ+2)
	f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vNibble, vQ+2, vQ)
	f.Op("VUSHR $4, V%d.B16, V%d.B16", vQ+2, vQ+1)
}

// superScales reads the next activation scale xs, then leaves d·xs in fD
// (d the fp16 at byte dOff of the block) and, unless dminOff < 0,
// dmin·xs in fDmin.
func superScales(f *File, dOff, dminOff int) {
	f.Op("FMOVS.P 4(%s), F%d", rXS, fXS)
	half(f, dOff, fD)
	if dminOff >= 0 {
		half(f, dminOff, fDmin)
	}
	f.Op("FMULS F%d, F%d, F%d", fXS, fD, fD)
	if dminOff >= 0 {
		f.Op("FMULS F%d, F%d, F%d", fXS, fDmin, fDmin)
	}
}

// addSuperBlock adds a (super-)block to the row's sum: fRow +=
// float32(sumi)·fD, less fDmin (dmin·xs·Σ m·xsum) where the type has mins.
func addSuperBlock(f *File, withMin bool) {
	f.Op("SCVTFWS %s, F%d", rSumi, fT)
	f.Op("FMULS F%d, F%d, F%d", fT, fD, fD)
	if withMin {
		f.Op("FSUBS F%d, F%d, F%d", fDmin, fD, fD)
	}
	f.Op("FADDS F%d, F%d, F%d", fD, fRow, fRow)
}

// scaleMins multiplies fDmin (dmin·xs) by Σ m·xsum, whose int32 partial
// sums are in the four lanes of V(v): fDmin = dmin·xs·Σ mins.
func scaleMins(f *File, v V) {
	f.Inst(AddV(v, v))
	f.Op("VMOV V%d.S[0], %s", v, rT0)
	f.Op("SCVTFWS %s, F%d", rT0, fT)
	f.Op("FMULS F%d, F%d, F%d", fT, fDmin, fDmin)
}
