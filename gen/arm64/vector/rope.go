package main

import (
	. "github.com/goformer/goformer/gen/arm64"
)

func ropeHalf(f *File) {
	fn := f.Func("RoPEHalfNEON", []string{
		"RoPEHalfNEON is GPT-NeoX's rotate-half RoPE over one head:",
		"",
		"\th := len(x) / 2",
		"\tfor i := 0; i < h; i++ {",
		"\t\ta, b := x[i], x[i+h]",
		"\t\tx[i] = a*cos[i] + b*sin[i]",
		"\t\tx[i+h] = b*cos[i+h] + a*sin[i+h]",
		"\t}",
		"",
		"cos and sin are as long as x; len(x) is even and not 0.",
	}, params(f32s, "x", "cos", "sin"), nil)
	f.Op("MOVD %s, R0", fn.Base("x"))
	f.Op("MOVD %s, R3", fn.Len("x"))
	f.Op("MOVD %s, R2", fn.Base("cos"))
	f.Op("MOVD %s, R5", fn.Base("sin"))
	f.Op("LSR $1, R3")
	f.Comment("R1, R4, R6: the second halves of x, cos and sin.")
	f.Op("ADD R3<<2, R0, R1")
	f.Op("ADD R3<<2, R2, R4")
	f.Op("ADD R3<<2, R5, R6")
	Stream{Prefix: "ropeh", Count: "R3", Wide: 2, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS (R0), F0")
			f.Op("FMOVS (R1), F1")
			f.Op("FMOVS.P 4(R2), F2")
			f.Op("FMOVS.P 4(R4), F3")
			f.Op("FMOVS.P 4(R5), F4")
			f.Op("FMOVS.P 4(R6), F5")
			f.Op("FMULS F2, F0, F6")
			f.Op("FMADDS F4, F6, F1, F6") // F6 += b*sin
			f.Op("FMULS F3, F1, F7")
			f.Op("FMADDS F5, F7, F0, F7") // F7 += a*sin'
			f.Op("FMOVS.P F6, 4(R0)")
			f.Op("FMOVS.P F7, 4(R1)")
			return
		}
		f.Op("VLD1 (R0), %s", List(0, k))
		f.Op("VLD1 (R1), %s", List(2, k))
		f.Op("VLD1.P %d(R2), %s", 16*k, List(4, k))
		f.Op("VLD1.P %d(R4), %s", 16*k, List(6, k))
		f.Op("VLD1.P %d(R5), %s", 16*k, List(8, k))
		f.Op("VLD1.P %d(R6), %s", 16*k, List(10, k))
		for i := range V(k) {
			f.Inst(FMul(S4, 12+i, i, 4+i))
			f.Inst(FMla(S4, 12+i, 2+i, 8+i))
			f.Inst(FMul(S4, 14+i, 2+i, 6+i))
			f.Inst(FMla(S4, 14+i, i, 10+i))
		}
		f.Op("VST1.P %s, %d(R0)", List(12, k), 16*k)
		f.Op("VST1.P %s, %d(R1)", List(14, k), 16*k)
	}}.Emit(f)
	f.Op("RET")
}

func ropeInterleaved(f *File) {
	fn := f.Func("RoPEInterleavedNEON", []string{
		"RoPEInterleavedNEON is GPT-J's interleaved RoPE over one head:",
		"",
		"\tfor i := 0; i+1 < len(x); i += 2 {",
		"\t\ta, b := x[i], x[i+1]",
		"\t\tx[i] = a*cos[i] + b*sin[i]",
		"\t\tx[i+1] = b*cos[i+1] + a*sin[i+1]",
		"\t}",
		"",
		"computed as x*cos + swapPairs(x)*sin (REV64 swaps the pairs), four",
		"vectors at a time, then one, then the last pair in a 64-bit register.",
		"cos and sin are as long as x; len(x) is even and not 0.",
	}, params(f32s, "x", "cos", "sin"), nil)
	f.Op("MOVD %s, R0", fn.Base("x"))
	f.Op("MOVD %s, R3", fn.Len("x"))
	f.Op("MOVD %s, R1", fn.Base("cos"))
	f.Op("MOVD %s, R2", fn.Base("sin"))
	loop := func(label, next string, k int) {
		f.Label(label)
		f.Op("CMP $%d, R3", 4*k)
		f.Op("BLT %s", next)
		f.Op("VLD1 (R0), %s", List(0, k))
		f.Op("VLD1.P %d(R1), %s", 16*k, List(4, k))
		f.Op("VLD1.P %d(R2), %s", 16*k, List(8, k))
		for i := range V(k) {
			f.Op("VREV64 %s, %s", i.S4(), (12 + i).S4())
			f.Inst(FMul(S4, i, i, 4+i))
			f.Inst(FMla(S4, i, 12+i, 8+i))
		}
		f.Op("VST1.P %s, %d(R0)", List(0, k), 16*k)
		f.Op("SUB $%d, R3", 4*k)
		f.Op("B %s", label)
	}
	loop("ropeiwide", "ropeivec", 4)
	loop("ropeivec", "ropeipair", 1)
	f.Label("ropeipair")
	f.Op("CBZ R3, ropeidone")
	f.Op("FMOVD (R0), F0")
	f.Op("FMOVD (R1), F4")
	f.Op("FMOVD (R2), F8")
	f.Op("VREV64 V0.S2, V12.S2")
	f.Inst(FMul(S2, 0, 0, 4))
	f.Inst(FMla(S2, 0, 12, 8))
	f.Op("FMOVD F0, (R0)")
	f.Label("ropeidone")
	f.Op("RET")
}
