// Command kquant writes the AVX2 kernels of goformer's blocked GGUF types
// (kernels/quant.go) into asm/kquant_amd64.s: for every one (Q4_0, Q4_1,
// Q5_0, Q5_1, Q2_K to Q6_K, IQ4_NL and IQ4_XS) a matrix-vector product over
// the file's blocks and a GEMM tile, each against activations quantized to
// int8 (Q8_0 blocks for the 32-value types, Q8_K for the K-quants).
//
// Assembly because Go cannot reach the byte dot products (VPMADDUBSW) at
// all, and a Q4_K_M decode step is these products over every weight.
//
// Every integer sum is exact: VPMADDUBSW multiplies an unsigned weight code
// (at most 63) by a signed activation (|x| ≤ 127) and adds pairs into int16,
// at most 2·63·127 = 16002 < 32767; VPMADDWD by the int16 sub-block scales
// then adds pairs into int32. IQ4_NL's and IQ4_XS's codes are signed, so
// the sign of q moves onto x (VPSIGNB) as in the int8 kernels.
//
// Q4_0 and Q5_0 (chain.go) sum each output as one float32 chain over its
// blocks, eight outputs in the lanes: rows of W in the GEMV, rows of A in
// the tiles of eight and sixteen activation rows. For the other types the float32 work
// is per block: the integer sums of eight lanes are converted once and
// multiplied by d·xs (and the mins by dmin·xs) into eight float32 lanes per
// row, summed across lanes at the end of the row; their tile of three
// activation rows runs, per row, exactly the GEMV's instructions on the
// same weight registers. Either way every row of the GEMM equals the GEMV
// of that row bit for bit.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("amd64,!purego")
	constants()
	for _, t := range chainTypes {
		chainKernels(t)
	}
	// The Q5_0 types again for the AVX-512 tier, their fifth bits in mask
	// registers (pairFifthsMasked); the codes and sums are the AVX2
	// kernels', so are the results, bit for bit.
	maskFifths, suffix = true, "AVX512"
	for _, t := range chainTypes {
		if t.fifth {
			chainKernels(t)
		}
	}
	maskFifths, suffix = false, "AVX2"
	for _, t := range []blockType{q4_1, q5_1, q2K, q3K, q4K, q5K, q6K, iq4NL, iq4XS} {
		kernel(t, 1)
		kernel(t, tileRows)
	}
	Generate()
}

// tileRows is the height of every GEMM tile: three rows of activations
// address their values, scales and sums through base + stride·{0, 1, 2}
// (x86 scales 1 and 2), and their accumulators fit the 16 YMM registers
// beside each type's unpacked weights.
const tileRows = 3

// prefetchDistance is how many blocks ahead the kernels fetch W.
const prefetchDistance = 16

const (
	matVecSig = "func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int)"
	tileSig   = "func(c []float32, ldc int, w []byte, aq []int8, as []float32, asum []int16, k, n int)"
)

// blockType is one GGUF block type: its block, the activations' per-block
// bytes of sums, and the body that adds one block's products into the
// rows' accumulators.
type blockType struct {
	name       string // kernels' name of the type
	blockLen   int    // values per block: 32 or 256
	blockBytes int
	sumBytes   int // bytes of activation sums per block: 32 (Q8_K), 2 (Q8_0)
	body       func(w Register, a acts, acc []VecVirtual)
	meaning    string // the generic twin the doc comment names
}

// acts addresses the current block of each activation row: values, scale
// and sums of row r are at q, s, sum + r·stride.
type acts struct {
	q, s, sum    Register
	qS, sS, sumS Register // strides in bytes; nil for one row
}

func at(base, stride Register, r, disp int) Mem {
	switch r {
	case 0:
		return Mem{Base: base, Disp: disp}
	case 1:
		return Mem{Base: base, Index: stride, Scale: 1, Disp: disp}
	case 2:
		return Mem{Base: base, Index: stride, Scale: 2, Disp: disp}
	}
	panic("at: row out of range")
}

func (a acts) values(r, disp int) Mem { return at(a.q, a.qS, r, disp) }
func (a acts) scale(r int) Mem        { return at(a.s, a.sS, r, 0) }
func (a acts) sums(r, disp int) Mem   { return at(a.sum, a.sumS, r, disp) }

// log2 of a power of two.
func log2(v int) uint8 {
	var s uint8
	for 1<<s < v {
		s++
	}
	return s
}

// kernel emits the GEMV (rows 1) or the GEMM tile of t.
func kernel(t blockType, rows int) {
	var name string
	if rows == 1 {
		name = t.name + "MatVecAVX2"
		TEXT(name, NOSPLIT, matVecSig)
	} else {
		name = fmt.Sprintf("%sMatMul%dAVX2", t.name, rows)
		TEXT(name, NOSPLIT, tileSig)
	}
	Pragma("noescape")
	Doc(doc(name, t, rows)...)

	var c, ldc Register
	qp, sp, sump := "xq", "xs", "xsum"
	if rows == 1 {
		c = Load(Param("y").Base(), GP64())
	} else {
		c = Load(Param("c").Base(), GP64())
		ldc = Load(Param("ldc"), GP64())
		SHLQ(U8(2), ldc)
		qp, sp, sump = "aq", "as", "asum"
	}
	wp := Load(Param("w").Base(), GP64())
	n := Load(Param("n"), GP64())
	var a acts
	if rows > 1 {
		a.qS = Load(Param("k"), GP64())
		a.sS, a.sumS = GP64(), GP64()
		MOVQ(a.qS, a.sS)
		SHRQ(U8(log2(t.blockLen)-2), a.sS) // 4 bytes of scale per block
		MOVQ(a.qS, a.sumS)
		SHRQ(U8(log2(t.blockLen)-log2(t.sumBytes)), a.sumS)
	}

	Label("row")
	a.q = Load(Param(qp).Base(), GP64())
	a.s = Load(Param(sp).Base(), GP64())
	a.sum = Load(Param(sump).Base(), GP64())
	blocks := Load(Param("k"), GP64())
	SHRQ(U8(log2(t.blockLen)), blocks)
	acc := make([]VecVirtual, rows)
	for r := range acc {
		acc[r] = YMM()
		// A load of zeros rather than a self-XOR, which avo's liveness
		// analysis would read as a use.
		VMOVUPS(zeros, acc[r])
	}
	Label("block")
	// Every cache line of the block prefetchDistance blocks ahead: with
	// one line a block (a Q6_K block is 3.3), the K-quant GEMVs streamed
	// weights from memory at about two thirds of the speed they reach.
	for l := 0; l < t.blockBytes; l += 64 {
		PREFETCHT0(Mem{Base: wp, Disp: prefetchDistance*t.blockBytes + l})
	}
	t.body(wp, a, acc)
	ADDQ(U32(t.blockBytes), wp)
	ADDQ(U32(t.blockLen), a.q)
	ADDQ(U8(4), a.s)
	ADDQ(U8(t.sumBytes), a.sum)
	DECQ(blocks)
	JNZ(LabelRef("block"))

	for r := range acc {
		reduceStore(acc[r], at(c, ldc, r, 0))
	}
	ADDQ(U8(4), c)
	DECQ(n)
	JNZ(LabelRef("row"))
	VZEROUPPER()
	RET()
}

func doc(name string, t blockType, rows int) []string {
	if rows == 1 {
		return []string{
			fmt.Sprintf("%s computes y = W·x for a %s matrix W [n×k] of GGUF blocks", name, t.name),
			"and x quantized by kernels.QuantizeActivations (kernels.QuantMatVec):",
			"",
			"	for j := 0; j < n; j++ {",
			"		var s float32",
			fmt.Sprintf("		for b := 0; b < k/%d; b++ {", t.blockLen),
			fmt.Sprintf("			s += %s(block b of row j, x's block b)", t.meaning),
			"		}",
			"		y[j] = s",
			"	}",
			"",
			"with exact integer sums and the float32 sum in another order. k is a positive",
			fmt.Sprintf("multiple of %d and n ≥ 1. It needs AVX2, FMA and F16C.", t.blockLen),
		}
	}
	return []string{
		fmt.Sprintf("%s computes %d rows of C = A·Wᵀ for a %s matrix W [n×k] of GGUF", name, rows, t.name),
		"blocks and activations A quantized by kernels.QuantizeActivations",
		"(kernels.QuantMatMul):",
		"",
		fmt.Sprintf("	for i := 0; i < %d; i++ {", rows),
		fmt.Sprintf("		%sMatVecAVX2(c[i*ldc:i*ldc+n], w, row i of aq, as and asum, k, n)", t.name),
		"	}",
		"",
		"bit for bit. k is a positive multiple of the block and n ≥ 1. It needs AVX2,",
		"FMA and F16C.",
	}
}

// reduceStore sums the eight lanes of acc and stores the float32 at dst.
func reduceStore(acc VecVirtual, dst Mem) {
	x, hi := acc.AsX(), XMM()
	VEXTRACTF128(U8(1), acc, hi)
	VADDPS(hi, x, x)
	VMOVHLPS(x, hi, hi)
	VADDPS(hi, x, x)
	VMOVSHDUP(x, hi)
	VADDSS(hi, x, x)
	VMOVSS(x, dst)
}

var (
	zeros, nibbles, eights, ones16 Mem
	k4ScaleShift, k4ScaleMask      Mem
	k4HighMask, lowBits            Mem
	pairShuffle                    [8]Mem // int16 lane i of each 128-bit half, everywhere
	q6ScaleShuffle                 [8]Mem // byte 2i eight times, then byte 2i+1
	q6HighMask                     Mem
	bitBytes, bitSel               Mem // the 5-bit types' fifth bits as bytes
	pairBytesLo, pairBytesHi       Mem // the same in each half, values 0-15 and 16-31
	// The same for interleaved pairs: the high half's bytes are 4-7.
	pairBytesLoX8, pairBytesHiX8 Mem
	// For each byte of a pair's lo and hi, the bit of its value in a
	// qword holding the two rows' fifth-bit words (pairFifthsMasked).
	bitIndexLo, bitIndexHi  Mem
	highNibbles             Mem
	sixteens, iq4Levels     Mem
	threes, thirtyTwos      Mem
	groupShuffle            [4]Mem // int16 lane 2j in the low half, 2j+1 in the high
	q3LowShift, q3HighShift Mem
	nibbleShift             Mem // qwords 0, 0, 4, 4
)

func bytes32(name string, f func(i int) byte) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := range 32 {
		DATA(i, U8(f(i)))
	}
	return m
}

func constants() {
	zeros = bytes32("kqZeros", func(int) byte { return 0 })
	nibbles = bytes32("kqNibbles", func(int) byte { return 0x0f })
	eights = bytes32("kqEights", func(int) byte { return 8 })
	ones16 = bytes32("kqOnes16", func(i int) byte { return byte(1 - i%2) })
	q6HighMask = bytes32("kqHigh2", func(int) byte { return 0x30 })
	lowBits = bytes32("kqLowBit", func(int) byte { return 1 })
	bitBytes = bytes32("kqBitBytes", func(i int) byte { return byte(i / 8) })
	bitSel = bytes32("kqBitSel", func(i int) byte { return byte(1 << (i % 8)) })
	pairBytesLo = bytes32("kqPairBytesLo", func(i int) byte { return byte(i % 16 / 8) })
	pairBytesHi = bytes32("kqPairBytesHi", func(i int) byte { return byte(2 + i%16/8) })
	pairBytesLoX8 = bytes32("kqPairBytesLoX8", func(i int) byte { return byte(i%16/8 + 4*(i/16)) })
	pairBytesHiX8 = bytes32("kqPairBytesHiX8", func(i int) byte { return byte(2 + i%16/8 + 4*(i/16)) })
	bitIndexLo = bytes32("kqBitIndexLo", func(i int) byte { return byte(i%16 + 32*(i/16)) })
	bitIndexHi = bytes32("kqBitIndexHi", func(i int) byte { return byte(16 + i%16 + 32*(i/16)) })
	highNibbles = bytes32("kqHighNibbles", func(int) byte { return 0xf0 })
	sixteens = bytes32("kqSixteens", func(int) byte { return 0x10 })
	threes = bytes32("kqThrees", func(int) byte { return 3 })
	thirtyTwos = bytes32("kqThirtyTwos", func(int) byte { return 32 })
	for j := range 4 {
		groupShuffle[j] = bytes32(fmt.Sprintf("kqGroup%d", j), func(b int) byte {
			g := 2 * j
			if b >= 16 {
				g++
			}
			return byte(2*g + b%2)
		})
	}
	levels := []int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}
	iq4Levels = bytes32("kqIQ4Levels", func(i int) byte { return byte(levels[i%16]) })
	dwords := func(name string, v [4]uint32) Mem {
		m := GLOBL(name, RODATA|NOPTR)
		for i, d := range v {
			DATA(4*i, U32(d))
		}
		return m
	}
	k4ScaleShift = dwords("kqK4Shift", [4]uint32{0, 0, 0, 4})
	k4ScaleMask = dwords("kqK4Mask", [4]uint32{0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f})
	k4HighMask = dwords("kqK4High", [4]uint32{0, 0x03030303, 0, 0x03030303})
	q3LowShift = dwords("kqQ3Low", [4]uint32{0, 0, 4, 4})
	q3HighShift = dwords("kqQ3High", [4]uint32{0, 2, 4, 6})
	nibbleShift = GLOBL("kqNibbleShift", RODATA|NOPTR)
	for i := range 4 {
		DATA(8*i, U64(4*uint64(i/2)))
	}
	for i := range 8 {
		pairShuffle[i] = bytes32(fmt.Sprintf("kqPair%d", i), func(b int) byte { return byte(2*i + b%2) })
		q6ScaleShuffle[i] = bytes32(fmt.Sprintf("kqQ6Scale%d", i), func(b int) byte {
			if b%16 < 8 {
				return byte(2 * i)
			}
			return byte(2*i + 1)
		})
	}
}

// blockScale converts the fp16 at m (two bytes inside the block) to
// float32 and broadcasts it.
func blockScale(m Mem) VecVirtual {
	g, x, d := GP32(), XMM(), YMM()
	MOVWLZX(m, g)
	VMOVD(g, x)
	VCVTPH2PS(x, x)
	VBROADCASTSS(x, d)
	return d
}

// finish adds d·xs·float32(sumi) of every row into its accumulator.
func finish(d VecVirtual, a acts, sumi, acc []VecVirtual) {
	for r := range acc {
		xs := YMM()
		VBROADCASTSS(a.scale(r), xs)
		VMULPS(d, xs, xs)
		VCVTDQ2PS(sumi[r], sumi[r])
		VFMADD231PS(xs, sumi[r], acc[r])
	}
}

func zeroed(n int) []VecVirtual {
	v := make([]VecVirtual, n)
	for i := range v {
		v[i] = YMM()
		VMOVUPS(zeros, v[i])
	}
	return v
}

// fifthBits adds 16 to byte j of q (a code 0..15) where bit j of the 32
// bits at qh is set, as the 5-bit types store their fifth bits: byte j/8
// of qh into byte j, then bit j%8 of it tested.
func fifthBits(qh Mem, q VecVirtual) {
	if maskFifths {
		// The word is the mask of the bytes that get 16.
		KMOVD(qh, K2)
		VPADDB(sixteens, q, K2, q)
		return
	}
	h := YMM()
	VPBROADCASTD(qh, h)
	VPSHUFB(bitBytes, h, h)
	addSixteens(h, q, bitSel, sixteens)
}

// addSixteens adds 16 to the code in byte j of q where bit j%8 of byte j
// of h is set; sel is bitSel and sixteens is sixteens, in memory or held
// in registers.
func addSixteens(h, q VecVirtual, sel, sixteens Op) {
	VPAND(sel, h, h)
	VPCMPEQB(sel, h, h)
	VPAND(sixteens, h, h)
	VPOR(h, q, q)
}

// nibbles32 loads the 16 bytes at m and returns the 32 nibbles as bytes:
// the low ones (values 0..15), then the high ones (16..31).
func nibbles32(m Mem) VecVirtual {
	q := YMM()
	// The 16 bytes in both halves, the high half's shifted down by four:
	// a load and one shift, where an insert would take a shuffle.
	VBROADCASTI128(m, q)
	VPSRLVQ(nibbleShift, q, q)
	VPAND(nibbles, q, q)
	return q
}

// iq4Codes maps the 32 indices of q to IQ4's levels, in place.
func iq4Codes(q VecVirtual) {
	tbl := YMM()
	VMOVDQU(iq4Levels, tbl)
	VPSHUFB(q, tbl, q)
}

// iq4NL: d (fp16), then IQ4's 4-bit indices laid out as Q4_0's nibbles.
var iq4NL = blockType{name: "IQ4_NL", blockLen: 32, blockBytes: 18, sumBytes: 2, meaning: "dotIQ4_NL",
	body: func(w Register, a acts, acc []VecVirtual) {
		d := blockScale(Mem{Base: w})
		q := nibbles32(Mem{Base: w, Disp: 2})
		iq4Codes(q)
		blockProducts(q, d, a, acc, true)
	}}

// iq4XS: d (fp16), the high bit pairs of eight 6-bit scales (a uint16),
// their low nibbles (bytes 4..7), then IQ4_NL's indices for eight
// sub-blocks of 32; each sub-block's products are scaled by ls − 32 in
// int32.
var iq4XS = blockType{name: "IQ4_XS", blockLen: 256, blockBytes: 136, sumBytes: 32, meaning: "dotIQ4_XS",
	body: func(w Register, a acts, acc []VecVirtual) {
		sumi := zeroed(len(acc))
		for sb := range 8 {
			q := nibbles32(Mem{Base: w, Disp: 8 + 16*sb})
			iq4Codes(q)
			ls, hi := GP32(), GP32()
			MOVBLZX(Mem{Base: w, Disp: 4 + sb/2}, ls)
			if sb%2 == 1 {
				SHRL(U8(4), ls)
			}
			ANDL(U8(0xf), ls)
			MOVWLZX(Mem{Base: w, Disp: 2}, hi)
			if sb > 0 {
				SHRL(U8(2*sb), hi)
			}
			ANDL(U8(3), hi)
			SHLL(U8(4), hi)
			ORL(hi, ls)
			SUBL(U8(32), ls)
			sc := YMM()
			VMOVD(ls, sc.AsX())
			VPBROADCASTW(sc.AsX(), sc)
			aq := YMM()
			VPSIGNB(q, q, aq)
			for r := range sumi {
				x := YMM()
				VMOVDQU(a.values(r, 32*sb), x)
				VPSIGNB(q, x, x)
				VPMADDUBSW(x, aq, x)
				VPMADDWD(sc, x, x)
				VPADDD(x, sumi[r], sumi[r])
			}
		}
		finish(blockScale(Mem{Base: w}), a, sumi, acc)
	}}

// withMin is the body of Q4_1 and Q5_1: d and m (fp16), the unsigned
// codes q (codes builds them), and per row d·xs·Σ q·x in the lanes plus
// m·xs·Σx in lane 0.
func withMin(w Register, a acts, acc []VecVirtual, codes func() VecVirtual) {
	d, m := blockScale(Mem{Base: w}), blockScale(Mem{Base: w, Disp: 2})
	blockProducts(codes(), d, a, acc, false)
	for r := range acc {
		xs, sum := YMM(), XMM()
		g := GP32()
		MOVWLSX(a.sums(r, 0), g)
		VMOVD(g, sum) // lanes 1-7 zero
		VCVTDQ2PS(sum, sum)
		VBROADCASTSS(a.scale(r), xs)
		VMULPS(m, xs, xs)
		VFMADD231PS(xs, sum.AsY(), acc[r])
	}
}

// q4_1: d, m, then Q4_0's nibbles; value q·d + m.
var q4_1 = blockType{name: "Q4_1", blockLen: 32, blockBytes: 20, sumBytes: 2, meaning: "dotQ4_1",
	body: func(w Register, a acts, acc []VecVirtual) {
		withMin(w, a, acc, func() VecVirtual { return nibbles32(Mem{Base: w, Disp: 4}) })
	}}

// q5_1: d, m, the fifth bits qh, then the low nibbles; value q·d + m.
var q5_1 = blockType{name: "Q5_1", blockLen: 32, blockBytes: 24, sumBytes: 2, meaning: "dotQ5_1",
	body: func(w Register, a acts, acc []VecVirtual) {
		withMin(w, a, acc, func() VecVirtual {
			q := nibbles32(Mem{Base: w, Disp: 8})
			fifthBits(Mem{Base: w, Disp: 4}, q)
			return q
		})
	}}

// halves returns the int16 scales of 16 groups (lanes 0-15 of all) as
// two registers, groups 0-7 and 8-15, each in both 128-bit halves: the
// form VPSHUFB with groupShuffle picks a chunk's two scales from.
func halves(all VecVirtual) [2]VecVirtual {
	lo, hi := YMM(), YMM()
	VPERMQ(U8(0b01_00_01_00), all, lo)
	VPERMQ(U8(0b11_10_11_10), all, hi)
	return [2]VecVirtual{lo, hi}
}

// twoBitChunks runs the 32-value chunks of a Q2_K or Q3_K super-block:
// chunk c (values 32c..) of half n = c/4 takes bit pair j = c%4 of the 32
// bytes at qs+32n, plus code(c, q) (Q3_K's high bits; nil for none), and
// groups 2c and 2c+1's scales.
func twoBitChunks(w Register, qs int, scales [2]VecVirtual, a acts, sumi []VecVirtual, code func(c int, q VecVirtual)) {
	for c := range 8 {
		n, j := c/4, c%4
		q, sc := YMM(), YMM()
		VMOVDQU(Mem{Base: w, Disp: qs + 32*n}, q)
		if j > 0 {
			VPSRLW(U8(2*j), q, q)
		}
		VPAND(threes, q, q)
		if code != nil {
			code(c, q)
		}
		VPSHUFB(groupShuffle[j], scales[n], sc)
		kProducts(q, sc, a, 32*c, sumi)
	}
}

// q2K: 16 bytes of 4-bit scales (low nibble) and mins (high) of groups of
// 16, 64 bytes of 2-bit codes, d and dmin (fp16).
var q2K = blockType{name: "Q2_K", blockLen: 256, blockBytes: 84, sumBytes: 32, meaning: "dotQ2_K",
	body: func(w Register, a acts, acc []VecVirtual) {
		raw, b := XMM(), XMM()
		VMOVDQU(Mem{Base: w}, raw)
		VPAND(nibbles.Offset(0), raw, b)
		sc := YMM()
		VPMOVZXBW(b, sc)
		VPSRLW(U8(4), raw, raw)
		VPAND(nibbles.Offset(0), raw, raw)
		mins := YMM()
		VPMOVZXBW(raw, mins)
		dmin := blockScale(Mem{Base: w, Disp: 82})
		for r := range acc {
			bs, xs := YMM(), YMM()
			VMOVDQU(a.sums(r, 0), bs)
			VPMADDWD(mins, bs, bs)
			VCVTDQ2PS(bs, bs)
			VBROADCASTSS(a.scale(r), xs)
			VMULPS(dmin, xs, xs)
			VFNMADD231PS(xs, bs, acc[r])
		}
		sumi := zeroed(len(acc))
		twoBitChunks(w, 16, halves(sc), a, sumi, nil)
		finish(blockScale(Mem{Base: w, Disp: 80}), a, sumi, acc)
	}}

// q3K: 32 bytes of high bits hm, 64 of 2-bit low bits, 12 bytes of 6-bit
// scales (biased by 32) of groups of 16, d (fp16). The code low + 4·high
// (0..7) stands for it − 4, corrected by −4·Σ sc_g·xsum_g.
var q3K = blockType{name: "Q3_K", blockLen: 256, blockBytes: 110, sumBytes: 32, meaning: "dotQ3_K",
	body: func(w Register, a acts, acc []VecVirtual) {
		// The 12 scale bytes as dwords a0, a1, t: the scales are
		// a0 & 15, a1 & 15, a0 >> 4 & 15, a1 >> 4 & 15 (four bytes each)
		// with bit pairs 0, 2, 4 and 6 of t's bytes on top, minus 32.
		u, lo, hi := XMM(), XMM(), XMM()
		VMOVQ(Mem{Base: w, Disp: 96}, u)
		VPINSRD(U8(2), Mem{Base: w, Disp: 104}, u, u) // no read past the block's 110 bytes
		VPSHUFD(U8(0b01_00_01_00), u, lo)             // a0, a1, a0, a1
		VPSRLVD(q3LowShift, lo, lo)
		VPAND(nibbles.Offset(0), lo, lo)
		VPSHUFD(U8(0b10_10_10_10), u, hi) // t, t, t, t
		VPSRLVD(q3HighShift, hi, hi)
		VPAND(threes.Offset(0), hi, hi)
		VPSLLD(U8(4), hi, hi)
		VPOR(hi, lo, lo)
		VPSUBB(thirtyTwos.Offset(0), lo, lo)
		sc := YMM()
		VPMOVSXBW(lo, sc)
		sumi := zeroed(len(acc))
		for r := range sumi {
			bs := YMM()
			VMOVDQU(a.sums(r, 0), bs)
			VPMADDWD(sc, bs, bs)
			VPSLLD(U8(2), bs, bs)
			VPSUBD(bs, sumi[r], sumi[r])
		}
		twoBitChunks(w, 32, halves(sc), a, sumi, func(c int, q VecVirtual) {
			h := YMM()
			VMOVDQU(Mem{Base: w}, h)
			if c > 0 {
				VPSRLW(U8(c), h, h)
			}
			VPAND(lowBits, h, h)
			VPSLLW(U8(2), h, h)
			VPOR(h, q, q)
		})
		finish(blockScale(Mem{Base: w, Disp: 108}), a, sumi, acc)
	}}

// blockProducts adds d·xs·Σ q·x of a block of 32 codes q to every row's
// accumulator. Unsigned codes go straight into VPMADDUBSW; signed ones as
// |q| times x with q's sign (VPSIGNB; |q| ≤ 127 and |x| ≤ 127, so the
// pair sums, at most 32258, fit int16).
func blockProducts(q, d VecVirtual, a acts, acc []VecVirtual, signed bool) {
	aq := q
	if signed {
		aq = YMM()
		VPSIGNB(q, q, aq)
	}
	for r := range acc {
		x, xs := YMM(), YMM()
		VMOVDQU(a.values(r, 0), x)
		if signed {
			VPSIGNB(q, x, x)
		}
		VPMADDUBSW(x, aq, x)
		VPMADDWD(ones16, x, x)
		VCVTDQ2PS(x, x)
		VBROADCASTSS(a.scale(r), xs)
		VMULPS(d, xs, xs)
		VFMADD231PS(xs, x, acc[r])
	}
}

// k4Scales unpacks the eight 6-bit scales and mins of a Q4_K or Q5_K
// super-block (bytes 4..15) as int16: scales in both 128-bit halves of the
// first result, mins in the second.
func k4Scales(w Register) (scales, mins VecVirtual) {
	// Dwords U0..U2 of the 12 bytes: scales 0-3 are U0 & 63, scales 4-7
	// U2's low nibbles with U0's top bit pairs; mins 0-3 U1 & 63, mins
	// 4-7 U2's high nibbles with U1's top bit pairs.
	u, lo, hi := XMM(), XMM(), XMM()
	VMOVDQU(Mem{Base: w, Disp: 4}, u)
	VPSHUFD(U8(0b10_01_10_00), u, lo) // U0, U2, U1, U2
	VPSRLVD(k4ScaleShift, lo, lo)     // U0, U2, U1, U2>>4
	VPAND(k4ScaleMask, lo, lo)
	VPSHUFD(U8(0b01_01_00_00), u, hi) // U0, U0, U1, U1
	VPSRLD(U8(6), hi, hi)
	VPAND(k4HighMask, hi, hi)
	VPSLLD(U8(4), hi, hi)
	VPOR(hi, lo, lo)
	all := YMM()
	VPMOVZXBW(lo, all)
	scales, mins = YMM(), XMM()
	VPERMQ(U8(0b01_00_01_00), all, scales)
	VEXTRACTI128(U8(1), all, mins)
	return scales, mins
}

// kMins subtracts dmin·xs·Σ_s mn_s·(xsum[2s] + xsum[2s+1]) from every
// row's accumulator (lanes 0-3).
func kMins(w Register, mins VecVirtual, a acts, acc []VecVirtual) {
	dm := XMM()
	g := GP32()
	MOVWLZX(Mem{Base: w, Disp: 2}, g)
	VMOVD(g, dm)
	VCVTPH2PS(dm, dm)
	VBROADCASTSS(dm, dm) // dmin in lanes 0-3; the VEX write zeroes 4-7
	for r := range acc {
		bs, pairs, xs := YMM(), XMM(), YMM()
		VMOVDQU(a.sums(r, 0), bs)
		VEXTRACTI128(U8(1), bs, pairs)
		VPHADDW(pairs, bs.AsX(), pairs) // the eight sums of 32
		VPMADDWD(mins, pairs, pairs)
		VCVTDQ2PS(pairs, pairs)
		VBROADCASTSS(a.scale(r), xs)
		VMULPS(dm.AsY(), xs, xs)
		VFNMADD231PS(xs, pairs.AsY(), acc[r])
	}
}

// q4K: d, dmin, scales, then 128 bytes of nibbles: bytes 32j..32j+31 hold
// values 64j.. (low nibbles, scale 2j) and 64j+32.. (high, scale 2j+1).
var q4K = blockType{name: "Q4_K", blockLen: 256, blockBytes: 144, sumBytes: 32, meaning: "dotQ4_K",
	body: func(w Register, a acts, acc []VecVirtual) { kBody(w, a, acc, 16, false) }}

// q5K: Q4_K with the fifth bits in bytes 16..47 (bit s of byte l for
// value 32s+l) and the nibbles in 48..175.
var q5K = blockType{name: "Q5_K", blockLen: 256, blockBytes: 176, sumBytes: 32, meaning: "dotQ5_K",
	body: func(w Register, a acts, acc []VecVirtual) { kBody(w, a, acc, 48, true) }}

// kBody is the super-block of Q4_K (fifth false) or Q5_K: the mins, then
// each sub-block's codes (nibbles at qs, and fifth bits at 16) times its
// scale.
func kBody(w Register, a acts, acc []VecVirtual, qs int, fifth bool) {
	scales, mins := k4Scales(w)
	kMins(w, mins, a, acc)
	sumi := zeroed(len(acc))
	for s := range 8 {
		q, sc := YMM(), YMM()
		VMOVDQU(Mem{Base: w, Disp: qs + 32*(s/2)}, q)
		if s%2 == 1 {
			VPSRLW(U8(4), q, q)
		}
		VPAND(nibbles, q, q)
		if fifth {
			h := YMM()
			VMOVDQU(Mem{Base: w, Disp: 16}, h)
			if s > 0 {
				VPSRLW(U8(s), h, h)
			}
			VPAND(lowBits, h, h)
			VPSLLW(U8(4), h, h)
			VPOR(h, q, q)
		}
		VPSHUFB(pairShuffle[s], scales, sc)
		kProducts(q, sc, a, 32*s, sumi)
	}
	finish(blockScale(Mem{Base: w}), a, sumi, acc)
}

// kProducts adds Σ_pairs sc·q·x of the 32 values at disp of every row to
// its int32 sums.
func kProducts(q, sc VecVirtual, a acts, disp int, sumi []VecVirtual) {
	for r := range sumi {
		x := YMM()
		VMOVDQU(a.values(r, disp), x)
		VPMADDUBSW(x, q, x)
		VPMADDWD(sc, x, x)
		VPADDD(x, sumi[r], sumi[r])
	}
}

// q6K: 128 bytes of low nibbles, 64 of high bit pairs, 16 int8 scales of
// 16 values, d. Half h, quarter i (32 values at 128h+32i) takes the low
// nibbles of ql[64h+32(i%2)..] (high nibbles for i ≥ 2) and bit pair i of
// qh[32h..]; the codes are 0..63 for q − 32, so Σ q·x over a group of 16
// is corrected by −32·xsum per group.
var q6K = blockType{name: "Q6_K", blockLen: 256, blockBytes: 210, sumBytes: 32, meaning: "dotQ6_K",
	body: func(w Register, a acts, acc []VecVirtual) {
		sumi := zeroed(len(acc))
		for h := range 2 {
			for i := range 4 {
				q, hb, sc := YMM(), YMM(), YMM()
				VMOVDQU(Mem{Base: w, Disp: 64*h + 32*(i%2)}, q)
				if i >= 2 {
					VPSRLW(U8(4), q, q)
				}
				VPAND(nibbles, q, q)
				VMOVDQU(Mem{Base: w, Disp: 128 + 32*h}, hb)
				switch shift := 4 - 2*i; {
				case shift > 0:
					VPSLLW(U8(shift), hb, hb)
				case shift < 0:
					VPSRLW(U8(-shift), hb, hb)
				}
				VPAND(q6HighMask, hb, hb)
				VPOR(hb, q, q)
				s8 := XMM()
				VMOVDQU(Mem{Base: w, Disp: 192}, s8)
				VPSHUFB(q6ScaleShuffle[4*h+i], s8, s8)
				VPMOVSXBW(s8, sc)
				kProducts(q, sc, a, 128*h+32*i, sumi)
			}
		}
		sc := YMM()
		VPMOVSXBW(Mem{Base: w, Disp: 192}, sc)
		for r := range sumi {
			bs := YMM()
			VMOVDQU(a.sums(r, 0), bs)
			VPMADDWD(sc, bs, bs)
			VPSLLD(U8(5), bs, bs)
			VPSUBD(bs, sumi[r], sumi[r])
		}
		finish(blockScale(Mem{Base: w, Disp: 208}), a, sumi, acc)
	}}
