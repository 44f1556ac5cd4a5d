package main

// The block-chain kernels of Q4_0 and Q5_0, the 32-value types of most
// small models' Q4_K_M files (widths like 576 are not whole super-blocks):
// every output is one float32 chain over the row's blocks,
//
//	s := float32(0)
//	for b := range k / 32 {
//		s = fma(float32(Σ q·x − off·xsum), d·xs, s) // one rounding
//	}
//
// with unsigned codes q (0..15 or 0..31) and the offset off (8 or 16)
// taken out through the activations' block sums. The chain is the same
// whether the outputs sit in lanes by rows of W (the GEMV, eight rows at a
// time, with horizontal adds of the integer products) or by rows of A (the
// GEMM tiles, groups of eight activation rows rearranged by
// kernels.packChainPanels, so that one weight block is unpacked once for
// eight or sixteen rows and no horizontal reduction is needed): prefill
// equals decode bit for bit.
//
// The int16 sums stay exact: a VPMADDUBSW pair is at most 2·31·127 = 7874,
// four of them 31496 < 32767 (Q4_0: 2·15·127 = 3810, eight 30480).

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// chainType is a 32-value type with a block-chain GEMV and panel tile.
type chainType struct {
	name       string
	blockBytes int
	off        uint8 // log2 of the code offset: 3 (8) or 4 (16)
	// codes unpacks the 32 codes of the block at w, in order (of an
	// interleaved type: of the plain rows past its last group of eight).
	codes func(w Mem) VecVirtual
	// pair unpacks the blocks at a and e side by side for the GEMV: the
	// codes of values 0-15 of a and of e in the low and high halves of
	// lo, those of values 16-31 in hi.
	pair func(a, e Mem, k pairConsts) (lo, hi VecVirtual)
	// fifth says the type has fifth bits (Q5_0): its GEMV holds their
	// constants in registers, where Q4_0 holds the nibble mask.
	fifth bool
	// int16 says whether the tile may add its two halves' sums in int16
	// (Q4_0's, at most 30480) before widening.
	int16 bool
	// codesX8 and pairX8, set for an interleaved type (kernels/interleave.go:
	// eight rows' blocks side by side, field by field), unpack the codes
	// of the row in slot s of the block group at w, and the rows of slots
	// 2i and 2i+1 (rows i and i+4) for the GEMV.
	codesX8 func(w Mem, slot int) VecVirtual
	pairX8  func(w Mem, i int, k pairConsts) (lo, hi VecVirtual)
}

// x8 says t is an interleaved type.
func (t chainType) x8() bool { return t.codesX8 != nil }

// layoutOf names how t's matrices lay out their blocks, for the docs.
func layoutOf(t chainType) string {
	if t.x8() {
		return "interleaved blocks (kernels.InterleaveRows)"
	}
	return "GGUF blocks"
}

// x8Bits and x8Nibbles* are the offsets in an interleaved block group of
// the eight rows' fifth bits (4 bytes a slot) and nibbles (16 bytes a
// slot), after their scales; the layout and the slot order 0,4,1,5,2,6,3,7
// are kernels/interleave.go's (slotOf), which this must match.
const x8Bits, x8NibblesQ4, x8NibblesQ5 = 16, 16, 48

// pairConsts are the constants a pair unpacking uses, each a memory
// operand or a register the GEMV loaded once per group of rows.
type pairConsts struct{ nibbles, bitSel, sixteens, bytesLo, bytesHi, bitIdxLo, bitIdxHi Op }

// panelBlockBytes is one block of eight activation rows as
// kernels.packChainPanels writes it (kernels.chainPanelBlock): eight
// 32-byte registers of values, eight float32 scales, eight int32 offset
// sums.
const panelBlockBytes = 320

// chainGroup is the rows of A in one packed group: the eight lanes.
const chainGroup = 8

var chainTypes = []chainType{
	{name: "Q4_0", blockBytes: 18, off: 3, int16: true, codes: q4_0Codes,
		pair: func(a, e Mem, k pairConsts) (lo, hi VecVirtual) {
			return nibblePair(a.Offset(2), e.Offset(2), k)
		}},
	{name: "Q5_0", blockBytes: 22, off: 4, fifth: true, codes: q5_0Codes,
		pair: func(a, e Mem, k pairConsts) (lo, hi VecVirtual) {
			lo, hi = nibblePair(a.Offset(6), e.Offset(6), k)
			qa, qe := YMM(), YMM()
			VPBROADCASTD(a.Offset(2), qa)
			VPBROADCASTD(e.Offset(2), qe)
			if maskFifths {
				// a's word in the low dword of every qword, e's in the
				// high (VPUNPCKLDQ is EVEX-encodable, VPBLENDD is not).
				VPUNPCKLDQ(qe, qa, qa)
				pairFifthsMasked(qa, lo, hi, k)
				return lo, hi
			}
			// a's 32 fifth bits in the low half, e's in the high.
			VPBLENDD(U8(0xf0), qe, qa, qa)
			pairFifths(qa, lo, hi, k)
			return lo, hi
		}},
	{name: "Q4_0x8", blockBytes: 18, off: 3, int16: true, codes: q4_0Codes,
		codesX8: func(w Mem, slot int) VecVirtual { return nibbles32(w.Offset(x8NibblesQ4 + 16*slot)) },
		pairX8: func(w Mem, i int, k pairConsts) (lo, hi VecVirtual) {
			return nibbleSplit(w.Offset(x8NibblesQ4+32*i), k)
		}},
	{name: "Q5_0x8", blockBytes: 22, off: 4, fifth: true, codes: q5_0Codes,
		codesX8: func(w Mem, slot int) VecVirtual {
			q := nibbles32(w.Offset(x8NibblesQ5 + 16*slot))
			fifthBits(w.Offset(x8Bits+4*slot), q)
			return q
		},
		pairX8: func(w Mem, i int, k pairConsts) (lo, hi VecVirtual) {
			lo, hi = nibbleSplit(w.Offset(x8NibblesQ5+32*i), k)
			if maskFifths {
				qa := YMM()
				VPBROADCASTQ(w.Offset(x8Bits+8*i), qa)
				pairFifthsMasked(qa, lo, hi, k)
				return lo, hi
			}
			// Rows i and i+4's fifth bits, 4 bytes each, side by side in
			// every quarter: the shuffles take the low half's from bytes
			// 0-3, the high half's from 4-7 (pairBytesLoX8, pairBytesHiX8).
			qa := YMM()
			VPBROADCASTQ(w.Offset(x8Bits+8*i), qa)
			pairFifths(qa, lo, hi, k)
			return lo, hi
		}},
}

// q4_0Codes and q5_0Codes unpack the 32 codes of the GGUF block at w.
func q4_0Codes(w Mem) VecVirtual { return nibbles32(w.Offset(2)) }

func q5_0Codes(w Mem) VecVirtual {
	q := nibbles32(w.Offset(6))
	fifthBits(w.Offset(2), q)
	return q
}

// pairFifths adds two rows' fifth bits, held in qa where k.bytesLo and
// k.bytesHi pick them out (the low half's row's and the high half's), to
// the rows' codes: values 0-15 in lo, 16-31 in hi. qa is overwritten.
func pairFifths(qa, lo, hi VecVirtual, k pairConsts) {
	hh := YMM()
	VPSHUFB(k.bytesHi, qa, hh)
	VPSHUFB(k.bytesLo, qa, qa)
	addSixteens(qa, lo, k.bitSel, k.sixteens)
	addSixteens(hh, hi, k.bitSel, k.sixteens)
}

// avx512Needs is what a kernel's doc adds to its needs on the AVX-512
// tier.
func avx512Needs() string {
	if maskFifths {
		return ", and AVX-512 BW, VL and BITALG for its fifth bits in mask registers"
	}
	return ""
}

// pairFifthsMasked is pairFifths on the AVX-512 tier: qa holds the two
// rows' fifth-bit words in every qword (the low half's row's in the low
// dword), and VPSHUFBITQMB (BITALG) picks from it, for each byte of lo and
// of hi, the bit of that byte's value as a mask bit (kqBitIndexLo/Hi), so
// two masked adds of 16 finish the codes: four vector instructions where
// pairFifths takes ten. The codes, and so the sums, are the same.
func pairFifthsMasked(qa, lo, hi VecVirtual, k pairConsts) {
	VPSHUFBITQMB(k.bitIdxLo, qa, K4)
	VPSHUFBITQMB(k.bitIdxHi, qa, K5)
	VPADDB(k.sixteens, lo, K4, lo)
	VPADDB(k.sixteens, hi, K5, hi)
}

// maskFifths makes the Q5_0 kernels add their fifth bits through mask
// registers (AVX-512 BW, VL and BITALG), suffix names the kernels' tier:
// main generates the Q5_0 types' kernels (chainKernels) twice, for AVX2
// and then for the AVX-512 tier.
var (
	maskFifths bool
	suffix     = "AVX2"
)

// nibblePair loads the 16 bytes of nibbles at a and at e into the low and
// high halves and splits them: low nibbles (values 0-15) in lo, high
// (16-31) in hi.
func nibblePair(a, e Mem, k pairConsts) (lo, hi VecVirtual) {
	n := YMM()
	VMOVDQU(a, n.AsX())
	VINSERTI128(U8(1), e, n, n)
	return splitNibbles(n, k)
}

// nibbleSplit is nibblePair for two rows' nibbles stored side by side at
// m (the interleaved layout): one load.
func nibbleSplit(m Mem, k pairConsts) (lo, hi VecVirtual) {
	n := YMM()
	VMOVDQU(m, n)
	return splitNibbles(n, k)
}

// splitNibbles splits the bytes of n into their low nibbles (lo) and high
// ones (hi).
func splitNibbles(n VecVirtual, k pairConsts) (lo, hi VecVirtual) {
	lo, hi = YMM(), YMM()
	VPAND(k.nibbles, n, lo)
	VPSRLW(U8(4), n, hi)
	VPAND(k.nibbles, hi, hi)
	return lo, hi
}

// chainKernels emits a chain type's GEMV and its tiles of eight and
// sixteen rows of A.
func chainKernels(t chainType) {
	chainMatVec(t)
	tile := chainTile
	if t.x8() {
		tile = chainTileX8
	}
	tile(t, 1)
	tile(t, 2)
}

// chainMatVec emits the GEMV: groups of eight rows of W in the lanes, then
// the rows left over one at a time, each output the same chain.
func chainMatVec(t chainType) {
	name := t.name + "MatVec" + suffix
	TEXT(name, NOSPLIT, matVecSig)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s computes y = W·x for a %s matrix W [n×k] of %s", name, t.name, layoutOf(t)),
		"and x quantized by kernels.QuantizeActivations (kernels.QuantMatVec):",
		"",
		"	for j := 0; j < n; j++ {",
		"		var s float32",
		"		for b := 0; b < k/32; b++ {",
		fmt.Sprintf("			// q: the unsigned codes of block b of row j, d its scale; off = %d", 1<<t.off),
		"			s = fma(float32(Σ q·x[32b:] − off·xsum[b]), d·xs[b], s)",
		"		}",
		"		y[j] = s",
		"	}",
		"",
		"with exact integer sums and one float32 rounding per block (fma). Every row's",
		fmt.Sprintf("chain is the one %sMatMul8%s runs. k is a positive multiple of 32 and", t.name, suffix),
		"n ≥ 1. It needs AVX2, FMA and F16C"+avx512Needs()+".",
	)
	y := Load(Param("y").Base(), GP64())
	w := Load(Param("w").Base(), GP64())
	n := Load(Param("n"), GP64())
	rb := Load(Param("k"), GP64())
	SHRQ(U8(5), rb)
	IMUL3Q(U32(t.blockBytes), rb, rb) // bytes per row of W

	CMPQ(n, U8(8))
	JB(LabelRef(t.name + "mvTail"))
	Label(t.name + "mvGroup")
	{
		xq, xs, xsum, blocks := vectorStart()
		var rb3, w4, pf Register
		if !t.x8() {
			rb3, w4, pf = GP64(), GP64(), GP64()
			LEAQ(Mem{Base: rb, Index: rb, Scale: 2}, rb3)
			LEAQ(Mem{Base: w, Index: rb, Scale: 4}, w4)
			// The next group of rows is one run of 8·rb bytes: fetch 8
			// blocks' worth of it per block. The eight rows of this one
			// are streams too short (rb is 324 bytes at k = 576) for the
			// hardware prefetcher to pick up. (Interleaved, the group is
			// one stream and its successor is 8·rb past w.)
			LEAQ(Mem{Base: w4, Index: rb, Scale: 4}, pf)
		}
		row := func(i int) Mem {
			base := w
			if i >= 4 {
				base = w4
			}
			switch i % 4 {
			case 0:
				return Mem{Base: base}
			case 1:
				return Mem{Base: base, Index: rb, Scale: 1}
			case 2:
				return Mem{Base: base, Index: rb, Scale: 2}
			}
			return Mem{Base: base, Index: rb3, Scale: 1}
		}
		acc := YMM()
		VMOVUPS(zeros, acc)
		// The constants the unpacking uses most, in registers (16 hold
		// no more beside the rest of the loop); the others stay memory
		// operands.
		k := pairConsts{nibbles: nibbles, bitSel: bitSel, sixteens: sixteens, bytesLo: pairBytesLo, bytesHi: pairBytesHi, bitIdxLo: bitIndexLo, bitIdxHi: bitIndexHi}
		if t.x8() {
			k.bytesLo, k.bytesHi = pairBytesLoX8, pairBytesHiX8
		}
		held := []*Op{&k.nibbles}
		switch {
		case t.fifth && maskFifths:
			held = []*Op{&k.nibbles, &k.bitIdxLo, &k.bitIdxHi}
		case t.fifth:
			held = []*Op{&k.bitSel, &k.bytesLo, &k.bytesHi}
		}
		for _, c := range held {
			r := YMM()
			VMOVDQU(*c, r)
			*c = r
		}
		Label(t.name + "mvBlock")
		for l := 0; l < 8*t.blockBytes; l += 64 {
			if t.x8() {
				PREFETCHT0(Mem{Base: w, Index: rb, Scale: 8, Disp: l})
			} else {
				PREFETCHT0(Mem{Base: pf, Disp: l})
			}
		}
		// x's values 0-15 and 16-31, each in both halves.
		xlo, xhi := YMM(), YMM()
		VBROADCASTI128(Mem{Base: xq}, xlo)
		VBROADCASTI128(Mem{Base: xq, Disp: 16}, xhi)
		// Rows i and i+4 side by side: eight int16 sums of each in its
		// half (at most 2·(2·31·127) = 15748), then pairs of rows.
		var quads [2]VecVirtual
		for p := range 2 {
			var prod [2]VecVirtual
			for r := range 2 {
				i := 2*p + r
				var lo, hi VecVirtual
				if t.x8() {
					lo, hi = t.pairX8(Mem{Base: w}, i, k)
				} else {
					lo, hi = t.pair(row(i), row(i+4), k)
				}
				VPMADDUBSW(xlo, lo, lo)
				VPMADDUBSW(xhi, hi, hi)
				VPADDW(hi, lo, lo)
				prod[r] = lo
			}
			// Rows 2p, 2p+1 | 2p+4, 2p+5: four sums each (≤ 31496),
			// then two int32 sums each.
			VPHADDW(prod[1], prod[0], prod[0])
			VPMADDWD(ones16, prod[0], prod[0])
			quads[p] = prod[0]
		}
		// Rows 0-3 | 4-7, one int32 sum each.
		s := YMM()
		VPHADDD(quads[1], quads[0], s)
		g, corr := GP32(), XMM()
		MOVWLSX(Mem{Base: xsum}, g)
		SHLL(U8(t.off), g)
		VMOVD(g, corr)
		VPBROADCASTD(corr, corr.AsY())
		VPSUBD(corr.AsY(), s, s)
		VCVTDQ2PS(s, s)
		// The eight rows' scales d: side by side when interleaved, else
		// gathered from eight blocks.
		dy, m := YMM(), YMM()
		if t.x8() {
			VCVTPH2PS(Mem{Base: w}, dy)
		} else {
			d := XMM()
			MOVWLZX(row(0), g)
			VMOVD(g, d)
			for i := 1; i < 8; i++ {
				VPINSRW(U8(i), row(i), d, d)
			}
			VCVTPH2PS(d, dy)
		}
		VBROADCASTSS(Mem{Base: xs}, m)
		VMULPS(m, dy, m)
		VFMADD231PS(m, s, acc)
		if t.x8() {
			ADDQ(U32(8*t.blockBytes), w)
		} else {
			ADDQ(U8(t.blockBytes), w)
			ADDQ(U8(t.blockBytes), w4)
			ADDQ(U32(8*t.blockBytes), pf)
		}
		nextBlock(xq, xs, xsum, blocks, t.name+"mvBlock")
		VMOVUPS(acc, Mem{Base: y})
		if !t.x8() {
			// w4 is past the group's fifth row: on to its ninth. (An
			// interleaved group's blocks end where the next begins.)
			LEAQ(Mem{Base: w4, Index: rb3, Scale: 1}, w)
		}
		ADDQ(U8(32), y)
		SUBQ(U8(8), n)
		CMPQ(n, U8(8))
		JAE(LabelRef(t.name + "mvGroup"))
	}
	Label(t.name + "mvTail")
	TESTQ(n, n)
	JZ(LabelRef(t.name + "mvDone"))
	Label(t.name + "mvRow")
	{
		xq, xs, xsum, blocks := vectorStart()
		acc := XMM()
		VMOVUPS(zeros.Offset(0), acc)
		Label(t.name + "mvRowBlock")
		q := t.codes(Mem{Base: w})
		VPMADDUBSW(Mem{Base: xq}, q, q)
		VPMADDWD(ones16, q, q)
		s := XMM()
		VEXTRACTI128(U8(1), q, s)
		VPADDD(q.AsX(), s, s)
		t2 := XMM()
		VPSHUFD(U8(0b01_00_11_10), s, t2)
		VPADDD(t2, s, s)
		VPSHUFD(U8(0b10_11_00_01), s, t2)
		VPADDD(t2, s, s)
		g, corr := GP32(), XMM()
		MOVWLSX(Mem{Base: xsum}, g)
		SHLL(U8(t.off), g)
		VMOVD(g, corr)
		VPSUBD(corr, s, s)
		VCVTDQ2PS(s, s)
		d := XMM()
		MOVWLZX(Mem{Base: w}, g)
		VMOVD(g, d)
		VCVTPH2PS(d, d)
		VMULSS(Mem{Base: xs}, d, d)
		VFMADD231SS(d, s, acc)
		ADDQ(U8(t.blockBytes), w)
		nextBlock(xq, xs, xsum, blocks, t.name+"mvRowBlock")
		VMOVSS(acc, Mem{Base: y})
		ADDQ(U8(4), y)
		DECQ(n)
		JNZ(LabelRef(t.name + "mvRow"))
	}
	Label(t.name + "mvDone")
	VZEROUPPER()
	RET()
}

// vectorStart loads the GEMV's pointers to x's values, scales and sums,
// and its count of blocks, for a pass over rows of W.
func vectorStart() (xq, xs, xsum, blocks Register) {
	xq = Load(Param("xq").Base(), GP64())
	xs = Load(Param("xs").Base(), GP64())
	xsum = Load(Param("xsum").Base(), GP64())
	blocks = Load(Param("k"), GP64())
	SHRQ(U8(5), blocks)
	return xq, xs, xsum, blocks
}

// nextBlock steps the GEMV's activation pointers to the next block and
// loops to label while blocks remain.
func nextBlock(xq, xs, xsum, blocks Register, label string) {
	ADDQ(U8(32), xq)
	ADDQ(U8(4), xs)
	ADDQ(U8(2), xsum)
	DECQ(blocks)
	JNZ(LabelRef(label))
}

// chainTile emits a GEMM tile: groups of eight rows of A, packed by
// kernels.packChainPanels, against n rows of W, one row of W at a time
// with each group's eight activation rows in the lanes of an accumulator:
// each block of W is unpacked once for all of them.
func chainTile(t chainType, groups int) {
	name := tileText(t, groups, "n ≥ 1")
	c, w, n, gs := tileStart()
	Label(name + "Row")
	p := Load(Param("panel").Base(), GP64())
	blocks := Load(Param("k"), GP64())
	SHRQ(U8(5), blocks)
	acc := zeroed(groups)
	Label(name + "Block")
	tileBlock(t, t.codes(Mem{Base: w}), Mem{Base: w}, p, gs, acc)
	ADDQ(U8(t.blockBytes), w)
	ADDQ(U32(panelBlockBytes), p)
	DECQ(blocks)
	JNZ(LabelRef(name + "Block"))
	storeColumn(c, acc)
	ADDQ(U8(4), c)
	DECQ(n)
	JNZ(LabelRef(name + "Row"))
	VZEROUPPER()
	RET()
}

// tileChunk is the blocks of k an interleaved tile takes at a time: its
// eight rows' passes then read the chunk's W (8·22 bytes a block) and A
// panels (320 bytes a block and group) from L1: 5.6 KB and 20 KB at most.
const tileChunk = 32

// chainTileX8 is chainTile for an interleaved W, a group of eight of its
// rows at a time (n a multiple of 8) over chunks of tileChunk blocks: for
// each chunk the eight rows in turn, each adding the chunk's blocks to its
// accumulators, which wait in the frame between chunks. Every chain still
// takes its blocks in order, so the outputs are chainTile's bit for bit;
// the chunking keeps the chunk's W and A in L1 across the eight passes
// (without it, each pass over a row touched the lines of all eight rows,
// and the A panels streamed from L2 evicted them: 13-15% slower than the
// plain tile).
func chainTileX8(t chainType, groups int) {
	name := tileText(t, groups, "n a positive multiple of 8")
	// The eight rows' accumulators, [row of W][group of A] registers.
	saved := AllocLocal(chainGroup * groups * 32)
	slotAcc := func(r, gi int) Mem { return saved.Offset(32 * (r*groups + gi)) }
	c, w, n, gs := tileStart()
	Label(name + "Group")
	{
		z := YMM()
		VPXOR(z, z, z)
		for i := range chainGroup * groups {
			VMOVDQU(z, saved.Offset(32*i))
		}
	}
	p := Load(Param("panel").Base(), GP64())
	left := Load(Param("k"), GP64())
	SHRQ(U8(5), left)
	Label(name + "Chunk")
	// This chunk: min(left, tileChunk) blocks, wb bytes of W, pb of A.
	wb, pb := GP64(), GP64()
	MOVQ(U32(tileChunk), pb)
	CMPQ(left, pb)
	CMOVQLT(left, pb)
	SUBQ(pb, left)
	IMUL3Q(U32(8*t.blockBytes), pb, wb)
	IMUL3Q(U32(panelBlockBytes), pb, pb)
	for r := range chainGroup {
		slot := 2*(r%4) + r/4
		acc := make([]VecVirtual, groups)
		for gi := range acc {
			acc[gi] = YMM()
			VMOVUPS(slotAcc(r, gi), acc[gi])
		}
		end := GP64()
		LEAQ(Mem{Base: p, Index: pb, Scale: 1}, end)
		label := fmt.Sprintf("%sBlock%d", name, r)
		Label(label)
		tileBlock(t, t.codesX8(Mem{Base: w}, slot), Mem{Base: w, Disp: 2 * r}, p, gs, acc)
		ADDQ(U32(8*t.blockBytes), w)
		ADDQ(U32(panelBlockBytes), p)
		CMPQ(p, end)
		JNE(LabelRef(label))
		for gi := range acc {
			VMOVUPS(acc[gi], slotAcc(r, gi))
		}
		if r < chainGroup-1 {
			// Back to the chunk's start for the next row.
			SUBQ(wb, w)
			SUBQ(pb, p)
		}
	}
	TESTQ(left, left)
	JZ(LabelRef(name + "Store"))
	// On to the next chunk: the last row left w and p at its start.
	JMP(LabelRef(name + "Chunk"))
	Label(name + "Store")
	for r := range chainGroup {
		acc := make([]VecVirtual, groups)
		for gi := range acc {
			acc[gi] = YMM()
			VMOVUPS(slotAcc(r, gi), acc[gi])
		}
		storeColumn(c, acc)
		ADDQ(U8(4), c)
	}
	SUBQ(U8(8), n)
	JNZ(LabelRef(name + "Group"))
	VZEROUPPER()
	RET()
}

// tileText starts a chain tile's function with its doc comment (nRule
// says what n may be) and returns its name.
func tileText(t chainType, groups int, nRule string) string {
	name := fmt.Sprintf("%sMatMul%d%s", t.name, chainGroup*groups, suffix)
	TEXT(name, NOSPLIT, "func(c []float32, ldc int, w []byte, panel []byte, k, n int)")
	Pragma("noescape")
	Doc(tileDoc(t, name, groups, nRule)...)
	return name
}

// tileStart loads a chain tile's pointers to C and W, its count of W rows,
// and the bytes between two groups' panels (k/32·320 = 10k).
func tileStart() (c, w, n, gs Register) {
	c = Load(Param("c").Base(), GP64())
	w = Load(Param("w").Base(), GP64())
	n = Load(Param("n"), GP64())
	gs = Load(Param("k"), GP64())
	IMUL3Q(U8(10), gs, gs)
	return c, w, n, gs
}

// tileDoc is a chain tile's doc comment; nRule says what n may be.
func tileDoc(t chainType, name string, groups int, nRule string) []string {
	return []string{
		fmt.Sprintf("%s computes %d rows of C = A·Wᵀ for a %s matrix W [n×k] of %s", name, chainGroup*groups, t.name, layoutOf(t)),
		fmt.Sprintf("and %d groups of eight rows of activations packed by", groups),
		"kernels.packChainPanels, one after the other (values,",
		"scales and offset sums of each block of 32, rearranged for the lanes):",
		"",
		fmt.Sprintf("	for i := 0; i < %d; i++ {", chainGroup*groups),
		fmt.Sprintf("		%sMatVec%s(c[i*ldc:i*ldc+n], w, row i of A, k, n)", t.name, suffix),
		"	}",
		"",
		fmt.Sprintf("bit for bit. k is a positive multiple of 32 and %s. It needs AVX2,", nRule),
		"FMA and F16C" + avx512Needs() + ".",
	}
}

// tileBlock adds one block of a row of W (its codes q and fp16 scale at
// scale) times every group's panel block at p (the groups gs bytes apart)
// to the groups' accumulators, each lane one chain.
func tileBlock(t chainType, q VecVirtual, scale Mem, p, gs Register, acc []VecVirtual) {
	groups := len(acc)
	panel := func(gi, disp int) Mem {
		if gi == 0 {
			return Mem{Base: p, Disp: disp}
		}
		return Mem{Base: p, Index: gs, Scale: 1, Disp: disp}
	}
	// Per group: rows 0-3 | 4-7, and rows 4-7 | 0-3.
	sums := make([][2]VecVirtual, groups)
	for g := range 4 {
		wg := YMM()
		VPSHUFD(U8(0x55*g), q, wg)
		for gi := range groups {
			for h := range 2 {
				src := panel(gi, 64*g+32*h)
				if g == 0 {
					sums[gi][h] = YMM()
					VPMADDUBSW(src, wg, sums[gi][h])
					continue
				}
				prod := YMM()
				VPMADDUBSW(src, wg, prod)
				VPADDW(prod, sums[gi][h], sums[gi][h])
			}
		}
	}
	d, dy := XMM(), YMM()
	VPBROADCASTW(scale, d)
	VCVTPH2PS(d, dy)
	for gi := range groups {
		s, o := sums[gi][0], sums[gi][1]
		if t.int16 {
			VPERMQ(U8(0b01_00_11_10), o, o)
			VPADDW(o, s, s)
			VPMADDWD(ones16, s, s)
		} else {
			VPMADDWD(ones16, s, s)
			VPMADDWD(ones16, o, o)
			VPERMQ(U8(0b01_00_11_10), o, o)
			VPADDD(o, s, s)
		}
		VPSUBD(panel(gi, 288), s, s)
		VCVTDQ2PS(s, s)
		m := YMM()
		VMULPS(panel(gi, 256), dy, m)
		VFMADD231PS(m, s, acc[gi])
	}
}

// storeColumn stores a row of W's outputs: lane i of group gi's
// accumulator is row 8·gi + i of C, at c in column order.
func storeColumn(c Register, acc []VecVirtual) {
	ldc, ldc3, base := Load(Param("ldc"), GP64()), GP64(), GP64()
	SHLQ(U8(2), ldc)
	LEAQ(Mem{Base: ldc, Index: ldc, Scale: 2}, ldc3)
	MOVQ(c, base)
	for gi := range acc {
		hi := XMM()
		VEXTRACTF128(U8(1), acc[gi], hi)
		for h, src := range []Op{acc[gi].AsX(), hi} {
			if gi+h > 0 {
				LEAQ(Mem{Base: base, Index: ldc, Scale: 4}, base)
			}
			VMOVSS(src, Mem{Base: base})
			VEXTRACTPS(U8(1), src, Mem{Base: base, Index: ldc, Scale: 1})
			VEXTRACTPS(U8(2), src, Mem{Base: base, Index: ldc, Scale: 2})
			VEXTRACTPS(U8(3), src, Mem{Base: base, Index: ldc3, Scale: 1})
		}
	}
}
