package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// panelGemvShape is one tier's panel GEMV: panels of width columns, each
// nv vectors wide.
type panelGemvShape struct {
	name  string
	width int // floats per panel row: the GEMM micro-kernel's nr
	lanes int // floats per vector
	vec   func(i int) VecPhysical
}

func panelGemvAVX512() {
	panelGemv(panelGemvShape{name: "PanelGemv48AVX512", width: 48, lanes: 16, vec: func(i int) VecPhysical { return zmm[i] }})
}

func panelGemvAVX2() {
	panelGemv(panelGemvShape{name: "PanelGemv24AVX2", width: 24, lanes: 8, vec: func(i int) VecPhysical { return ymm[i] }})
}

// panelGemv writes the GEMV of a decode step over kernels.Panels: one
// panel at a time, its width outputs in nv accumulators loaded from y, one
// broadcast value of x and nv FMAs per step. A panel is one sequential
// stream of k·width floats (walking several panels side by side would be
// several streams k·width floats apart, which Zen's prefetchers follow
// worse, see gemvRows); its nv chains bound a step to one FMA latency, ~24
// (AVX2) or 48 (AVX-512) bytes per cycle, far above what memory delivers.
func panelGemv(s panelGemvShape) {
	nv := s.width / s.lanes
	TEXT(s.name, NOSPLIT, "func(y, x, b []float32)")
	Doc(
		fmt.Sprintf("%s is the panel GEMV of a decode step, for k = len(x) and", s.name),
		fmt.Sprintf("len(y)/%d panels of W packed as kernels.Panels with width %d:", s.width, s.width),
		"",
		fmt.Sprintf("	for q := 0; q < len(y)/%d; q++ {", s.width),
		fmt.Sprintf("		for j := 0; j < %d; j++ {", s.width),
		fmt.Sprintf("			s := y[q*%d+j]", s.width),
		"			for p := 0; p < k; p++ {",
		fmt.Sprintf("				s = fma(x[p], b[(q*k+p)*%d+j], s) // one rounding", s.width),
		"			}",
		fmt.Sprintf("			y[q*%d+j] = s", s.width),
		"		}",
		"	}",
		"",
		fmt.Sprintf("It needs len(y) a multiple of %d and len(b) ≥ len(y)*k, and does not", s.width),
		"check them.",
	)
	Pragma("noescape")
	Load(Param("y").Base(), RDI)
	Load(Param("y").Len(), RCX)
	Load(Param("x").Base(), RSI)
	Load(Param("x").Len(), R8)
	Load(Param("b").Base(), RDX)

	bcast := s.vec(nv)
	acc := func(v int) VecPhysical { return s.vec(v) }
	row := 4 * s.width // bytes per step of a panel
	step := func(p int) {
		VBROADCASTSS(Mem{Base: R12, Disp: 4 * p}, bcast)
		for v := 0; v < nv; v++ {
			VFMADD231PS(Mem{Base: RDX, Disp: p*row + 4*v*s.lanes}, bcast, acc(v))
		}
	}

	Label("panel")
	CMPQ(RCX, U32(s.width))
	JB(LabelRef("done"))
	for v := 0; v < nv; v++ {
		VMOVUPS(Mem{Base: RDI, Disp: 4 * v * s.lanes}, acc(v))
	}
	MOVQ(RSI, R12)
	MOVQ(R8, R11)
	Label("steps2")
	CMPQ(R11, U32(2))
	JB(LabelRef("steps1"))
	step(0)
	step(1)
	ADDQ(U32(8), R12)
	ADDQ(U32(2*row), RDX)
	SUBQ(U32(2), R11)
	JMP(LabelRef("steps2"))
	Label("steps1")
	TESTQ(R11, R11)
	JZ(LabelRef("store"))
	step(0)
	ADDQ(U32(row), RDX)
	Label("store")
	for v := 0; v < nv; v++ {
		VMOVUPS(acc(v), Mem{Base: RDI, Disp: 4 * v * s.lanes})
	}
	ADDQ(U32(row), RDI)
	SUBQ(U32(s.width), RCX)
	JMP(LabelRef("panel"))

	Label("done")
	VZEROUPPER()
	RET()
}
