// Command q8 writes the amd64 int8 kernels of package kernels (q8.go) into
// asm/q8_amd64.s: the block-quantized matrix-vector product for AVX-512 VNNI
// and for AVX2, the row quantizer, and the int8 GEMM tiles (matmul.go).
//
// Assembly because Go cannot reach the byte dot-product instructions
// (VPDPBUSD, VPMADDUBSW) at all, and the logits GEMV over a 50,257-row int8
// embedding is the largest single weight read of a decode step.
//
// Both dot instructions multiply an unsigned byte by a signed byte, while
// both of our operands are signed. The two tiers reconcile that differently:
//   - VNNI flips W's sign bit, reading w+128 as an unsigned byte, and starts
//     each accumulator at -128·Σx over its four bytes, computed once per
//     chunk of x by a VPDPBUSD of the constant 128 against x. Exact for every
//     int8 w and x: VPDPBUSD adds into int32 without saturating.
//   - AVX2 takes |w| (VPSIGNB w, w: -128 becomes the unsigned byte 128) and
//     moves w's sign onto x (VPSIGNB). x lies in [-127, 127], so negating it
//     never wraps, and VPMADDUBSW's int16 pair sums are at most
//     2·128·127 = 32512 < 32767: the saturation cannot happen.
//
// Each block of 32 has its own scale, so the integer sums are converted to
// float32 per block, multiplied by ws·xs lane by lane and accumulated in
// float32 lanes; one horizontal sum per row at the end.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("amd64,!purego")
	q8MatVecVNNI()
	q8MatVecAVX2()
	q8MatVec16AVX2()
	quantizeData()
	q8QuantizeAVX2()
	q8KQuantizeAVX2()
	q8MatMulVNNI(q8TileRowsVNNI, 5)
	q8MatMulAVX2(q8TileRowsAVX2, 2)
	for rows := 1; rows <= 4; rows++ {
		q8PanelTileVNNI(rows)
	}
	Generate()
}

// The rows of A per int8 GEMM tile, with 5 and 2 rows of W per group.
// VNNI: 3×5 pairs take 15 ZMM registers as accumulators and 9 more for the
// rows of A, their sign corrections and scales, 29 of 32 in all; per pair
// and step that is 7.2 instructions against 7.75 for 4×3 (measured ~7%
// faster on Zen 4). AVX2: 3×2 pairs take 15 of the 16 YMM registers.
const (
	q8TileRowsVNNI = 3
	q8TileRowsAVX2 = 3
)

const matVecSig = "func(y []float32, wq []int8, ws []float32, xq []int8, xs []float32, k, n int)"

// matVecDoc is the meaning of both matrix-vector kernels.
var matVecDoc = []string{
	"computes y = W·x for int8 blocks of 32 (kernels.Q8MatVec):",
	"",
	"	nb := k / 32",
	"	for j := 0; j < n; j++ {",
	"		var s float32",
	"		for b := 0; b < nb; b++ {",
	"			var dot int32",
	"			for i := 0; i < 32; i++ {",
	"				dot += int32(wq[j*k+32*b+i]) * int32(xq[32*b+i])",
	"			}",
	"			s += ws[j*nb+b] * xs[b] * float32(dot)",
	"		}",
	"		y[j] = s",
	"	}",
	"",
	"k is a positive multiple of 32 and n ≥ 1; the slices hold at least n*k,",
	"n*k/32, k, k/32 and n elements.",
}

func matVecDocFor(name, needs string) []string {
	doc := append([]string{name + " " + matVecDoc[0]}, matVecDoc[1:]...)
	return append(doc, "", needs)
}

// rowGroup is the state of the rows a kernel works on at once: per row a
// pointer into W's values, one into W's scales, and a float32 accumulator.
type rowGroup struct {
	w, s []GPVirtual
	acc  []VecVirtual
}

// startRows points R rows at the W values and scales where wRow and sRow
// are, and returns the group; wRow and sRow are left unchanged.
func startRows(R int, wRow, sRow, k, nb4 Register, vec func() VecVirtual) rowGroup {
	g := rowGroup{}
	for r := 0; r < R; r++ {
		w, s := GP64(), GP64()
		if r == 0 {
			MOVQ(wRow, w)
			MOVQ(sRow, s)
		} else {
			LEAQ(Mem{Base: g.w[r-1], Index: k, Scale: 1}, w)
			LEAQ(Mem{Base: g.s[r-1], Index: nb4, Scale: 1}, s)
		}
		acc := vec()
		// A VEX write to the XMM zeroes the whole YMM or ZMM.
		VXORPS(acc.AsX(), acc.AsX(), acc.AsX())
		g.w, g.s, g.acc = append(g.w, w), append(g.s, s), append(g.acc, acc)
	}
	return g
}

// prefetch asks for the W values and scales eight rows ahead (8k bytes of
// values, 8·k/32·4 = k bytes of scales). The GEMVs read one row after
// another, a stream the hardware prefetchers follow; the hints add a
// software lead over DRAM latency (measured: no lead, or 2 and 4 rows,
// streamed no faster, nor did 16 and 32 rows in a decode).
func (g rowGroup) prefetch(k Register) {
	for r := range g.w {
		PREFETCHT0(Mem{Base: g.w[r], Index: k, Scale: 8})
		PREFETCHT0(Mem{Base: g.s[r], Index: k, Scale: 1})
	}
}

// advance moves every row pointer on by dw value bytes and ds scale bytes.
func (g rowGroup) advance(dw, ds int) {
	for r := range g.w {
		ADDQ(U32(dw), g.w[r])
		ADDQ(U32(ds), g.s[r])
	}
}

// reduceStore sums the lanes of acc (a ZMM when wide, else a YMM) and stores
// the float32 at dst.
func reduceStore(acc VecVirtual, wide bool, dst Mem) {
	y := acc.AsY()
	if wide {
		hi := YMM()
		VEXTRACTF32X8(U8(1), acc, hi)
		VADDPS(hi, y, y)
	}
	x := acc.AsX()
	hi := XMM()
	if wide {
		// The EVEX form: a ZMM kernel may hold this accumulator in
		// Y16-Y31, which VEX instructions cannot name.
		VEXTRACTF32X4(U8(1), y, hi)
	} else {
		VEXTRACTF128(U8(1), y, hi)
	}
	VADDPS(hi, x, x)
	VMOVHLPS(x, hi, hi)
	VADDPS(hi, x, x)
	VMOVSHDUP(x, hi)
	VADDSS(hi, x, x)
	VMOVSS(x, dst)
}

// matVecRows emits the outer loop over rows: groups of R rows while at least
// R remain, then single rows, each through body, which runs the whole k loop
// for a group. The row pointers of the next group start where the last row
// of this one ended.
func matVecRows(R int, wide bool, vec func() VecVirtual, body func(g rowGroup, k Register)) {
	y := Load(Param("y").Base(), GP64())
	wRow := Load(Param("wq").Base(), GP64())
	sRow := Load(Param("ws").Base(), GP64())
	n := Load(Param("n"), GP64())
	sizes := []int{R, 1}
	if R == 1 {
		sizes = sizes[:1]
	}
	for _, rows := range sizes {
		loop, done := fmt.Sprintf("rows%d", rows), fmt.Sprintf("rows%dDone", rows)
		Label(loop)
		CMPQ(n, U32(rows))
		JB(LabelRef(done))
		k := Load(Param("k"), GP64())
		nb4 := GP64()
		MOVQ(k, nb4)
		SHRQ(U8(3), nb4) // bytes of scales per row: k/32 float32
		g := startRows(rows, wRow, sRow, k, nb4, vec)
		body(g, k)
		for r := range rows {
			reduceStore(g.acc[r], wide, Mem{Base: y}.Offset(4*r))
		}
		// The last row's pointers now sit at the start of the next group.
		MOVQ(g.w[rows-1], wRow)
		MOVQ(g.s[rows-1], sRow)
		ADDQ(U32(4*rows), y)
		SUBQ(U32(rows), n)
		JMP(LabelRef(loop))
		Label(done)
	}
	VZEROUPPER()
	RET()
}

// q8MatVecVNNI processes groups of sixteen, eight and four blocks of a row
// (vnniBlockGroups), then a pair of blocks left over with ZMM VPDPBUSD and
// an odd last block with the YMM form, one row after another: a single
// sequential stream, which DRAM delivers ~1.4× faster than four rows read
// side by side (one accumulator per row keeps Q8MatMul's rows equal to it
// bit for bit).
func q8MatVecVNNI() {
	TEXT("Q8MatVecVNNI", NOSPLIT, matVecSig)
	Pragma("noescape")
	Doc(matVecDocFor("Q8MatVecVNNI", "It needs AVX512F, AVX512BW, AVX512VL and AVX512VNNI.")...)

	bias := ZMM() // 0x80 in every byte: w XOR bias is w+128 as an unsigned byte
	tmp := GP32()
	MOVL(U32(0x80808080), tmp)
	VPBROADCASTD(tmp, bias)
	upper := K() // the upper eight float32 lanes: the second block of a chunk
	MOVL(U32(0xff00), tmp)
	KMOVW(tmp, upper)

	matVecRows(1, true, func() VecVirtual { return ZMM() }, func(g rowGroup, k Register) {
		xp := Load(Param("xq").Base(), GP64())
		xsp := Load(Param("xs").Base(), GP64())
		chunks := GP64()
		vnniBlockGroups(g, k, xp, xsp, chunks, bias)
		MOVQ(k, chunks)
		SHRQ(U8(6), chunks)
		ANDQ(U8(1), chunks) // the 64-byte chunk after the groups of blocks
		loop, tail := "vnniChunk"+fmt.Sprint(len(g.w)), "vnniTail"+fmt.Sprint(len(g.w))
		TESTQ(chunks, chunks)
		JZ(LabelRef(tail))
		Label(loop)
		x, start, xs := ZMM(), ZMM(), ZMM()
		VMOVDQU8(Mem{Base: xp}, x)
		// start = -128·(x[4l]+x[4l+1]+x[4l+2]+x[4l+3]) per int32 lane l.
		VPXORD(start, start, start)
		VPDPBUSD(x, bias, start)
		zero := ZMM()
		VPXORD(zero, zero, zero)
		VPSUBD(start, zero, start)
		VBROADCASTSS(Mem{Base: xsp}, xs)
		VBROADCASTSS(Mem{Base: xsp}.Offset(4), upper, xs)
		g.prefetch(k)
		for r := range g.w {
			w, dot, s := ZMM(), ZMM(), ZMM()
			VPXORD(Mem{Base: g.w[r]}, bias, w)
			VMOVDQA32(start, dot)
			VPDPBUSD(x, w, dot)
			VCVTDQ2PS(dot, dot)
			VBROADCASTSS(Mem{Base: g.s[r]}, s)
			VBROADCASTSS(Mem{Base: g.s[r]}.Offset(4), upper, s)
			VMULPS(xs, s, s)
			VFMADD231PS(s, dot, g.acc[r])
		}
		g.advance(64, 8)
		ADDQ(U8(64), xp)
		ADDQ(U8(8), xsp)
		DECQ(chunks)
		JNZ(LabelRef(loop))

		Label(tail)
		done := "vnniDone" + fmt.Sprint(len(g.w))
		TESTQ(U32(32), k)
		JZ(LabelRef(done))
		// One block left: the same step on YMM. A VEX/EVEX write to a YMM
		// zeroes the upper half of its ZMM, so the product lands in a fresh
		// register that is then added to the ZMM accumulator whole.
		yx, ystart, yxs := YMM(), YMM(), YMM()
		VMOVDQU8(Mem{Base: xp}, yx)
		VPXORD(ystart, ystart, ystart)
		ybias := bias.AsY()
		VPDPBUSD(yx, ybias, ystart)
		yzero := YMM()
		VPXORD(yzero, yzero, yzero)
		VPSUBD(ystart, yzero, ystart)
		VBROADCASTSS(Mem{Base: xsp}, yxs)
		for r := range g.w {
			w, dot, s := YMM(), YMM(), YMM()
			VPXORD(Mem{Base: g.w[r]}, ybias, w)
			VMOVDQA32(ystart, dot)
			VPDPBUSD(yx, w, dot)
			VCVTDQ2PS(dot, dot)
			VBROADCASTSS(Mem{Base: g.s[r]}, s)
			VMULPS(yxs, s, s)
			VMULPS(s, dot, dot)
			VADDPS(dot.AsZ(), g.acc[r], g.acc[r])
		}
		g.advance(32, 4)
		Label(done)
	})
}

// q8MatVecAVX2 processes eight blocks of a row per step (avx2EightBlocks),
// then the blocks left over one (32 bytes) at a time, one row after
// another.
func q8MatVecAVX2() {
	TEXT("Q8MatVecAVX2", NOSPLIT, matVecSig)
	Pragma("noescape")
	Doc(matVecDocFor("Q8MatVecAVX2", "It needs AVX2 and FMA, and every xq in [-127, 127].")...)
	products := AllocLocal(4 * 32) // ws·xs of eight blocks per row (avx2EightBlocks)

	ones := YMM() // int16 ones: VPMADDWD by them sums pairs into int32
	tmp := GP32()
	MOVL(U32(0x00010001), tmp)
	VMOVD(tmp, ones.AsX())
	VPBROADCASTD(ones.AsX(), ones)

	matVecRows(1, false, func() VecVirtual { return YMM() }, func(g rowGroup, k Register) {
		xp := Load(Param("xq").Base(), GP64())
		xsp := Load(Param("xs").Base(), GP64())
		blocks := GP64()
		loop := "avx2Block" + fmt.Sprint(len(g.w))
		avx2EightBlocks(g, k, xp, xsp, blocks, ones, products)
		MOVQ(k, blocks)
		SHRQ(U8(5), blocks)
		ANDQ(U8(7), blocks) // the blocks after the groups of eight
		JZ(LabelRef(loop + "Done"))
		Label(loop)
		x, xs := YMM(), YMM()
		VMOVDQU(Mem{Base: xp}, x)
		VBROADCASTSS(Mem{Base: xsp}, xs)
		g.prefetch(k)
		for r := range g.w {
			w, sx, s := YMM(), YMM(), YMM()
			VMOVDQU(Mem{Base: g.w[r]}, w)
			VPSIGNB(w, x, sx) // x·sign(w)
			VPSIGNB(w, w, w)  // |w|, -128 read as unsigned 128
			VPMADDUBSW(sx, w, sx)
			VPMADDWD(ones, sx, sx)
			VCVTDQ2PS(sx, sx)
			VBROADCASTSS(Mem{Base: g.s[r]}, s)
			VMULPS(xs, s, s)
			VFMADD231PS(s, sx, g.acc[r])
		}
		g.advance(32, 4)
		ADDQ(U8(32), xp)
		ADDQ(U8(4), xsp)
		DECQ(blocks)
		JNZ(LabelRef(loop))
		Label(loop + "Done")
	})
}

var quantizeConst, quantizePerm Mem

// quantizeData defines the quantizers' constants: q8QuantizeConst, the
// float32 |v| mask, 127, 1, 0.5 and 2⁻¹²⁶ (the smallest normal float32),
// and q8QuantizePerm, the dword order that puts the 32 bytes VPACKSSDW and
// VPACKSSWB leave lane by lane back in sequence.
func quantizeData() {
	quantizeConst = GLOBL("q8QuantizeConst", RODATA|NOPTR)
	for i, v := range []uint32{0x7fffffff, 0x42fe0000, 0x3f800000, 0x3f000000, 0x00800000} {
		DATA(4*i, U32(v))
	}
	quantizePerm = GLOBL("q8QuantizePerm", RODATA|NOPTR)
	for i, v := range []uint32{0, 4, 1, 5, 2, 6, 3, 7} {
		DATA(4*i, U32(v))
	}
}

// quantConsts are the float32 constants of the rounding, broadcast.
type quantConsts struct{ absMask, one, half VecVirtual }

// blockScale reduces m, eight lanes of |x| maxima, to the block's amax,
// stores d = amax/127 at xs (0 when below 2⁻¹²⁶) and returns 1/d (0 then)
// in every lane. c is q8QuantizeConst.
func blockScale(m VecVirtual, c Mem, one VecVirtual, xs Mem) VecVirtual {
	mx, tx := m.AsX(), XMM()
	VEXTRACTF128(U8(1), m, tx)
	VMAXPS(tx, mx, mx)
	VPERMILPS(U8(0x4e), mx, tx)
	VMAXPS(tx, mx, mx)
	VPERMILPS(U8(0xb1), mx, tx)
	VMAXPS(tx, mx, mx) // amax in every lane

	d, id, ok := XMM(), XMM(), XMM()
	VDIVSS(c.Offset(4), mx, d)
	VCMPSS(U8(0x1d), c.Offset(16), d, ok) // d ≥ 2⁻¹²⁶ (GE, ordered, quiet)
	VDIVSS(d, one.AsX(), id)
	VANDPS(ok, id, id)
	VANDPS(ok, d, d)
	VMOVSS(d, xs)
	ids := YMM()
	VBROADCASTSS(id, ids)
	return ids
}

// roundToInt32 turns the 32 float32 of v (four YMM) into int32 codes
// round(v·ids), half away from zero, in place: truncate |v·id|, add 1
// where the fraction (exact: both below 2²³) is at least 0.5, then give
// the integer the sign of v·id.
func roundToInt32(v []VecVirtual, ids VecVirtual, c quantConsts) {
	for i := range v {
		p, a, f := v[i], YMM(), YMM()
		VMULPS(ids, p, p)
		VANDPS(c.absMask, p, a)
		VROUNDPS(U8(3), a, f)
		VSUBPS(f, a, a)
		VCMPPS(U8(0x1d), c.half, a, a)
		VANDPS(c.one, a, a)
		VADDPS(a, f, f)
		VCVTTPS2DQ(f, f)
		VPSIGND(p, f, p)
	}
}

// packBytes narrows the 32 int32 codes of v (each in [-127, 127]) to
// bytes and stores them in order at dst; order is q8QuantizePerm.
func packBytes(v []VecVirtual, order VecVirtual, dst Mem) {
	VPACKSSDW(v[1], v[0], v[0])
	VPACKSSDW(v[3], v[2], v[2])
	VPACKSSWB(v[2], v[0], v[0])
	VPERMD(v[0], order, v[0])
	VMOVDQU(v[0], dst)
}

// q8QuantizeAVX2 quantizes one block of 32 float32 per step. It runs once
// per token on a vector of d values, so it does not need AVX-512.
func q8QuantizeAVX2() {
	TEXT("Q8QuantizeAVX2", NOSPLIT, "func(xq []int8, xs []float32, x []float32)")
	Pragma("noescape")
	Doc(
		"Q8QuantizeAVX2 quantizes x into int8 blocks of 32 (kernels.Q8Quantize):",
		"",
		"	for b := 0; b < len(x)/32; b++ {",
		"		amax := max |x[32b+i]| over i < 32",
		"		d := amax / 127",
		"		id := 1 / d // 0, and d = 0, when d < 2⁻¹²⁶",
		"		for i := 0; i < 32; i++ {",
		"			xq[32b+i] = int8(roundHalfAwayFromZero(x[32b+i] * id))",
		"		}",
		"		xs[b] = d",
		"	}",
		"",
		"every step in float32. len(x) is a positive multiple of 32; xq and xs",
		"hold len(x) and len(x)/32 elements. It needs AVX2.",
	)
	c, perm := quantizeConst, quantizePerm

	xq := Load(Param("xq").Base(), GP64())
	xs := Load(Param("xs").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	blocks := Load(Param("x").Len(), GP64())
	SHRQ(U8(5), blocks)

	absMask, one, half, order := YMM(), YMM(), YMM(), YMM()
	VBROADCASTSS(c.Offset(0), absMask)
	VBROADCASTSS(c.Offset(8), one)
	VBROADCASTSS(c.Offset(12), half)
	VMOVDQU(perm, order)

	Label("quantBlock")
	v := make([]VecVirtual, 4)
	for i := range v {
		v[i] = YMM()
		VMOVUPS(Mem{Base: x}.Offset(32*i), v[i])
	}
	m, t := YMM(), YMM()
	VANDPS(absMask, v[0], m)
	for i := 1; i < 4; i++ {
		VANDPS(absMask, v[i], t)
		VMAXPS(t, m, m)
	}
	ids := blockScale(m, c, one, Mem{Base: xs})
	roundToInt32(v, ids, quantConsts{absMask, one, half})
	packBytes(v, order, Mem{Base: xq})

	ADDQ(U32(128), x)
	ADDQ(U8(32), xq)
	ADDQ(U8(4), xs)
	DECQ(blocks)
	JNZ(LabelRef("quantBlock"))
	VZEROUPPER()
	RET()
}
