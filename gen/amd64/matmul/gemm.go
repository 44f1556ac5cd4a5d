package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// A GEMM micro-kernel keeps an mr×nr tile of C in registers: per step p it
// loads nr/width vectors of the packed W panel, broadcasts each of the mr
// packed A values into a register and issues one FMA per accumulator. The
// shapes fill the register file: AVX-512 8×48 uses 24 of the 32 zmm as
// accumulators (16 are too few to cover the FMA latency at two FMAs per
// cycle), AVX2 4×24 uses 12 of the 16 ymm. Both issue 11 or 7 loads per 24
// or 12 FMAs, under the two loads per cycle the cores sustain.
type gemmShape struct {
	name   string
	mr, nr int
	width  int
	vec    func(i int) VecPhysical
}

// gemmUnroll is how many steps p one loop iteration runs.
const gemmUnroll = 4

// gemmPrefetch is how far ahead in the W panel the kernel prefetches, in
// bytes.
const gemmPrefetch = 2048

func gemmKernelAVX512() {
	zmm32 := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	gemmKernel(gemmShape{name: "GemmKernel8x48AVX512", mr: 8, nr: 48, width: 16,
		vec: func(i int) VecPhysical { return zmm32[i] }})
}

func gemmKernelAVX2() {
	gemmKernel(gemmShape{name: "GemmKernel4x24AVX2", mr: 4, nr: 24, width: 8,
		vec: func(i int) VecPhysical { return ymm[i] }})
}

// gemmKernel writes the micro-kernel contract of kernels.microKernel.
//
// Registers: CX steps left, SI the A panel, DI the W panel, DX the C row,
// R8 the C row stride in bytes. Vector registers: 0..nv-1 hold the W
// vectors of a step, nv the broadcast A value, nv+1.. the accumulators.
func gemmKernel(s gemmShape) {
	nv := s.nr / s.width
	TEXT(s.name, NOSPLIT, "func(kc int, a, b, c []float32, ldc int)")
	Doc(
		fmt.Sprintf("%s is the %d×%d GEMM micro-kernel over packed panels:", s.name, s.mr, s.nr),
		"",
		"	for p := 0; p < kc; p++ {",
		fmt.Sprintf("		for i := 0; i < %d; i++ {", s.mr),
		fmt.Sprintf("			for j := 0; j < %d; j++ {", s.nr),
		fmt.Sprintf("				c[i*ldc+j] = fma(a[p*%d+i], b[p*%d+j], c[i*ldc+j]) // one rounding", s.mr, s.nr),
		"			}",
		"		}",
		"	}",
		"",
		fmt.Sprintf("It needs kc ≥ 1, len(a) ≥ kc*%d, len(b) ≥ kc*%d and len(c) ≥ %d*ldc+%d,", s.mr, s.nr, s.mr-1, s.nr),
		"and does not check them.",
	)
	Pragma("noescape")
	Load(Param("kc"), RCX)
	Load(Param("a").Base(), RSI)
	Load(Param("b").Base(), RDI)
	Load(Param("c").Base(), RDX)
	Load(Param("ldc"), R8)
	SHLQ(U8(2), R8)

	bv := func(v int) VecPhysical { return s.vec(v) }
	bcast := s.vec(nv)
	acc := func(i, v int) VecPhysical { return s.vec(nv + 1 + i*nv + v) }
	// The tile starts from c, so that an element of a GEMM is one FMA
	// chain over all of K whatever the blocking (kernels.Panels).
	MOVQ(RDX, R9)
	for i := 0; i < s.mr; i++ {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: R9, Disp: 4 * v * s.width}, acc(i, v))
		}
		if i < s.mr-1 {
			ADDQ(R8, R9)
		}
	}
	step := func(p int) {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: RDI, Disp: 4 * (p*s.nr + v*s.width)}, bv(v))
		}
		for i := 0; i < s.mr; i++ {
			VBROADCASTSS(Mem{Base: RSI, Disp: 4 * (p*s.mr + i)}, bcast)
			for v := 0; v < nv; v++ {
				VFMADD231PS(bv(v), bcast, acc(i, v))
			}
		}
	}

	Label("unrolled")
	CMPQ(RCX, U32(gemmUnroll))
	JB(LabelRef("single"))
	for p := 0; p < gemmUnroll; p++ {
		step(p)
		// Prefetch the W panel gemmPrefetch bytes ahead, one line per
		// 64 bytes consumed: with W packed at load a panel's first row
		// tile reads it straight from L3 or DRAM, and a small M (a batched
		// decode step) has no other tiles to hide that behind.
		for line := p * 4 * s.nr / 64; line < (p+1)*4*s.nr/64; line++ {
			PREFETCHT0(Mem{Base: RDI, Disp: gemmPrefetch + 64*line})
		}
	}
	ADDQ(U32(4*gemmUnroll*s.mr), RSI)
	ADDQ(U32(4*gemmUnroll*s.nr), RDI)
	SUBQ(U32(gemmUnroll), RCX)
	JMP(LabelRef("unrolled"))

	Label("single")
	TESTQ(RCX, RCX)
	JZ(LabelRef("store"))
	step(0)
	ADDQ(U32(4*s.mr), RSI)
	ADDQ(U32(4*s.nr), RDI)
	DECQ(RCX)
	JMP(LabelRef("single"))

	Label("store")
	for i := 0; i < s.mr; i++ {
		for v := 0; v < nv; v++ {
			VMOVUPS(acc(i, v), Mem{Base: RDX, Disp: 4 * v * s.width})
		}
		if i < s.mr-1 {
			ADDQ(R8, RDX)
		}
	}
	VZEROUPPER()
	RET()
}
