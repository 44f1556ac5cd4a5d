// Command kquant writes the NEON kernels of goformer's blocked GGUF types
// (kernels/quant.go) to asm/kquant_arm64.s and their Go declarations to
// asm/kquant_arm64.go: the matrix-vector products of Q4_K and Q6_K, the
// types of a Q4_K_M file, and of Q4_0 and Q5_0 (Q5_0 is what Q4_K_M files
// hold where a row is not whole super-blocks), once with SDOT (the dotprod
// extension) and once with widening multiplies for ARMv8.0 cores.
//
// Assembly because Go cannot reach the byte multiplies (SDOT, SMULL), and
// a Q4_K_M decode step is these products over every weight.
//
// Every code is a signed byte here (Q4_K's 0..15, Q6_K's q − 32, Q4_0's
// q − 8, Q5_0's q − 16), and every
// integer sum is exact: SDOT adds four byte products into an int32 lane;
// the widening path multiplies bytes into int16 lanes (|q·x| ≤ 32·127 fits)
// and adds adjacent pairs into int32 lanes, never summing in int16. Each
// sub-block's sum is reduced to a scalar and multiplied by its integer
// scale in a general register, as the generic twin does; the float32 work
// is per super-block and scalar. A tier's GEMM runs this GEMV row by row,
// so its rows equal it bit for bit.
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
	for _, t := range []blockType{q4_0, q5_0, q4K, q6K} {
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
	// Q5_0's: qh's bytes spread eight apiece, and each byte's bit.
	vSpreadLo, vSpreadHi, vBits V = 14, 15, 22
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

// subBlock adds sc·Σ q·x over 32 values (codes in vQ, vQ+1; x in x, x+1)
// to rSumi, sc being byte lane of the scale word sc.
func subBlock(f *File, p product, x V, sc string, lane int) {
	p.dot(f, vDot, vQ, x)
	f.Inst(AddV(vDot, vDot))
	f.Op("VMOV V%d.S[0], %s", vDot, rT1)
	f.Op("UBFX $%d, %s, $8, %s", 8*lane, sc, rT2)
	f.Op("MADDW %s, %s, %s, %s", rT2, rSumi, rT1, rSumi)
}

// legacy is the body of Q4_0 and Q5_0: d (fp16), the codes of 32 values
// as signed bytes in vQ, vQ+1 (codes sets them up), their product with the
// block's x, scaled by d·xs.
func legacy(f *File, p product, codes func()) {
	f.Op("FMOVS.P 4(%s), F%d", rXS, fXS)
	half(f, 0, fD)
	f.Op("FMULS F%d, F%d, F%d", fXS, fD, fD)
	f.Op("ADD $2, %s, %s", rSum, rSum) // no sums
	codes()
	f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rX, vX, vX+1)
	p.dot(f, vDot, vQ, vX)
	f.Inst(AddV(vDot, vDot))
	f.Op("VMOV V%d.S[0], %s", vDot, rT1)
	f.Op("SCVTFWS %s, F%d", rT1, fT)
	f.Op("FMULS F%d, F%d, F%d", fT, fD, fD)
	f.Op("FADDS F%d, F%d, F%d", fD, fRow, fRow)
}

// nibbles loads the 16 bytes at off(rW) and leaves their low nibbles in
// vQ and their high ones in vQ+1: values 0..15 and 16..31.
func nibbles(f *File, off int) {
	f.Op("ADD $%d, %s, %s", off, rW, rQ)
	f.Op("VLD1 (%s), [V%d.B16]", rQ, vQ+2)
	f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vNibble, vQ+2, vQ)
	f.Op("VUSHR $4, V%d.B16, V%d.B16", vQ+2, vQ+1)
}

// q4_0: d, then 16 bytes of nibbles; the code is q − 8.
var q4_0 = blockType{name: "Q4_0", meaning: "dotQ4_0", blockLen: 32, blockBytes: 18, body: func(f *File, p product) {
	legacy(f, p, func() {
		nibbles(f, 2)
		for b := range V(2) {
			f.Op("VSUB V%d.B16, V%d.B16, V%d.B16", vEight, vQ+b, vQ+b)
		}
	})
}}

// q5_0: d, the fifth bits qh (bit j for value j), then the low nibbles;
// the code is (low | fifth << 4) − 16.
var q5_0 = blockType{name: "Q5_0", meaning: "dotQ5_0", blockLen: 32, blockBytes: 22, setup: func(f *File) {
	f.Op("MOVD $0x0101010101010101, %s", rT0)
	f.Op("VMOV ZR, V%d.D[0]", vSpreadLo)
	f.Op("VMOV %s, V%d.D[1]", rT0, vSpreadLo)
	f.Op("MOVD $0x0202020202020202, %s", rT1)
	f.Op("VMOV %s, V%d.D[0]", rT1, vSpreadHi)
	f.Op("MOVD $0x0303030303030303, %s", rT1)
	f.Op("VMOV %s, V%d.D[1]", rT1, vSpreadHi)
	f.Op("MOVD $0x8040201008040201, %s", rT1)
	f.Op("VMOV %s, V%d.D[0]", rT1, vBits)
	f.Op("VMOV %s, V%d.D[1]", rT1, vBits)
}, body: func(f *File, p product) {
	legacy(f, p, func() {
		nibbles(f, 6)
		f.Op("MOVWU 2(%s), %s", rW, rT0)
		f.Op("VMOV %s, V%d.S[0]", rT0, vQ+3)
		for b, spread := range []V{vSpreadLo, vSpreadHi} {
			q := vQ + V(b)
			f.Op("VTBL V%d.B16, [V%d.B16], V%d.B16", spread, vQ+3, vQ+2)
			f.Op("VCMTST V%d.B16, V%d.B16, V%d.B16", vBits, vQ+2, vQ+2)
			f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vSixteen, vQ+2, vQ+2)
			f.Op("VORR V%d.B16, V%d.B16, V%d.B16", vQ+2, q, q)
			f.Op("VSUB V%d.B16, V%d.B16, V%d.B16", vSixteen, q, q)
		}
	})
}}

// q4K: d, dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles;
// bytes 32j.. hold values 64j.. (low, scale 2j) and 64j+32.. (high, 2j+1).
var q4K = blockType{name: "Q4_K", meaning: "dotQ4_K", blockLen: 256, blockBytes: 144, body: func(f *File, p product) {
	f.Op("FMOVS.P 4(%s), F%d", rXS, fXS)
	half(f, 0, fD)
	half(f, 2, fDmin)
	f.Op("FMULS F%d, F%d, F%d", fXS, fD, fD)
	f.Op("FMULS F%d, F%d, F%d", fXS, fDmin, fDmin)
	// The scales and mins as four words of bytes (U0..U2 the 12 bytes):
	// sc0-3 = U0 & 63, sc4-7 = U2 & 15 | (U0 >> 6 & 3) << 4,
	// mn0-3 = U1 & 63, mn4-7 = U2 >> 4 & 15 | (U1 >> 6 & 3) << 4.
	f.Op("MOVWU 4(%s), %s", rW, rT0)
	f.Op("MOVWU 8(%s), %s", rW, rT1)
	f.Op("MOVWU 12(%s), %s", rW, rT2)
	f.Op("ANDW $0x3f3f3f3f, %s, %s", rT0, rSc0)
	f.Op("ANDW $0x3f3f3f3f, %s, %s", rT1, rMn0)
	f.Op("LSRW $6, %s, %s", rT0, rT3)
	f.Op("ANDW $0x03030303, %s, %s", rT3, rT3)
	f.Op("ANDW $0x0f0f0f0f, %s, %s", rT2, rSc1)
	f.Op("ORRW %s<<4, %s, %s", rT3, rSc1, rSc1)
	f.Op("LSRW $6, %s, %s", rT1, rT3)
	f.Op("ANDW $0x03030303, %s, %s", rT3, rT3)
	f.Op("LSRW $4, %s, %s", rT2, rMn1)
	f.Op("ANDW $0x0f0f0f0f, %s, %s", rMn1, rMn1)
	f.Op("ORRW %s<<4, %s, %s", rT3, rMn1, rMn1)
	// Σ mn_s·(xsum[2s] + xsum[2s+1]): pairwise sums of the 16 sums, times
	// the mins widened to int16, added across.
	f.Op("VLD1.P 32(%s), [V8.H8, V9.H8]", rSum)
	f.Op("VADDP V9.H8, V8.H8, V10.H8")
	f.Op("VMOV %s, V11.S[0]", rMn0)
	f.Op("VMOV %s, V11.S[1]", rMn1)
	f.Op("VUXTL V11.B8, V11.H8")
	f.Inst(SMull(H4, 8, 10, 11))
	f.Inst(SMlal(H8, 8, 10, 11))
	f.Inst(AddV(8, 8))
	f.Op("VMOV V8.S[0], %s", rT0)
	f.Op("SCVTFWS %s, F%d", rT0, fT)
	f.Op("FMULS F%d, F%d, F%d", fT, fDmin, fDmin) // dmin·xs·Σ mins

	f.Op("MOVW ZR, %s", rSumi)
	f.Op("ADD $16, %s, %s", rW, rQ)
	for j := range 4 {
		f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rQ, vQ+2, vQ+3)
		f.Op("VLD1.P 64(%s), [V%d.B16, V%d.B16, V%d.B16, V%d.B16]", rX, vX, vX+1, vX+2, vX+3)
		sc := rSc0
		if j >= 2 {
			sc = rSc1
		}
		f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vNibble, vQ+2, vQ)
		f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vNibble, vQ+3, vQ+1)
		subBlock(f, p, vX, sc, (2*j)%4)
		f.Op("VUSHR $4, V%d.B16, V%d.B16", vQ+2, vQ)
		f.Op("VUSHR $4, V%d.B16, V%d.B16", vQ+3, vQ+1)
		subBlock(f, p, vX+2, sc, (2*j+1)%4)
	}
	f.Op("SCVTFWS %s, F%d", rSumi, fT)
	f.Op("FMULS F%d, F%d, F%d", fT, fD, fD)
	f.Op("FSUBS F%d, F%d, F%d", fDmin, fD, fD)
	f.Op("FADDS F%d, F%d, F%d", fD, fRow, fRow)
}}

// q6K: 128 bytes of low nibbles ql, 64 of high bit pairs qh, 16 int8
// scales of 16 values, d. Quarter i of half h (values 128h+32i..) has the
// low nibbles of ql[64h+32(i%2)..] (high nibbles for i ≥ 2) and bit pair i
// of qh[32h..]; the code q − 32 is a signed byte.
var q6K = blockType{name: "Q6_K", meaning: "dotQ6_K", blockLen: 256, blockBytes: 210, body: func(f *File, p product) {
	f.Op("FMOVS.P 4(%s), F%d", rXS, fXS)
	half(f, 208, fD)
	f.Op("FMULS F%d, F%d, F%d", fXS, fD, fD)
	f.Op("ADD $32, %s, %s", rSum, rSum) // Q6_K needs no sums
	f.Op("MOVW ZR, %s", rSumi)
	f.Op("ADD $192, %s, %s", rW, rQ)
	f.Op("VLD1 (%s), [V26.B16]", rQ) // the scales
	f.Op("MOVD %s, %s", rW, rQ)
	const ql, qh = 20, 24 // V20-V23: ql of a half; V24-V25: its qh
	for h := range 2 {
		f.Op("VLD1.P 64(%s), [V%d.B16, V%d.B16, V%d.B16, V%d.B16]", rQ, ql, ql+1, ql+2, ql+3)
		f.Op("ADD $%d, %s, %s", 128+32*h, rW, rT4)
		f.Op("VLD1 (%s), [V%d.B16, V%d.B16]", rT4, qh, qh+1)
		for i := range 4 {
			lo := V(ql + 2*(i%2))
			for b := range V(2) {
				if i < 2 {
					f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vNibble, lo+b, vQ+b)
				} else {
					f.Op("VUSHR $4, V%d.B16, V%d.B16", lo+b, vQ+b)
				}
				// Bit pair i of qh into bits 4-5.
				switch shift := 4 - 2*i; {
				case shift > 0:
					f.Op("VSHL $%d, V%d.B16, V%d.B16", shift, qh+b, vQ+2)
				case shift < 0:
					f.Op("VUSHR $%d, V%d.B16, V%d.B16", -shift, qh+b, vQ+2)
				default:
					f.Op("VORR V%d.B16, V%d.B16, V%d.B16", qh+b, qh+b, vQ+2)
				}
				f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vHigh, vQ+2, vQ+2)
				f.Op("VORR V%d.B16, V%d.B16, V%d.B16", vQ+2, vQ+b, vQ+b)
				f.Op("VSUB V%d.B16, V%d.B16, V%d.B16", vThirty2, vQ+b, vQ+b)
			}
			f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rX, vX, vX+1)
			// Two groups of 16, each with its own scale.
			for g := range 2 {
				group := 8*h + 2*i + g
				dotGroup(f, p, vQ+V(g), vX+V(g))
				f.Op("VMOV V26.B[%d], %s", group, rT2)
				f.Op("SXTBW %s, %s", rT2, rT2)
				f.Op("MADDW %s, %s, %s, %s", rT2, rSumi, rT1, rSumi)
			}
		}
	}
	f.Op("SCVTFWS %s, F%d", rSumi, fT)
	f.Op("FMULS F%d, F%d, F%d", fT, fD, fD)
	f.Op("FADDS F%d, F%d, F%d", fD, fRow, fRow)
}}

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
