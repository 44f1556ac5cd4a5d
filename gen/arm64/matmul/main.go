// Command matmul writes the NEON matrix kernels (the GEMV of a decode step
// and the GEMM micro-kernel of a prefill) to asm/matmul_arm64.s and their Go
// declarations to asm/matmul_arm64.go.
//
// Why assembly: these two loops are nearly all of a forward pass's
// arithmetic, and Go neither vectorizes nor emits FMLA by element.
package main

import (
	"flag"
	"fmt"
	"log"

	. "github.com/goformer/goformer/gen/arm64"
)

func main() {
	out := flag.String("out", "matmul_arm64.s", "assembly output")
	decl := flag.String("decl", "matmul_arm64.go", "Go declarations output")
	flag.Parse()

	f := NewFile("gen/arm64/matmul")
	gemv(f)
	gemmKernel(f)
	panelGemv(f)
	if err := f.Write(*out, *decl, "asm"); err != nil {
		log.Fatal(err)
	}
}

const f32s = "[]float32"

// gemvRows is how many rows of W one pass of the GEMV streams: x is loaded
// once per pass and each row has its own accumulators.
const gemvRows = 4

func gemv(f *File) {
	fn := f.Func("GemvNEON", []string{
		"GemvNEON is, with n = len(y) and k = len(x),",
		"",
		"\tfor j := 0; j < n; j++ {",
		"\t\ts := bias[j] // 0 when bias is empty",
		"\t\tfor p := 0; p < k; p++ {",
		"\t\t\ts += w[j*k+p] * x[p]",
		"\t\t}",
		"\t\ty[j] = s",
		"\t}",
		"",
		"w holds at least n*k values and bias is empty or holds at least n. Each",
		"dot product is summed in a different order.",
	}, []Param{P("y", f32s), P("x", f32s), P("w", f32s), P("bias", f32s)}, nil)
	f.Op("MOVD %s, R0", fn.Base("y"))
	f.Op("MOVD %s, R1", fn.Len("y"))
	f.Op("MOVD %s, R2", fn.Base("x"))
	f.Op("MOVD %s, R3", fn.Len("x"))
	f.Op("MOVD %s, R4", fn.Base("w"))
	f.Op("MOVD %s, R5", fn.Base("bias"))
	f.Op("MOVD %s, R6", fn.Len("bias"))
	f.Op("LSL $2, R3, R7") // bytes per row of W

	// Four rows per pass: row r's pointer is R8+r, its accumulators
	// V16+2r and V17+2r, its values V2+2r and V3+2r; x is in V0-V1.
	f.Comment("Four rows at a time.")
	f.Label("rows4")
	f.Op("CMP $%d, R1", gemvRows)
	f.Op("BLT rows1")
	f.Op("MOVD R4, R8")
	for r := 1; r < gemvRows; r++ {
		f.Op("ADD R7, R%d, R%d", 7+r, 8+r)
	}
	f.Op("MOVD R2, R12")
	f.Op("MOVD R3, R13")
	f.Zero(16, 17, 18, 19, 20, 21, 22, 23)
	Stream{Prefix: "k4", Count: "R13", Wide: 2, Body: func(k int) {
		if k == 0 {
			// One element in lane 0 of x and of each row; the loads
			// clear the other lanes, which then add 0·0.
			f.Op("FMOVS.P 4(R12), F0")
			for r := range gemvRows {
				f.Op("FMOVS.P 4(R%d), F%d", 8+r, 2+2*r)
				f.Op("VFMLA V0.S4, V%d.S4, V%d.S4", 2+2*r, 16+2*r)
			}
			return
		}
		f.Op("VLD1.P %d(R12), %s", 16*k, List(0, k))
		for r := range gemvRows {
			f.Op("VLD1.P %d(R%d), %s", 16*k, 8+r, List(V(2+2*r), k))
		}
		for i := range k {
			for r := range gemvRows {
				f.Op("VFMLA V%d.S4, V%d.S4, V%d.S4", i, 2+2*r+i, 16+2*r+i)
			}
		}
	}}.Emit(f)
	// Pairwise sums gather row r's total in lane r of V16.
	for r := range V(gemvRows) {
		f.Inst(FAdd(S4, 16+2*r, 16+2*r, 17+2*r))
	}
	f.Inst(FAddP(S4, 16, 16, 18))
	f.Inst(FAddP(S4, 20, 20, 22))
	f.Inst(FAddP(S4, 16, 16, 20))
	f.Op("CBZ R6, nobias4")
	f.Op("VLD1.P 16(R5), [V1.S4]")
	f.Inst(FAdd(S4, 16, 16, 1))
	f.Label("nobias4")
	f.Op("VST1.P [V16.S4], 16(R0)")
	f.Op("ADD R7<<2, R4, R4")
	f.Op("SUB $%d, R1", gemvRows)
	f.Op("B rows4")

	f.Comment("The last rows one at a time.")
	f.Label("rows1")
	f.Op("CBZ R1, done")
	f.Op("MOVD R4, R8")
	f.Op("MOVD R2, R12")
	f.Op("MOVD R3, R13")
	f.Zero(16, 17, 18, 19)
	Stream{Prefix: "k1", Count: "R13", Wide: 4, Body: func(k int) {
		if k == 0 {
			f.Op("FMOVS.P 4(R12), F0")
			f.Op("FMOVS.P 4(R8), F4")
			f.Op("VFMLA V0.S4, V4.S4, V16.S4")
			return
		}
		f.Op("VLD1.P %d(R12), %s", 16*k, List(0, k))
		f.Op("VLD1.P %d(R8), %s", 16*k, List(4, k))
		for i := range k {
			f.Op("VFMLA V%d.S4, V%d.S4, V%d.S4", i, 4+i, 16+i)
		}
	}}.Emit(f)
	f.Inst(FAdd(S4, 16, 16, 17))
	f.Inst(FAdd(S4, 18, 18, 19))
	f.Inst(FAdd(S4, 16, 16, 18))
	f.Sum4(16)
	f.Op("CBZ R6, nobias1")
	f.Op("FMOVS.P 4(R5), F1")
	f.Op("FADDS F1, F16, F16")
	f.Label("nobias1")
	f.Op("FMOVS.P F16, 4(R0)")
	f.Op("ADD R7, R4, R4")
	f.Op("SUB $1, R1")
	f.Op("B rows1")
	f.Label("done")
	f.Op("RET")
}

// The GEMM micro-kernel's tile: mr rows of A by nr columns of W. 8×8 keeps
// its 16 accumulators in V16-V31 and needs four loads for 16 FMLAs per step.
const (
	mr = 8
	nr = 8
)

func gemmKernel(f *File) {
	name := fmt.Sprintf("GemmKernel%dx%dNEON", mr, nr)
	fn := f.Func(name, []string{
		fmt.Sprintf("%s is a GEMM micro-kernel: an %d×%d tile of c accumulated over kc", name, mr, nr),
		"steps from packed panels,",
		"",
		"\tfor p := 0; p < kc; p++ {",
		fmt.Sprintf("\t\tfor i := 0; i < %d; i++ {", mr),
		fmt.Sprintf("\t\t\tfor j := 0; j < %d; j++ {", nr),
		fmt.Sprintf("\t\t\t\tc[i*ldc+j] = fma(a[p*%d+i], b[p*%d+j], c[i*ldc+j]) // one rounding", mr, nr),
		"\t\t\t}",
		"\t\t}",
		"\t}",
		"",
		fmt.Sprintf("kc ≥ 1; a holds at least %d*kc values, b %d*kc, and c the tile.", mr, nr),
	}, []Param{P("kc", "int"), P("a", f32s), P("b", f32s), P("c", f32s), P("ldc", "int")}, nil)
	f.Op("MOVD %s, R0", fn.Arg("kc"))
	f.Op("MOVD %s, R1", fn.Base("a"))
	f.Op("MOVD %s, R2", fn.Base("b"))
	f.Op("MOVD %s, R3", fn.Base("c"))
	f.Op("MOVD %s, R4", fn.Arg("ldc"))
	f.Op("LSL $2, R4, R4")

	// Row i of the tile: pointer rowReg(i), accumulators V16+2i, V17+2i.
	rowReg := func(i int) string {
		if i == 0 {
			return "R3"
		}
		return fmt.Sprintf("R%d", 4+i)
	}
	for i := 1; i < mr; i++ {
		f.Op("ADD R4, %s, %s", rowReg(i-1), rowReg(i))
	}
	for i := range mr {
		f.Op("VLD1 (%s), %s", rowReg(i), List(V(16+2*i), nr/4))
	}
	// step multiplies the a values in V(a), V(a+1) by the b values in
	// V(b), V(b+1) into the tile.
	step := func(a, b V) {
		f.Op("VLD1.P %d(R1), %s", 4*mr, List(a, mr/4))
		f.Op("VLD1.P %d(R2), %s", 4*nr, List(b, nr/4))
		for i := range mr {
			for j := range nr / 4 {
				f.Inst(FMlaElem(V(16+2*i+j), b+V(j), a+V(i/4), i%4))
			}
		}
	}
	f.Label("loop2")
	f.Op("CMP $2, R0")
	f.Op("BLT loop1")
	step(0, 2)
	step(4, 6)
	f.Op("SUB $2, R0")
	f.Op("B loop2")
	f.Label("loop1")
	f.Op("CBZ R0, store")
	step(0, 2)
	f.Label("store")
	for i := range mr {
		f.Op("VST1 %s, (%s)", List(V(16+2*i), nr/4), rowReg(i))
	}
	f.Op("RET")
}
