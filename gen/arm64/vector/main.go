// Command vector writes the NEON row kernels (exp and softmax, LayerNorm,
// RMSNorm, GELU, SwiGLU, add, scale, dot, axpy, RoPE) to asm/vector_arm64.s and their Go
// declarations to asm/vector_arm64.go.
//
// Why assembly: Go does not vectorize, and these kernels run once per token
// per layer over rows of 768 to 50,257 values; four lanes per instruction
// and a polynomial exp are most of their cost.
package main

import (
	"flag"
	"log"

	. "github.com/goformer/goformer/gen/arm64"
)

func main() {
	out := flag.String("out", "vector_arm64.s", "assembly output")
	decl := flag.String("decl", "vector_arm64.go", "Go declarations output")
	flag.Parse()

	f := NewFile("gen/arm64/vector")
	add(f)
	scale(f)
	dot(f)
	axpy(f)
	exp(f)
	softmax(f)
	gelu(f)
	swiglu(f)
	layerNorm(f)
	rmsNorm(f)
	ropeHalf(f)
	ropeInterleaved(f)
	if err := f.Write(*out, *decl, "asm"); err != nil {
		log.Fatal(err)
	}
}

var (
	f32s = "[]float32"
	f32  = "float32"
)

func params(typ string, names ...string) []Param {
	ps := make([]Param, len(names))
	for i, n := range names {
		ps[i] = Param{Name: n, Type: typ}
	}
	return ps
}

func add(f *File) {
	fn := f.Func("AddNEON", []string{
		"AddNEON is",
		"",
		"\tfor i := range dst {",
		"\t\tdst[i] = a[i] + b[i]",
		"\t}",
		"",
		"a and b are at least as long as dst.",
	}, params(f32s, "dst", "a", "b"), nil)
	f.Op("MOVD %s, R0", fn.Base("dst"))
	f.Op("MOVD %s, R3", fn.Len("dst"))
	f.Op("MOVD %s, R1", fn.Base("a"))
	f.Op("MOVD %s, R2", fn.Base("b"))
	Stream{Prefix: "add", Count: "R3", Wide: 4, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS.P 4(R1), F0")
			f.Op("FMOVS.P 4(R2), F4")
			f.Op("FADDS F4, F0, F0")
			f.Op("FMOVS.P F0, 4(R0)")
			return
		}
		f.Op("VLD1.P %d(R1), %s", 16*k, List(0, k))
		f.Op("VLD1.P %d(R2), %s", 16*k, List(4, k))
		for i := range V(k) {
			f.Inst(FAdd(S4, i, i, 4+i))
		}
		f.Op("VST1.P %s, %d(R0)", List(0, k), 16*k)
	}}.Emit(f)
	f.Op("RET")
}

func scale(f *File) {
	fn := f.Func("ScaleNEON", []string{
		"ScaleNEON is",
		"",
		"\tfor i := range x {",
		"\t\tx[i] *= s",
		"\t}",
	}, []Param{P("x", f32s), P("s", f32)}, nil)
	f.Op("MOVD %s, R0", fn.Base("x"))
	f.Op("MOVD %s, R3", fn.Len("x"))
	f.Op("FMOVS %s, F31", fn.Arg("s"))
	f.Op("VDUP V31.S[0], V31.S4")
	Stream{Prefix: "scale", Count: "R3", Wide: 4, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS (R0), F0")
			f.Op("FMULS F31, F0, F0")
			f.Op("FMOVS.P F0, 4(R0)")
			return
		}
		f.Op("VLD1 (R0), %s", List(0, k))
		for i := range V(k) {
			f.Inst(FMul(S4, i, i, 31))
		}
		f.Op("VST1.P %s, %d(R0)", List(0, k), 16*k)
	}}.Emit(f)
	f.Op("RET")
}

// reduceSum4 adds the lanes of four accumulators from acc into acc's s
// register.
func reduceSum4(f *File, acc V) {
	f.Inst(FAdd(S4, acc, acc, acc+1))
	f.Inst(FAdd(S4, acc+2, acc+2, acc+3))
	f.Inst(FAdd(S4, acc, acc, acc+2))
	f.Sum4(acc)
}

func dot(f *File) {
	fn := f.Func("DotNEON", []string{
		"DotNEON is",
		"",
		"\tvar s float32",
		"\tfor i := range a {",
		"\t\ts += a[i] * b[i]",
		"\t}",
		"\treturn s",
		"",
		"b is at least as long as a. The sum runs in a different order.",
	}, params(f32s, "a", "b"), []Param{P("ret", f32)})
	f.Op("MOVD %s, R0", fn.Base("a"))
	f.Op("MOVD %s, R3", fn.Len("a"))
	f.Op("MOVD %s, R1", fn.Base("b"))
	f.Zero(16, 17, 18, 19)
	Stream{Prefix: "dot", Count: "R3", Wide: 4, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS.P 4(R0), F0")
			f.Op("FMOVS.P 4(R1), F4")
			f.Op("FMADDS F4, F16, F0, F16")
			return
		}
		f.Op("VLD1.P %d(R0), %s", 16*k, List(0, k))
		f.Op("VLD1.P %d(R1), %s", 16*k, List(4, k))
		for i := range V(k) {
			f.Op("VFMLA %s, %s, %s", (4 + i).S4(), i.S4(), (16 + i).S4())
		}
	}, BeforeTail: func() { reduceSum4(f, 16) }}.Emit(f)
	f.Op("FMOVS F16, %s", fn.Arg("ret"))
	f.Op("RET")
}

func axpy(f *File) {
	fn := f.Func("AxpyNEON", []string{
		"AxpyNEON is",
		"",
		"\tfor i := range x {",
		"\t\ty[i] += alpha * x[i]",
		"\t}",
		"",
		"y is at least as long as x.",
	}, []Param{P("y", f32s), P("alpha", f32), P("x", f32s)}, nil)
	f.Op("MOVD %s, R0", fn.Base("y"))
	f.Op("MOVD %s, R1", fn.Base("x"))
	f.Op("MOVD %s, R3", fn.Len("x"))
	f.Op("FMOVS %s, F31", fn.Arg("alpha"))
	f.Op("VDUP V31.S[0], V31.S4")
	Stream{Prefix: "axpy", Count: "R3", Wide: 4, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS (R0), F4")
			f.Op("FMOVS.P 4(R1), F0")
			f.Op("FMADDS F31, F4, F0, F4")
			f.Op("FMOVS.P F4, 4(R0)")
			return
		}
		f.Op("VLD1.P %d(R1), %s", 16*k, List(0, k))
		f.Op("VLD1 (R0), %s", List(4, k))
		for i := range V(k) {
			f.Op("VFMLA V31.S4, %s, %s", i.S4(), (4 + i).S4())
		}
		f.Op("VST1.P %s, %d(R0)", List(4, k), 16*k)
	}}.Emit(f)
	f.Op("RET")
}

// expBlock emits exp over k vectors (k = 0: one element in lane 0) from
// V0.. in place, using V2.. as scratch: three registers per vector, so k ≤ 2
// keeps clear of V8.
func expBlock(f *File, k int) {
	if k == 0 {
		k = 1
	}
	var seqs [][]func()
	for i := range V(k) {
		seqs = append(seqs, expSteps(f, i, 2+3*i, 3+3*i, 4+3*i))
	}
	f.Interleave(seqs...)
}

func exp(f *File) {
	fn := f.Func("ExpNEON", []string{
		"ExpNEON is",
		"",
		"\tfor i, v := range x {",
		"\t\tdst[i] = exp(v)",
		"\t}",
		"",
		"within 2 ulp of the correctly rounded result where that is a normal",
		"float32; -Inf gives 0 and large inputs +Inf. x is at least as long as",
		"dst and may be dst.",
	}, params(f32s, "dst", "x"), nil)
	f.Op("MOVD %s, R0", fn.Base("dst"))
	f.Op("MOVD %s, R3", fn.Len("dst"))
	f.Op("MOVD %s, R1", fn.Base("x"))
	loadExpConstants(f, "R4")
	Stream{Prefix: "exp", Count: "R3", Wide: 2, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS.P 4(R1), F0")
			expBlock(f, 0)
			f.Op("FMOVS.P F0, 4(R0)")
			return
		}
		f.Op("VLD1.P %d(R1), %s", 16*k, List(0, k))
		expBlock(f, k)
		f.Op("VST1.P %s, %d(R0)", List(0, k), 16*k)
	}}.Emit(f)
	f.Op("RET")
}

func softmax(f *File) {
	fn := f.Func("SoftmaxNEON", []string{
		"SoftmaxNEON is",
		"",
		"\tm := max(x...)",
		"\tvar sum float32",
		"\tfor i := range x {",
		"\t\tx[i] = exp(x[i] - m)",
		"\t\tsum += x[i]",
		"\t}",
		"\tfor i := range x {",
		"\t\tx[i] *= 1 / sum",
		"\t}",
		"",
		"with ExpNEON's exp. x must not be empty.",
	}, params(f32s, "x"), nil)
	f.Op("MOVD %s, R0", fn.Base("x"))
	f.Op("MOVD %s, R3", fn.Len("x"))

	f.Comment("The maximum, in V8-V11 and then F8, starting from x[0].")
	f.Op("VLD1R (R0), [V8.S4]")
	for _, v := range []V{9, 10, 11} {
		f.Op("VORR V8.B16, V8.B16, %s", v.B16())
	}
	f.Op("MOVD R0, R1")
	f.Op("MOVD R3, R2")
	Stream{Prefix: "max", Count: "R2", Wide: 4, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS.P 4(R1), F0")
			f.Op("FMAXS F0, F8, F8")
			return
		}
		f.Op("VLD1.P %d(R1), %s", 16*k, List(0, k))
		for i := range V(k) {
			f.Inst(FMax(S4, 8+i, 8+i, i))
		}
	}, BeforeTail: func() {
		f.Inst(FMax(S4, 8, 8, 9))
		f.Inst(FMax(S4, 10, 10, 11))
		f.Inst(FMax(S4, 8, 8, 10))
		f.Inst(FMaxV(8, 8))
	}}.Emit(f)
	f.Op("VDUP V8.S[0], V29.S4")

	f.Comment("x[i] = exp(x[i] - max), summed in V12-V13 and F14.")
	loadExpConstants(f, "R4")
	f.Zero(12, 13, 14)
	f.Op("MOVD R0, R1")
	f.Op("MOVD R3, R2")
	Stream{Prefix: "exp", Count: "R2", Wide: 2, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS (R1), F0")
			f.Inst(FSub(S4, 0, 0, 29))
			expBlock(f, 0)
			f.Op("FMOVS.P F0, 4(R1)")
			f.Op("FADDS F0, F14, F14")
			return
		}
		f.Op("VLD1 (R1), %s", List(0, k))
		for i := range V(k) {
			f.Inst(FSub(S4, i, i, 29))
		}
		expBlock(f, k)
		f.Op("VST1.P %s, %d(R1)", List(0, k), 16*k)
		for i := range V(k) {
			f.Inst(FAdd(S4, 12+i, 12+i, i))
		}
	}, BeforeTail: func() {
		f.Inst(FAdd(S4, 12, 12, 13))
		f.Sum4(12)
	}}.Emit(f)
	f.Op("FADDS F14, F12, F12")
	f.Op("FDIVS F12, %s, F12", vOne.F()) // 1 / sum
	f.Op("VDUP V12.S[0], V12.S4")

	f.Comment("x[i] *= 1 / sum.")
	Stream{Prefix: "scale", Count: "R3", Wide: 4, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS (R0), F0")
			f.Op("FMULS F12, F0, F0")
			f.Op("FMOVS.P F0, 4(R0)")
			return
		}
		f.Op("VLD1 (R0), %s", List(0, k))
		for i := range V(k) {
			f.Inst(FMul(S4, i, i, 12))
		}
		f.Op("VST1.P %s, %d(R0)", List(0, k), 16*k)
	}}.Emit(f)
	f.Op("RET")
}

// GELU as v·sigmoid(2u) = v / (1 + exp(-2u)), u = √(2/π)·(v + 0.044715·v³):
// the same function as 0.5·v·(1 + tanh(u)), with one exp and one division
// and no cancellation, and it saturates to v and to -0 without NaN.
const (
	geluK   = 0.044715
	geluM2C = -2 * 0.7978845608028654 // -2·√(2/π)
)

func gelu(f *File) {
	fn := f.Func("GELUNEON", []string{
		"GELUNEON is GPT-2's gelu_new,",
		"",
		"\tfor i, v := range x {",
		"\t\tout[i] = 0.5 * v * (1 + tanh(sqrt(2/π) * (v + 0.044715*v*v*v)))",
		"\t}",
		"",
		"computed as v / (1 + exp(-2·sqrt(2/π)·(v + 0.044715·v³))) with",
		"ExpNEON's exp. x is at least as long as out and may be out.",
	}, params(f32s, "out", "x"), nil)
	f.Op("MOVD %s, R0", fn.Base("out"))
	f.Op("MOVD %s, R3", fn.Len("out"))
	f.Op("MOVD %s, R1", fn.Base("x"))
	loadExpConstants(f, "R4")
	f.Broadcast(29, geluK, "R4")
	f.Broadcast(30, geluM2C, "R4")

	// v in V8.., z = -2u and the result in V0.., scratch from V2.
	block := func(k int) {
		n := max(k, 1)
		var seqs [][]func()
		for i := range V(n) {
			v, x, t0 := 8+i, i, 2+3*i
			op := func(format string, args ...any) func() { return func() { f.Op(format, args...) } }
			in := func(i Inst) func() { return func() { f.Inst(i) } }
			pre := []func(){
				in(FMul(S4, x, v, v)),
				op("VORR %s, %s, %s", vOne.B16(), vOne.B16(), t0.B16()),
				op("VFMLA V29.S4, %s, %s", x.S4(), t0.S4()), // 1 + K·v²
				in(FMul(S4, x, v, t0)),
				in(FMul(S4, x, x, 30)),
			}
			post := []func(){
				in(FAdd(S4, x, x, vOne)),
				in(FDiv(S4, x, v, x)),
			}
			seq := append(pre, expSteps(f, x, 2+3*i, 3+3*i, 4+3*i)...)
			seqs = append(seqs, append(seq, post...))
		}
		f.Interleave(seqs...)
	}
	Stream{Prefix: "gelu", Count: "R3", Wide: 2, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS.P 4(R1), F8")
			block(0)
			f.Op("FMOVS.P F0, 4(R0)")
			return
		}
		f.Op("VLD1.P %d(R1), %s", 16*k, List(8, k))
		block(k)
		f.Op("VST1.P %s, %d(R0)", List(0, k), 16*k)
	}}.Emit(f)
	f.Op("RET")
}

func swiglu(f *File) {
	fn := f.Func("SwiGLUNEON", []string{
		"SwiGLUNEON is",
		"",
		"\tfor i := range out {",
		"\t\tout[i] = gate[i] / (1 + exp(-gate[i])) * up[i]",
		"\t}",
		"",
		"computed as written with ExpNEON's exp, which keeps it finite for large",
		"|gate|: e^(-gate) overflows to +Inf below about -88.7, giving ±0, and",
		"vanishes for large gate, giving gate·up. gate and up are at least as long as",
		"out; out may be gate or up.",
	}, params(f32s, "out", "gate", "up"), nil)
	f.Op("MOVD %s, R0", fn.Base("out"))
	f.Op("MOVD %s, R3", fn.Len("out"))
	f.Op("MOVD %s, R1", fn.Base("gate"))
	f.Op("MOVD %s, R2", fn.Base("up"))
	loadExpConstants(f, "R4")

	// gate in V8.., up in V10.., -gate, its exp and the result in V0..,
	// scratch from V2. Both inputs are loaded before the store, so out may
	// alias either.
	block := func(k int) {
		n := max(k, 1)
		var seqs [][]func()
		for i := range V(n) {
			g, u, x := 8+i, 10+i, i
			in := func(i Inst) func() { return func() { f.Inst(i) } }
			seq := []func(){in(FNeg(S4, x, g))} // exact, NaN and ±0 included
			seq = append(seq, expSteps(f, x, 2+3*i, 3+3*i, 4+3*i)...)
			seqs = append(seqs, append(seq,
				in(FAdd(S4, x, x, vOne)),
				in(FDiv(S4, x, g, x)),
				in(FMul(S4, x, x, u)),
			))
		}
		f.Interleave(seqs...)
	}
	Stream{Prefix: "swiglu", Count: "R3", Wide: 2, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS.P 4(R1), F8")
			f.Op("FMOVS.P 4(R2), F10")
			block(0)
			f.Op("FMOVS.P F0, 4(R0)")
			return
		}
		f.Op("VLD1.P %d(R1), %s", 16*k, List(8, k))
		f.Op("VLD1.P %d(R2), %s", 16*k, List(10, k))
		block(k)
		f.Op("VST1.P %s, %d(R0)", List(0, k), 16*k)
	}}.Emit(f)
	f.Op("RET")
}

// rowSum emits the first pass of a norm over the row at R1 (R4 elements):
// the sum of term(V) over the row, into F16. term turns the loaded vector
// in place (or the element in lane 0 when scalar) into what is summed; sq
// squares it, so the accumulation is an FMLA.
func rowSum(f *File, prefix string, scalar, vector func(v V), square bool) {
	f.Op("MOVD R1, R6")
	f.Op("MOVD R4, R7")
	f.Zero(16, 17, 18, 19, 20)
	Stream{Prefix: prefix, Count: "R7", Wide: 4, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS.P 4(R6), F0")
			scalar(0)
			if square {
				f.Op("FMADDS F0, F20, F0, F20")
			} else {
				f.Op("FADDS F0, F20, F20")
			}
			return
		}
		f.Op("VLD1.P %d(R6), %s", 16*k, List(0, k))
		for i := range V(k) {
			vector(i)
			if square {
				f.Op("VFMLA %s, %s, %s", i.S4(), i.S4(), (16 + i).S4())
			} else {
				f.Inst(FAdd(S4, 16+i, 16+i, i))
			}
		}
	}, BeforeTail: func() { reduceSum4(f, 16) }}.Emit(f)
	f.Op("FADDS F20, F16, F16")
}

// normPrologue loads the arguments common to LayerNorm and RMSNorm: R0 out,
// R1 x, R2 gain, R4 d = len(gain), R5 len(x), F30 eps, F31 d as a float,
// F29 1.0.
func normPrologue(f *File, fn *Func) {
	f.Op("MOVD %s, R0", fn.Base("out"))
	f.Op("MOVD %s, R1", fn.Base("x"))
	f.Op("MOVD %s, R5", fn.Len("x"))
	f.Op("MOVD %s, R2", fn.Base("gain"))
	f.Op("MOVD %s, R4", fn.Len("gain"))
	f.Op("FMOVS %s, F30", fn.Arg("eps"))
	f.Op("SCVTFS R4, F31")
	f.Op("FMOVS $(1.0), F29")
}

// rowNext moves R1 to the next row and loops to row while rows are left.
func rowNext(f *File) {
	f.Op("ADD R4<<2, R1, R1")
	f.Op("SUB R4, R5, R5")
	f.Op("B row")
}

func layerNorm(f *File) {
	fn := f.Func("LayerNormNEON", []string{
		"LayerNormNEON is, with d = len(gain) features to a row,",
		"",
		"\tfor r := 0; r < len(x); r += d {",
		"\t\tmean := Σ x[r+i] / d",
		"\t\tvariance := Σ (x[r+i]-mean)² / d",
		"\t\tfor i := 0; i < d; i++ {",
		"\t\t\tout[r+i] = (x[r+i]-mean) / sqrt(variance+eps) * gain[i] + bias[i]",
		"\t\t}",
		"\t}",
		"",
		"len(x) is a positive multiple of d, out is as long as x and may be x,",
		"and bias is as long as gain.",
	}, []Param{P("out", f32s), P("x", f32s), P("gain", f32s), P("bias", f32s), P("eps", f32)}, nil)
	normPrologue(f, fn)
	f.Op("MOVD %s, R3", fn.Base("bias"))
	f.Label("row")
	f.Op("CBZ R5, done")

	f.Comment("The mean, in F21 and broadcast to V21.")
	rowSum(f, "mean", func(V) {}, func(V) {}, false)
	f.Op("FDIVS F31, F16, F21")
	f.Op("VDUP V21.S[0], V21.S4")

	f.Comment("The inverse standard deviation, from the centred values, in V22.")
	rowSum(f, "var",
		func(V) { f.Op("FSUBS F21, F0, F0") },
		func(v V) { f.Inst(FSub(S4, v, v, 21)) }, true)
	f.Op("FDIVS F31, F16, F16")
	f.Op("FADDS F30, F16, F16")
	f.Op("FSQRTS F16, F16")
	f.Op("FDIVS F16, F29, F22")
	f.Op("VDUP V22.S[0], V22.S4")

	f.Comment("out = (x - mean) * inv * gain + bias.")
	f.Op("MOVD R1, R6")
	f.Op("MOVD R2, R8")
	f.Op("MOVD R3, R9")
	f.Op("MOVD R4, R7")
	Stream{Prefix: "out", Count: "R7", Wide: 2, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS.P 4(R6), F0")
			f.Op("FMOVS.P 4(R8), F2")
			f.Op("FMOVS.P 4(R9), F4")
			f.Op("FSUBS F21, F0, F0")
			f.Op("FMULS F22, F0, F0")
			f.Op("FMADDS F2, F4, F0, F4")
			f.Op("FMOVS.P F4, 4(R0)")
			return
		}
		f.Op("VLD1.P %d(R6), %s", 16*k, List(0, k))
		f.Op("VLD1.P %d(R8), %s", 16*k, List(2, k))
		f.Op("VLD1.P %d(R9), %s", 16*k, List(4, k))
		for i := range V(k) {
			f.Inst(FSub(S4, i, i, 21))
			f.Inst(FMul(S4, i, i, 22))
			f.Op("VFMLA %s, %s, %s", (2 + i).S4(), i.S4(), (4 + i).S4())
		}
		f.Op("VST1.P %s, %d(R0)", List(4, k), 16*k)
	}}.Emit(f)
	rowNext(f)
	f.Label("done")
	f.Op("RET")
}

func rmsNorm(f *File) {
	fn := f.Func("RMSNormNEON", []string{
		"RMSNormNEON is, with d = len(gain) features to a row,",
		"",
		"\tfor r := 0; r < len(x); r += d {",
		"\t\tms := Σ x[r+i]² / d",
		"\t\tfor i := 0; i < d; i++ {",
		"\t\t\tout[r+i] = x[r+i] / sqrt(ms+eps) * gain[i]",
		"\t\t}",
		"\t}",
		"",
		"len(x) is a positive multiple of d; out is as long as x and may be x.",
	}, []Param{P("out", f32s), P("x", f32s), P("gain", f32s), P("eps", f32)}, nil)
	normPrologue(f, fn)
	f.Label("row")
	f.Op("CBZ R5, done")

	f.Comment("The inverse root mean square, in V22.")
	rowSum(f, "ss", func(V) {}, func(V) {}, true)
	f.Op("FDIVS F31, F16, F16")
	f.Op("FADDS F30, F16, F16")
	f.Op("FSQRTS F16, F16")
	f.Op("FDIVS F16, F29, F22")
	f.Op("VDUP V22.S[0], V22.S4")

	f.Comment("out = x * inv * gain.")
	f.Op("MOVD R1, R6")
	f.Op("MOVD R2, R8")
	f.Op("MOVD R4, R7")
	Stream{Prefix: "out", Count: "R7", Wide: 2, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS.P 4(R6), F0")
			f.Op("FMOVS.P 4(R8), F2")
			f.Op("FMULS F22, F0, F0")
			f.Op("FMULS F2, F0, F0")
			f.Op("FMOVS.P F0, 4(R0)")
			return
		}
		f.Op("VLD1.P %d(R6), %s", 16*k, List(0, k))
		f.Op("VLD1.P %d(R8), %s", 16*k, List(2, k))
		for i := range V(k) {
			f.Inst(FMul(S4, i, i, 22))
			f.Inst(FMul(S4, i, i, 2+i))
		}
		f.Op("VST1.P %s, %d(R0)", List(0, k), 16*k)
	}}.Emit(f)
	rowNext(f)
	f.Label("done")
	f.Op("RET")
}
