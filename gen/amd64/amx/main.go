// Command amx writes goformer's AMX kernels: the int8 GEMV and GEMM of the
// amx tier (kernels.Q8MatVec and kernels.Q8MatMul there). avo has no AMX
// instructions and no way to emit raw bytes, so this is a small text
// emitter like the NEON one: AVX-512 instructions in Go assembly syntax,
// AMX instructions as BYTE directives (encode.go), registers fixed by hand.
//
// Both kernels compute every output as one float32 chain over the blocks
// of 32, from the exact integer dot of each block (a TDPBSSD over 32 bytes
// of K), in block order:
//
//	s = fma(ws[j,b]·xs[b], float32(dot_jb), s)
//
// so a GEMM row equals the GEMV of that row bit for bit, and both equal
// the Go twin kernels.q8ChainGeneric.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
)

type emitter struct{ b strings.Builder }

func (e *emitter) f(format string, args ...any) { fmt.Fprintf(&e.b, "\t"+format+"\n", args...) }
func (e *emitter) label(l string)               { fmt.Fprintf(&e.b, "%s:\n", l) }
func (e *emitter) raw(enc []byte, text string)  { e.b.WriteString(byteLine(enc, text)) }
func (e *emitter) comment(lines ...string) {
	for _, l := range lines {
		e.b.WriteString("// " + l + "\n")
	}
}

// maskRows sets mask k to the low n bits for n (≤ 16) in register nreg,
// using tmp.
func (e *emitter) maskRows(k, nreg, tmp string) {
	e.f("MOVL $0xffff, %s", tmp)
	e.f("BZHIL %s, %s, %s", nreg, tmp, tmp)
	e.f("KMOVW %s, %s", tmp, k)
}

// blockLoop emits the loop over the nb blocks (R12) of a group, two at a
// time, even blocks on tiles 0, 2, 4 and odd ones on 1, 3, 5 so that a
// block's TDPBSSD need not wait for the last one's tile to be read back,
// then an odd last block; R13 counts; the code after it starts at "store".
func (e *emitter) blockLoop(block func(p int)) {
	e.f("MOVQ R12, R13")
	e.f("SHRQ $1, R13")
	e.f("JZ tail")
	e.label("pair")
	block(0)
	block(1)
	e.f("DECQ R13")
	e.f("JNZ pair")
	e.label("tail")
	e.f("TESTQ $1, R12")
	e.f("JZ store")
	block(0)
	e.label("store")
}

// blockDot emits one block's integer dots on the tiles of parity p: W's
// block (rows R10 = k bytes apart, from w) as the A tile, the activations'
// (rows AX bytes apart, from CX) as the B tile, C zeroed, multiplied and
// stored AX bytes a row at p·cBytes(SP).
func (e *emitter) blockDot(p int, w gpr, cBytes int) {
	e.raw(tileloadd(2+p, w, r10, 0))
	e.raw(tileloadd(4+p, rCX, rAX, 0))
	e.raw(tilezero(p))
	e.raw(tdpbssd(p, 2+p, 4+p))
	e.raw(tilestored(p, rSP, rAX, cBytes*p))
}

// q8MatVecAMX is the GEMV: groups groups of rows rows of W, each multiplied
// block by block against x (a B tile of 8 rows of 4 bytes read from x in
// place), the block dots of the group's rows landing in one ZMM.
func q8MatVecAMX(e *emitter) {
	e.comment(
		"func Q8MatVecAMX(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, rows, groups int, cfg *[64]byte, idx *[16]int32)",
		"Tiles (cfg): tmm0/1 C rows×4 bytes, tmm2/3 A (W) rows×32, tmm4/5 B (x) 8×4; even and odd blocks alternate between them.",
	)
	e.b.WriteString("TEXT ·Q8MatVecAMX(SB), NOSPLIT, $128-160\n")
	e.f("MOVQ cfg+144(FP), AX")
	e.raw(ldtilecfg(rAX))
	e.f("MOVQ idx+152(FP), AX")
	e.f("VMOVDQU32 (AX), Z0") // lane r: r·nb, the scale of row r
	e.f("MOVQ rows+128(FP), AX")
	e.maskRows("K2", "AX", "CX")
	e.f("MOVQ y_base+0(FP), DI")
	e.f("MOVQ wq_base+24(FP), SI")
	e.f("MOVQ ws_base+48(FP), BX")
	e.f("MOVQ k+120(FP), R10")
	e.f("MOVQ R10, R12")
	e.f("SHRQ $5, R12") // nb
	e.f("MOVQ groups+136(FP), R11")
	e.f("MOVQ $4, AX")
	e.label("group")
	e.f("VPXORD Z1, Z1, Z1")
	e.f("MOVQ SI, R8")
	e.f("MOVQ BX, R9")
	e.f("MOVQ xq_base+72(FP), CX")
	e.f("MOVQ xs_base+96(FP), DX")
	e.blockLoop(func(p int) {
		e.blockDot(p, r8, 64)
		e.f("KMOVW K2, K1")
		e.f("VGATHERDPS (R9)(Z0*4), K1, Z%d", 2+p)  // ws[r·nb + b]
		e.f("VMULPS.BCST (DX), Z%d, Z%d", 2+p, 2+p) // · xs[b]
		e.f("VCVTDQ2PS %d(SP), Z%d", 64*p, 4+p)
		e.f("VFMADD231PS Z%d, Z%d, Z1", 4+p, 2+p)
		e.f("ADDQ $32, R8")
		e.f("ADDQ $4, R9")
		e.f("ADDQ $32, CX")
		e.f("ADDQ $4, DX")
	})
	e.f("VMOVUPS Z1, K2, (DI)")
	e.f("MOVQ rows+128(FP), R13")
	e.f("LEAQ (DI)(R13*4), DI")
	e.f("MOVQ R13, R8")
	e.f("IMULQ R10, R8")
	e.f("ADDQ R8, SI")
	e.f("MOVQ R13, R8")
	e.f("IMULQ R12, R8")
	e.f("LEAQ (BX)(R8*4), BX")
	e.f("DECQ R11")
	e.f("JNZ group")
	e.raw(tilerelease())
	e.f("VZEROUPPER")
	e.f("RET")
	e.b.WriteString("\n")
}

// accRegs are the GEMM's sixteen accumulators, one per row of W, each
// holding sixteen rows of A. Z15 is left alone: Go's internal ABI keeps
// zero in X15.
var accRegs = []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18}

// q8MatMulAMX is the GEMM: rows rows of W (one A tile) against every group
// of 16 rows of A, packed as B tiles (kernels.packQ8AMX). C's tile holds
// the block dots of W row r and A row i at row r, dword i; each row of it
// is scaled and added to the accumulator of that W row.
func q8MatMulAMX(e *emitter) {
	e.comment(
		"func Q8MatMulAMX(c []float32, ldc int, pa []int8, pas []float32, m int, wq []int8, wst []float32, k, rows int, cfg *[64]byte, idx *[16]int32)",
		"Tiles (cfg): tmm0/1 C rows×64 bytes, tmm2/3 A (W) rows×32, tmm4/5 B (A packed) 8×64; even and odd blocks alternate.",
		"Frame: C tiles stored at 0(SP) and 1024(SP).",
	)
	e.b.WriteString("TEXT ·Q8MatMulAMX(SB), $2048-168\n")
	e.f("MOVQ cfg+152(FP), AX")
	e.raw(ldtilecfg(rAX))
	e.f("MOVQ idx+160(FP), AX")
	e.f("VMOVDQU32 (AX), Z1") // lane i: i·ldc, where row i of A lands in C
	e.f("MOVQ c_base+0(FP), DI")
	e.f("MOVQ pa_base+32(FP), R8")
	e.f("MOVQ pas_base+56(FP), R9")
	e.f("MOVQ m+80(FP), R11")
	e.f("MOVQ k+136(FP), R10")
	e.f("MOVQ R10, R12")
	e.f("SHRQ $5, R12") // nb
	e.f("MOVQ $64, AX")
	e.label("group")
	for _, z := range accRegs {
		e.f("VPXORD Z%d, Z%d, Z%d", z, z, z)
	}
	e.f("MOVQ wq_base+88(FP), SI")
	e.f("MOVQ wst_base+112(FP), BX")
	e.f("MOVQ R8, CX")
	e.f("MOVQ R9, DX")
	e.blockLoop(func(p int) {
		e.blockDot(p, rSI, 1024)
		e.f("VMOVUPS (DX), Z19") // as[i,b] for the group's rows i
		for r, acc := range accRegs {
			f, d := 20+2*(r%4), 21+2*(r%4)
			e.f("VMULPS.BCST %d(BX), Z19, Z%d", 4*r, f) // ws[r,b]·as[i,b]
			e.f("VCVTDQ2PS %d(SP), Z%d", 1024*p+64*r, d)
			e.f("VFMADD231PS Z%d, Z%d, Z%d", d, f, acc)
		}
		e.f("ADDQ $32, SI")
		e.f("ADDQ $64, BX")
		e.f("ADDQ $512, CX")
		e.f("ADDQ $64, DX")
	})
	// The rows of A this group holds: min(m left, 16).
	e.f("MOVQ $16, R13")
	e.f("CMPQ R11, R13")
	e.f("CMOVQLT R11, R13")
	e.maskRows("K3", "R13", "CX")
	e.f("MOVQ rows+144(FP), R13")
	for r, acc := range accRegs {
		if r > 0 {
			e.f("CMPQ R13, $%d", r)
			e.f("JLE stored")
		}
		e.f("KMOVW K3, K1")
		e.f("VSCATTERDPS Z%d, K1, %d(DI)(Z1*4)", acc, 4*r)
	}
	e.label("stored")
	e.f("MOVQ ldc+24(FP), CX")
	e.f("SHLQ $6, CX")
	e.f("ADDQ CX, DI") // 16 rows of C on
	e.f("MOVQ R10, CX")
	e.f("SHLQ $4, CX")
	e.f("ADDQ CX, R8") // 16 packed rows of A on
	e.f("MOVQ R12, CX")
	e.f("SHLQ $6, CX")
	e.f("ADDQ CX, R9") // their scales
	e.f("SUBQ $16, R11")
	e.f("JGT group")
	e.raw(tilerelease())
	e.f("VZEROUPPER")
	e.f("RET")
	e.b.WriteString("\n")
}

const stubs = `// Code generated by command: go run ./amd64/amx. DO NOT EDIT.

//go:build amd64 && !purego

package asm

// Q8MatVecAMX computes y = W·x for int8 blocks of 32 on AMX tiles, groups
// groups of rows (≤ 16) rows of W at a time (kernels.Q8MatVec on the amx
// tier):
//
//	nb := k / 32
//	for j := 0; j < groups*rows; j++ {
//		var s float32
//		for b := 0; b < nb; b++ {
//			var dot int32 // exact
//			for i := 0; i < 32; i++ {
//				dot += int32(wq[j*k+32*b+i]) * int32(xq[32*b+i])
//			}
//			s = fma32(ws[j*nb+b]*xs[b], float32(dot), s) // one rounding
//		}
//		y[j] = s
//	}
//
// cfg is the tile configuration kernels builds for rows (C rows×4 bytes in
// tiles 0 and 1, A rows×32 in 2 and 3, B 8×4 in 4 and 5), idx[r] = r·nb.
// k is a positive multiple of 32; the slices hold at least groups*rows,
// groups*rows*k, groups*rows*k/32, k and k/32 elements. It needs AVX512F,
// AMX-TILE and AMX-INT8, and the process's permission to use the tiles.
//
//go:noescape
func Q8MatVecAMX(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, rows, groups int, cfg *[64]byte, idx *[16]int32)

// Q8MatMulAMX computes C = A·Wᵀ for int8 blocks of 32 on AMX tiles, for
// rows (≤ 16) rows of W and the m rows of A (kernels.Q8MatMul on the amx
// tier):
//
//	nb := k / 32
//	for i := 0; i < m; i++ {
//		for j := 0; j < rows; j++ {
//			var s float32
//			for b := 0; b < nb; b++ {
//				var dot int32 // exact
//				for p := 0; p < 32; p++ {
//					dot += int32(wq[j*k+32*b+p]) * int32(aq[i*k+32*b+p])
//				}
//				s = fma32(ws[j*nb+b]*as[i*nb+b], float32(dot), s)
//			}
//			c[i*ldc+j] = s
//		}
//	}
//
// A comes packed as B tiles (pa, pas: kernels.packQ8AMX, 16 rows a group,
// zeros past m) and W's scales transposed (wst[16*b+j] = ws[j*nb+b]);
// cfg configures C rows×64 bytes in tiles 0 and 1, A rows×32 in 2 and 3,
// B 8×64 in 4 and 5; idx[i] = i·ldc. k is a positive multiple of 32,
// m ≥ 1. It needs AVX512F, AMX-TILE and AMX-INT8, and the process's
// permission to use the tiles.
//
//go:noescape
func Q8MatMulAMX(c []float32, ldc int, pa []int8, pas []float32, m int, wq []int8, wst []float32, k, rows int, cfg *[64]byte, idx *[16]int32)
`

func main() {
	out := flag.String("out", "", "assembly file to write")
	stubOut := flag.String("stubs", "", "Go declarations to write")
	flag.Parse()
	if *out == "" || *stubOut == "" {
		log.Fatal("amx: -out and -stubs are required")
	}
	var e emitter
	e.b.WriteString("// Code generated by command: go run ./amd64/amx. DO NOT EDIT.\n\n//go:build amd64 && !purego\n\n#include \"textflag.h\"\n\n")
	q8MatVecAMX(&e)
	q8MatMulAMX(&e)
	if err := os.WriteFile(*out, []byte(e.b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*stubOut, []byte(stubs), 0o644); err != nil {
		log.Fatal(err)
	}
}
