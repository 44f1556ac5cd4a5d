package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// vnniBlockGroups runs the VNNI step over the blocks of each row in groups
// of sixteen (a loop), then one group of eight and one of four where k asks
// for them, leaving xp, xsp and the row pointers at the blocks that remain
// (at most three); groups is a scratch register. Each lane is computed
// exactly as the two-block step computes it (the same int32 sums, ws·xs
// rounded once, one FMA per lane in block order), so Q8MatMul's rows stay
// equal to it bit for bit; what it saves is the scale work: one VMULPS of a
// group's ws by its xs per row, and then per 64-byte chunk one VPERMPS where
// the two-block step needs a masked broadcast and a VMULPS.
func vnniBlockGroups(g rowGroup, k, xp, xsp, groups Register, bias VecVirtual) {
	id := fmt.Sprint(len(g.w))
	MOVQ(k, groups)
	SHRQ(U8(9), groups)
	JZ(LabelRef("vnni16Done" + id))
	Label("vnni16" + id)
	vnniBlockGroup(g, k, xp, xsp, bias, 16)
	DECQ(groups)
	JNZ(LabelRef("vnni16" + id))
	Label("vnni16Done" + id)
	for _, blocks := range []int{8, 4} {
		skip := fmt.Sprintf("vnni%dDone%s", blocks, id)
		TESTQ(U32(32*blocks), k)
		JZ(LabelRef(skip))
		vnniBlockGroup(g, k, xp, xsp, bias, blocks)
		Label(skip)
	}
}

// vnniBlockGroup emits one step over blocks (16, 8 or 4) blocks of every
// row and moves the pointers past them.
func vnniBlockGroup(g rowGroup, k, xp, xsp Register, bias VecVirtual, blocks int) {
	tab := pairIndexTable()
	// The products of the group's blocks in the low lanes of a ZMM: a
	// narrower write zeroes the lanes above it.
	narrow := func(v VecVirtual) Register {
		switch blocks {
		case 8:
			return v.AsY()
		case 4:
			return v.AsX()
		}
		return v
	}
	xs := ZMM()
	VMOVUPS(Mem{Base: xsp}, narrow(xs))
	prod := make([]VecVirtual, len(g.w))
	for r := range g.w {
		prod[r] = ZMM()
		VMULPS(Mem{Base: g.s[r]}, narrow(xs), narrow(prod[r]))
		if blocks == 16 {
			PREFETCHT0(Mem{Base: g.s[r], Index: k, Scale: 1})
		}
	}
	for c := range blocks / 2 {
		x, start, idx := ZMM(), ZMM(), ZMM()
		VMOVDQU32(tab.Offset(64*c), idx)
		VMOVDQU8(Mem{Base: xp}.Offset(64*c), x)
		// start = -128·(x[4l]+x[4l+1]+x[4l+2]+x[4l+3]) per int32 lane l.
		// Zeroed from bias, not from itself: avo's liveness would
		// otherwise count start as read and keep it live from the entry.
		VPXORD(bias, bias, start)
		VPDPBUSD(x, bias, start)
		zero := ZMM()
		VPXORD(bias, bias, zero)
		VPSUBD(start, zero, start)
		for r := range g.w {
			PREFETCHT0(Mem{Base: g.w[r], Index: k, Scale: 8, Disp: 64 * c})
			w, dot, s := ZMM(), ZMM(), ZMM()
			VPXORD(Mem{Base: g.w[r]}.Offset(64*c), bias, w)
			VMOVDQA32(start, dot)
			VPDPBUSD(x, w, dot)
			VCVTDQ2PS(dot, dot)
			VPERMPS(prod[r], idx, s)
			VFMADD231PS(s, dot, g.acc[r])
		}
	}
	g.advance(32*blocks, 4*blocks)
	ADDQ(U32(32*blocks), xp)
	ADDQ(U8(4*blocks), xsp)
}

var pairTab *Mem

// pairIndexTable declares, once, the eight VPERMPS index vectors that spread
// the scale products of sixteen blocks over the lanes of the eight 64-byte
// chunks: vector c puts product 2c in lanes 0-7 and 2c+1 in lanes 8-15.
func pairIndexTable() Mem {
	if pairTab == nil {
		tab := GLOBL("q8PairIndex", RODATA|NOPTR)
		for c := range 8 {
			for l := range 16 {
				DATA(64*c+4*l, U32(2*c+l/8))
			}
		}
		pairTab = &tab
	}
	return *pairTab
}
