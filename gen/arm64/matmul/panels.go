package main

import (
	"fmt"

	. "github.com/goformer/goformer/gen/arm64"
)

// panelGroup is how many panels one pass of the panel GEMV walks side by
// side: two accumulators per panel, and NEON cores need about eight FMLA
// chains to cover the instruction's latency.
const panelGroup = 4

// panelGemv writes the GEMV of a decode step over kernels.Panels of width
// nr (the GEMM micro-kernel's): panelGroup panels at a time, their outputs
// in V16-V23 loaded from y, four values of x per load and one FMLA by
// element per vector and step, so each output is one FMA chain over k in
// order; the last panels one at a time.
func panelGemv(f *File) {
	name := fmt.Sprintf("PanelGemv%dNEON", nr)
	fn := f.Func(name, []string{
		fmt.Sprintf("%s is the panel GEMV of a decode step, for k = len(x) and", name),
		fmt.Sprintf("len(y)/%d panels of W packed as kernels.Panels with width %d:", nr, nr),
		"",
		fmt.Sprintf("\tfor q := 0; q < len(y)/%d; q++ {", nr),
		fmt.Sprintf("\t\tfor j := 0; j < %d; j++ {", nr),
		fmt.Sprintf("\t\t\ts := y[q*%d+j]", nr),
		"\t\t\tfor p := 0; p < k; p++ {",
		fmt.Sprintf("\t\t\t\ts = fma(x[p], b[(q*k+p)*%d+j], s) // one rounding", nr),
		"\t\t\t}",
		fmt.Sprintf("\t\t\ty[q*%d+j] = s", nr),
		"\t\t}",
		"\t}",
		"",
		fmt.Sprintf("len(y) is a multiple of %d and len(b) ≥ len(y)*k; neither is checked.", nr),
	}, []Param{P("y", f32s), P("x", f32s), P("b", f32s)}, nil)
	f.Op("MOVD %s, R0", fn.Base("y"))
	f.Op("MOVD %s, R1", fn.Len("y"))
	f.Op("MOVD %s, R2", fn.Base("x"))
	f.Op("MOVD %s, R3", fn.Len("x"))
	f.Op("MOVD %s, R4", fn.Base("b"))
	f.Op("LSL $%d, R3, R7", 2+3) // bytes per panel: k·nr·4, nr = 8

	// pass emits the loop over groups of g panels: panel i's pointer is
	// R8+i, its accumulators V16+2i and V17+2i, its values V2+2i, V3+2i.
	pass := func(prefix string, g int) {
		f.Label(prefix)
		f.Op("CMP $%d, R1", g*nr)
		f.Op("BLT %s_end", prefix)
		f.Op("MOVD R4, R8")
		for i := 1; i < g; i++ {
			f.Op("ADD R7, R%d, R%d", 7+i, 8+i)
		}
		f.Op("MOVD R0, R14")
		for i := 0; i < g; i += 2 {
			f.Op("VLD1.P %d(R14), %s", 32*min(2, g-i), List(V(16+2*i), 2*min(2, g-i)))
		}
		f.Op("MOVD R2, R12")
		f.Op("MOVD R3, R13")
		step := func(lane int) {
			for i := range g {
				f.Op("VLD1.P 32(R%d), %s", 8+i, List(V(2+2*i), 2))
			}
			for i := range g {
				for j := range 2 {
					f.Inst(FMlaElem(V(16+2*i+j), V(2+2*i+j), 0, lane))
				}
			}
		}
		f.Label(prefix + "_k4")
		f.Op("CMP $4, R13")
		f.Op("BLT %s_k1", prefix)
		f.Op("VLD1.P 16(R12), [V0.S4]")
		for lane := range 4 {
			step(lane)
		}
		f.Op("SUB $4, R13")
		f.Op("B %s_k4", prefix)
		f.Label(prefix + "_k1")
		f.Op("CBZ R13, %s_store", prefix)
		f.Op("FMOVS.P 4(R12), F0")
		step(0)
		f.Op("SUB $1, R13")
		f.Op("B %s_k1", prefix)
		f.Label(prefix + "_store")
		for i := 0; i < g; i += 2 {
			f.Op("VST1.P %s, %d(R0)", List(V(16+2*i), 2*min(2, g-i)), 32*min(2, g-i))
		}
		f.Op("MOVD R%d, R4", 8+g-1) // past the last panel's k steps
		f.Op("SUB $%d, R1", g*nr)
		f.Op("B %s", prefix)
		f.Label(prefix + "_end")
	}
	pass("group", panelGroup)
	pass("single", 1)
	f.Op("RET")
}
