package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The tiles of kernels.Q8Panels: W packed at load, sixteen rows a panel in
// the lanes of a ZMM register (w+128 as unsigned bytes, four of each row
// per lane), so one VPDPBUSD of a panel's 64 bytes against four bytes of a
// row of A broadcast to every lane advances sixteen outputs by four
// multiply-adds each, and the outputs never need a horizontal sum. A tile
// is up to four rows of A (one packed group) against the panels three at a
// time: 4×3 int32 accumulators for a block, 4×3 float32 ones across
// blocks, three panels' bytes and one scale product, 28 of the 32
// registers. Per block and pair of (row, panel) that is eight VPDPBUSD and
// then VCVTDQ2PS, VMULPS and VFMADD231PS (the block chain: ws·as rounded
// once, one FMA into the row's running sum), the accumulator starting at
// the block's offset -128·Σa, broadcast from memory: 73% of the vector
// instructions are VPDPBUSD. One row (a decode step's GEMV) is the same
// tile with one row, over five panels at a time (vecPanels).

// vecPanels is the panels the one-row tile (a decode step's GEMV, W from
// DRAM) multiplies at once: each is a stream through memory, and one core
// reads DRAM faster over several streams than over one.
const vecPanels = 5

const panelTileSig = "func(c []float32, ldc int, pa []int8, ps []float32, pc []int32, w []byte, k, panels, mask int)"

// q8PanelTileVNNI emits Q8PanelMatMul<rows>VNNI.
func q8PanelTileVNNI(rows int) {
	name := fmt.Sprintf("Q8PanelMatMul%dVNNI", rows)
	TEXT(name, NOSPLIT, panelTileSig)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s computes %d rows of C = A·Wᵀ over panels whole panels of a kernels.Q8Panels", name, rows),
		"W (w from the first panel's blocks), A one packed group of",
		"kernels.Q8PanelBuffer (pa, ps, pc): per output the block chain",
		"",
		"	nb := k / 32",
		fmt.Sprintf("	for i := 0; i < %d; i++ {", rows),
		"		for j := 0; j < 16*panels; j++ { // stored where bit j%16 of mask is set",
		"			p, r := j/16, j%16",
		"			var s float32",
		"			for b := 0; b < nb; b++ {",
		"				blk := w[(p*nb+b)*576:]",
		fmt.Sprintf("				dot := pc[b*%d+i]", rows),
		"				for t := 0; t < 32; t++ {",
		fmt.Sprintf("					dot += int32(blk[(t/4)*64+r*4+t%%4]) * int32(pa[(b*%d+i)*32+t])", rows),
		"				}",
		"				ws := the float32 at blk[512+4*r:]",
		fmt.Sprintf("				s = fma32(ws*ps[b*%d+i], float32(dot), s)", rows),
		"			}",
		"			c[i*ldc+j] = s",
		"		}",
		"	}",
		"",
		"k is a positive multiple of 32 and panels ≥ 1; mask is 16 bits. ldc is unused for one row.",
	)
	zeros := GLOBL(fmt.Sprintf("q8PanelZeros%d", rows), RODATA|NOPTR)
	for i := 0; i < 64; i += 8 {
		DATA(i, U64(0))
	}
	c := Load(Param("c").Base(), GP64())
	var ldc, ldc3 Register // the rows of C, for more than one
	if rows > 1 {
		ldc, ldc3 = Load(Param("ldc"), GP64()), GP64()
		SHLQ(U8(2), ldc)
		LEAQ(Mem{Base: ldc, Index: ldc, Scale: 2}, ldc3)
	}
	wq := Load(Param("w").Base(), GP64())
	panels := Load(Param("panels"), GP64())
	mask := GP64()
	Load(Param("mask"), mask)
	KMOVW(mask.As32(), K1)
	// A panel's bytes: 576 per block, k/32 blocks, 18·k.
	wstr, k9 := Load(Param("k"), GP64()), GP64()
	LEAQ(Mem{Base: wstr, Index: wstr, Scale: 8}, k9)
	LEAQ(Mem{Base: k9, Index: k9, Scale: 1}, wstr)

	wstr3 := GP64()
	LEAQ(Mem{Base: wstr, Index: wstr, Scale: 2}, wstr3)
	groups := []int{3, 2, 1}
	if rows == 1 {
		groups = []int{vecPanels, 3, 2, 1}
	}
	for gi, np := range groups {
		loop, done := fmt.Sprintf("panels%d_%d", gi, np), fmt.Sprintf("panels%d_%dDone", gi, np)
		Label(loop)
		CMPQ(panels, U8(np))
		JB(LabelRef(done))

		pa := Load(Param("pa").Base(), GP64())
		ps := Load(Param("ps").Base(), GP64())
		pc := Load(Param("pc").Base(), GP64())
		// wq walks the first panel's blocks, the others' are a stride
		// or two away, and it ends one panel on.
		wp := wq
		blocks := Load(Param("k"), GP64())
		SHRQ(U8(5), blocks)
		acc := make([][]VecVirtual, rows)
		dot := make([][]VecVirtual, rows)
		for i := range rows {
			for range np {
				a := ZMM()
				// A load of zeros, not a XOR with itself, which avo's
				// liveness reads as a use from the function's entry.
				VMOVUPS(zeros, a)
				acc[i] = append(acc[i], a)
				dot[i] = append(dot[i], ZMM())
			}
		}
		w := make([]VecVirtual, np)
		for p := range w {
			w[p] = ZMM()
		}
		// Panel p of the group, p < 5 (strided's rows).
		panel := func(base, str Register, p, disp int) Mem { return strided(base, str, wstr3, p, disp) }
		// The one-row tile asks for each panel's next block into L2 as
		// it reads this one: a panel is a stream too short (13.8 KB at
		// k = 768) for the hardware prefetchers to ramp up on alone
		// (without it the panels read 10-25% slower from DRAM than the
		// plain layout's rows; two blocks ahead or more gained less, and
		// into L1 lost).
		var next Register
		if rows == 1 && gi == 0 {
			next = GP64()
			LEAQ(Mem{Base: wp, Disp: 576}, next)
		}
		blk := fmt.Sprintf("blocks%d_%d", gi, np)
		Label(blk)
		if next != nil {
			for p := range np {
				for l := 0; l < 576; l += 64 {
					PREFETCHT1(panel(next, wstr, p, l))
				}
			}
			ADDQ(U32(576), next)
		}
		for i := range rows {
			for p := range np {
				VPBROADCASTD(Mem{Base: pc, Disp: 4 * i}, dot[i][p])
			}
		}
		for q := range 8 {
			for p := range np {
				VMOVDQU32(panel(wp, wstr, p, 64*q), w[p])
			}
			for i := range rows {
				for p := range np {
					VPDPBUSD_BCST(Mem{Base: pa, Disp: 32*i + 4*q}, w[p], dot[i][p])
				}
			}
		}
		for p := range np {
			VMOVUPS(panel(wp, wstr, p, 512), w[p])
		}
		for i := range rows {
			for p := range np {
				t := ZMM()
				VCVTDQ2PS(dot[i][p], dot[i][p])
				VMULPS_BCST(Mem{Base: ps, Disp: 4 * i}, w[p], t)
				VFMADD231PS(t, dot[i][p], acc[i][p])
			}
		}
		ADDQ(U32(32*rows), pa)
		ADDQ(U8(4*rows), ps)
		ADDQ(U8(4*rows), pc)
		ADDQ(U32(576), wp)
		DECQ(blocks)
		JNZ(LabelRef(blk))

		for i := range rows {
			for p := range np {
				VMOVUPS(acc[i][p], K1, strided(c, ldc, ldc3, i, 64*p))
			}
		}
		for range np - 1 {
			ADDQ(wstr, wq)
		}
		ADDQ(U32(64*np), c)
		SUBQ(U8(np), panels)
		if gi == 0 {
			JMP(LabelRef(loop))
		}
		Label(done)
	}
	// Clean upper halves, so that Go's SSE code after the call pays no
	// transition (Intel cores).
	VZEROUPPER()
	RET()
}
