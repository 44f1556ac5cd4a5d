package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// gemvBatchDoc is the meaning of both batched GEMVs, for their stubs.
var gemvBatchDoc = []string{
	"is the product of a batched decode step: m rows of A against W",
	"row-major [n×k] as stored, into rows of C with stride ldc:",
	"",
	"	for i := 0; i < m; i++ {",
	"		for j := 0; j < n; j++ {",
	"			s := float32(0)",
	"			if len(bias) != 0 {",
	"				s = bias[j]",
	"			}",
	"			for p := 0; p < k; p++ {",
	"				s += a[i*k+p] * w[j*k+p]",
	"			}",
	"			c[i*ldc+j] = s",
	"		}",
	"	}",
	"",
	"It needs m, n ≥ 1, k ≥ 0, ldc ≥ n, len(c) ≥ (m-1)*ldc+n, len(a) ≥ m*k,",
	"len(w) ≥ n*k and len(bias) = 0 or ≥ n, and reads or writes no element",
	"past those bounds (it prefetches W rows past n: hints, which never fault).",
}

// A batched GEMV reads a block of gemvRows rows of W once per group of A
// rows: the block (4·k floats, 12 KiB at k = 768) stays in L1 while the
// kernel sweeps all m rows of A, so W streams from memory once per call,
// unpacked, where the blocked GEMM first copies it into panels.
//
// While it does, every pass prefetches the whole next block in address
// order, a share per step, so the first pass over a block finds it in
// cache instead of waiting on L3 or DRAM, and memory sees one sequential
// stream: reading four rows side by side (four streams) streamed DRAM at
// ~60% of the rate on Zen 4. With several passes per block the later ones
// repeat the hints, which then hit L1.
//
// gemvBatchISA adds the A group size to a GEMV tier: 4 rows for AVX-512
// (16 accumulators, 4 A vectors, W vectors: 22 of 32 registers), 2 for
// AVX2 (8 accumulators: the 16 ymm registers also hold 2 A vectors, W, the
// reduction's scratch and the tail mask).
type gemvBatchISA struct {
	gemvISA
	aRows int
}

func gemvBatchAVX512() {
	TEXT("GemvBatchAVX512", NOSPLIT, "func(c, a, w, bias []float32, m, k, n, ldc int)")
	Doc(append([]string{"GemvBatchAVX512 " + gemvBatchDoc[0]}, gemvBatchDoc[1:]...)...)
	Pragma("noescape")
	gemvBatchBody(gemvBatchISA{avx512GemvISA(), 4})
}

func gemvBatchAVX2() {
	TEXT("GemvBatchAVX2", NOSPLIT, "func(c, a, w, bias []float32, m, k, n, ldc int)")
	Doc(append([]string{"GemvBatchAVX2 " + gemvBatchDoc[0]}, gemvBatchDoc[1:]...)...)
	Pragma("noescape")
	gemvBatchBody(gemvBatchISA{avx2GemvISA(), 2})
}

// The batched GEMV's stack slots: everything the k loop does not touch.
type gemvBatchFrame struct {
	ldc   Mem // row stride of C in bytes
	a     Mem // A
	m     Mem // rows of A
	bias  Mem // bias of the current W block, 0 when there is none
	nLeft Mem // W rows not yet done
	mLeft Mem // A rows not yet done for the current W block
	cCol  Mem // C's row 0 at the current W block's first column
	cRow  Mem // C at the current A group's first row, same column
	tail  Mem // k%width
	pf    Mem // the start of the next W block, which every pass prefetches
}

// gemvBatchBody writes a batched GEMV: blocks of gemvRows W rows, then single
// W rows; for each, groups of aRows A rows, then one group of the m%aRows
// rows left.
//
// Registers in the k loop: DI, R10..R12 the W rows, SI, BX, DX, R8 the A
// rows, CX the next block (prefetched), R13 the byte offset along the rows, R9 the
// row length in bytes, AX scratch. The rest lives in the frame.
func gemvBatchBody(isa gemvBatchISA) {
	base := AllocLocal(80)
	slot := func(i int) Mem { return base.Offset(8 * i) }
	f := gemvBatchFrame{slot(0), slot(1), slot(2), slot(3), slot(4), slot(5), slot(6), slot(7), slot(8), slot(9)}
	name := "batch" + isa.name

	Load(Param("ldc"), RAX)
	SHLQ(U8(2), RAX)
	MOVQ(RAX, f.ldc)
	Load(Param("a").Base(), RAX)
	MOVQ(RAX, f.a)
	Load(Param("m"), RAX)
	MOVQ(RAX, f.m)
	Load(Param("n"), RAX)
	MOVQ(RAX, f.nLeft)
	Load(Param("c").Base(), RAX)
	MOVQ(RAX, f.cCol)
	// A nil bias is flagged by a 0 pointer.
	Load(Param("bias").Base(), RAX)
	Load(Param("bias").Len(), RCX)
	TESTQ(RCX, RCX)
	CMOVQEQ(RCX, RAX)
	MOVQ(RAX, f.bias)
	Load(Param("w").Base(), RDI)
	Load(Param("k"), R9)

	MOVQ(R9, RCX)
	ANDQ(U32(isa.width-1), RCX)
	MOVQ(RCX, f.tail)
	SHLQ(U8(2), R9)
	TESTQ(RCX, RCX)
	JZ(LabelRef("wblocks" + name))
	isa.setupTail(RCX)

	for _, wRows := range []int{gemvRows, 1} {
		id := fmt.Sprintf("%s%d", name, wRows)
		if wRows == gemvRows {
			Label("wblocks" + name)
		}
		Label("w" + id)
		CMPQ(f.nLeft, U32(wRows))
		if wRows == gemvRows {
			JB(LabelRef(fmt.Sprintf("w%s%d", name, 1)))
		} else {
			JB(LabelRef("done" + name))
		}
		if wRows == gemvRows {
			LEAQ(Mem{Base: RDI, Index: R9, Scale: 1}, R10)
			LEAQ(Mem{Base: RDI, Index: R9, Scale: 2}, R11)
			LEAQ(Mem{Base: R10, Index: R9, Scale: 2}, R12)
			LEAQ(Mem{Base: R12, Index: R9, Scale: 1}, RAX)
		} else {
			LEAQ(Mem{Base: RDI, Index: R9, Scale: 1}, RAX)
		}
		MOVQ(RAX, f.pf)
		MOVQ(f.a, RSI)
		MOVQ(f.cCol, RAX)
		MOVQ(RAX, f.cRow)
		MOVQ(f.m, RAX)
		MOVQ(RAX, f.mLeft)

		Label("a" + id)
		CMPQ(f.mLeft, U32(isa.aRows))
		JB(LabelRef("arest" + id))
		gemvBatchPass(isa, f, wRows, isa.aRows)
		SUBQ(U32(isa.aRows), f.mLeft)
		JMP(LabelRef("a" + id))

		Label("arest" + id)
		for ar := isa.aRows - 1; ar >= 1; ar-- {
			CMPQ(f.mLeft, U32(ar))
			JNE(LabelRef(fmt.Sprintf("arest%s_%d", id, ar)))
			gemvBatchPass(isa, f, wRows, ar)
			Label(fmt.Sprintf("arest%s_%d", id, ar))
		}

		// Next W block: past its rows, its bias and its columns of C.
		if wRows == gemvRows {
			LEAQ(Mem{Base: R12, Index: R9, Scale: 1}, RDI)
		} else {
			ADDQ(R9, RDI)
		}
		MOVQ(f.bias, RAX)
		TESTQ(RAX, RAX)
		JZ(LabelRef("nobias" + id))
		ADDQ(U32(4*wRows), f.bias)
		Label("nobias" + id)
		ADDQ(U32(4*wRows), f.cCol)
		SUBQ(U32(wRows), f.nLeft)
		JMP(LabelRef("w" + id))
	}
	Label("done" + name)
	VZEROUPPER()
	RET()
}

// gemvBatchPass computes the wRows×aRows block of C from the W rows at DI
// (and R10..R12) and the aRows A rows from SI, stores it at cRow, and
// advances SI and cRow past those A rows.
func gemvBatchPass(isa gemvBatchISA, f gemvBatchFrame, wRows, aRows int) {
	id := fmt.Sprintf("batch%s%dx%d", isa.name, wRows, aRows)
	aPtr := []GPPhysical{RSI, RBX, RDX, R8}
	wPtr := []GPPhysical{RDI, R10, R11, R12}
	acc := func(j, i int) VecPhysical { return isa.vec(j*aRows + i) }
	// A and W vectors sit above the accumulators: Z16 and up for AVX-512
	// (EVEX only), Y8..Y11 for AVX2.
	var aVec []VecPhysical
	var wVec [2]VecPhysical
	if isa.width == 16 {
		aVec = []VecPhysical{Z16, Z17, Z18, Z19}
		wVec = [2]VecPhysical{Z20, Z21}
	} else {
		aVec = []VecPhysical{Y8, Y9}
		wVec = [2]VecPhysical{Y10, Y11}
	}
	at := func(p GPPhysical) Mem { return Mem{Base: p, Index: R13, Scale: 1} }

	if aRows > 1 {
		LEAQ(Mem{Base: RSI, Index: R9, Scale: 1}, RBX)
	}
	if aRows > 2 {
		LEAQ(Mem{Base: RSI, Index: R9, Scale: 2}, RDX)
	}
	if aRows > 3 {
		LEAQ(Mem{Base: RBX, Index: R9, Scale: 2}, R8)
	}
	for j := 0; j < wRows; j++ {
		for i := 0; i < aRows; i++ {
			VXORPS(acc(j, i), acc(j, i), acc(j, i))
		}
	}
	XORQ(R13, R13)
	MOVQ(f.pf, RCX)
	vb := 4 * isa.width

	Label("loop" + id)
	LEAQ(Mem{Base: R13, Disp: vb}, RAX)
	CMPQ(RAX, R9)
	JA(LabelRef("tail" + id))
	// The next W block, in address order: the lines this step's share of
	// it, wRows·vb bytes, starting wRows·R13 bytes in.
	for l := 0; l < max(1, wRows*vb/64); l++ {
		PREFETCHT0(Mem{Base: RCX, Index: R13, Scale: uint8(wRows), Disp: 64 * l})
	}
	for i := 0; i < aRows; i++ {
		VMOVUPS(at(aPtr[i]), aVec[i])
	}
	for j := 0; j < wRows; j++ {
		wv := wVec[j%2]
		VMOVUPS(at(wPtr[j]), wv)
		for i := 0; i < aRows; i++ {
			VFMADD231PS(aVec[i], wv, acc(j, i))
		}
	}
	MOVQ(RAX, R13)
	JMP(LabelRef("loop" + id))

	Label("tail" + id)
	CMPQ(f.tail, U8(0))
	JE(LabelRef("reduce" + id))
	for i := 0; i < aRows; i++ {
		isa.tailLoad(at(aPtr[i]), aVec[i])
	}
	for j := 0; j < wRows; j++ {
		wv := wVec[j%2]
		isa.tailLoad(at(wPtr[j]), wv)
		for i := 0; i < aRows; i++ {
			VFMADD231PS(aVec[i], wv, acc(j, i))
		}
	}

	Label("reduce" + id)
	// Fold every accumulator into one ymm; the VEX horizontal adds below
	// need registers 0..15, which the accumulators are.
	if isa.width == 16 {
		for j := 0; j < wRows; j++ {
			for i := 0; i < aRows; i++ {
				VEXTRACTF64X4(U8(1), acc(j, i), wVec[0].AsY())
				VADDPS(wVec[0].AsY(), acc(j, i).AsY(), acc(j, i).AsY())
			}
		}
	}
	for i := 0; i < aRows; i++ {
		s, sx := acc(0, i).AsY(), acc(0, i).AsX()
		if wRows == 4 {
			// As in the GEMV: lane j of each half holds a partial sum of W
			// row j.
			VHADDPS(acc(1, i).AsY(), s, s)
			VHADDPS(acc(3, i).AsY(), acc(2, i).AsY(), acc(2, i).AsY())
			VHADDPS(acc(2, i).AsY(), s, s)
			VEXTRACTF128(U8(1), s, acc(1, i).AsX())
			VADDPS(acc(1, i).AsX(), sx, sx)
		} else {
			tmp := isa.vec(14).AsX()
			VEXTRACTF128(U8(1), s, tmp)
			VADDPS(tmp, sx, sx)
			VHADDPS(sx, sx, sx)
			VHADDPS(sx, sx, sx)
		}
	}
	MOVQ(f.bias, RAX)
	TESTQ(RAX, RAX)
	JZ(LabelRef("store" + id))
	for i := 0; i < aRows; i++ {
		if wRows == 4 {
			VADDPS(Mem{Base: RAX}, acc(0, i).AsX(), acc(0, i).AsX())
		} else {
			VADDSS(Mem{Base: RAX}, acc(0, i).AsX(), acc(0, i).AsX())
		}
	}

	Label("store" + id)
	MOVQ(f.cRow, RAX)
	for i := 0; i < aRows; i++ {
		if wRows == 4 {
			VMOVUPS(acc(0, i).AsX(), Mem{Base: RAX})
		} else {
			VMOVSS(acc(0, i).AsX(), Mem{Base: RAX})
		}
		ADDQ(f.ldc, RAX)
	}
	MOVQ(RAX, f.cRow)
	// SI moves past the group's rows.
	if aRows == 1 {
		ADDQ(R9, RSI)
	} else {
		LEAQ(Mem{Base: aPtr[aRows-1], Index: R9, Scale: 1}, RSI)
	}
}
