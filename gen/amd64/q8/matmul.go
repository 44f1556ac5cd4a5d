package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The int8 GEMM tiles (kernels.Q8MatMul): a few rows of A against every row
// of a panel of W, so that each W block loaded is multiplied by all of those
// rows of A, and each A block by several rows of W. Per pair of rows the
// arithmetic is the int8 GEMV's step for step (same products, same
// conversions, same order of float32 operations), so a row of the GEMM
// equals Q8MatVec of that row bit for bit, whichever kernel computed it.

const tileSig = "func(c []float32, ldc int, aq []int8, as []float32, wq []int8, ws []float32, k, n int)"

func tileDoc(name string, rows int, needs string) []string {
	return []string{
		fmt.Sprintf("%s computes %d rows of C = A·Wᵀ for int8 blocks of 32 (kernels.Q8MatMul):", name, rows),
		"",
		"	nb := k / 32",
		fmt.Sprintf("	for i := 0; i < %d; i++ {", rows),
		"		for j := 0; j < n; j++ {",
		"			var s float32",
		"			for b := 0; b < nb; b++ {",
		"				var dot int32",
		"				for p := 0; p < 32; p++ {",
		"					dot += int32(wq[j*k+32*b+p]) * int32(aq[i*k+32*b+p])",
		"				}",
		"				s += ws[j*nb+b] * as[i*nb+b] * float32(dot)",
		"			}",
		"			c[i*ldc+j] = s",
		"		}",
		"	}",
		"",
		"k is a positive multiple of 32, n ≥ 1 and ldc ≥ n; the slices hold at least",
		fmt.Sprintf("(%d-1)*ldc+n, %d*k, %d*k/32, n*k and n*k/32 elements. Every aq lies in", rows, rows, rows),
		"[-127, 127].",
		"",
		needs,
	}
}

// strided addresses row i of rows that are stride bytes apart, for i < 4;
// stride3 holds 3·stride (x86 scales stop at 8, and 3 is not one).
func strided(base, stride, stride3 Register, i, disp int) Mem {
	switch i {
	case 0:
		return Mem{Base: base, Disp: disp}
	case 1:
		return Mem{Base: base, Index: stride, Scale: 1, Disp: disp}
	case 2:
		return Mem{Base: base, Index: stride, Scale: 2, Disp: disp}
	case 3:
		return Mem{Base: base, Index: stride3, Scale: 1, Disp: disp}
	case 4:
		return Mem{Base: base, Index: stride, Scale: 4, Disp: disp}
	}
	panic("strided: row out of range")
}

// tile is the state of one group: pointers into A, W and their scales, the
// strides between rows, and one float32 accumulator per pair (i, j).
type tile struct {
	ap, asp, wp, sp Register
	k, k3, nb4, nb3 Register
	acc             [][]VecVirtual // [i][j]
}

// tileRows emits the loop over groups of nr rows of W, then single rows;
// body runs the whole k loop of one group. Results are stored as rows of C
// ldc floats apart.
//
// Accumulators are zeroed by a load of zeros rather than by XORing them
// with themselves: avo's liveness analysis reads that as a use, which would
// keep the register live from the function's entry and leave too few for
// the tile.
func tileRows(mr, nr int, wide bool, vec func() VecVirtual, body func(t tile, nr int)) {
	zeros := GLOBL(fmt.Sprintf("q8TileZeros%d", mr*10+nr), RODATA|NOPTR)
	for i := 0; i < 64; i += 8 {
		DATA(i, U64(0))
	}
	c := Load(Param("c").Base(), GP64())
	n := Load(Param("n"), GP64())
	wRow := Load(Param("wq").Base(), GP64())
	sRow := Load(Param("ws").Base(), GP64())
	groups := []int{nr, 1}
	if nr == 1 {
		groups = groups[:1]
	}
	for _, rows := range groups {
		loop, done := fmt.Sprintf("cols%d", rows), fmt.Sprintf("cols%dDone", rows)
		Label(loop)
		CMPQ(n, U32(rows))
		JB(LabelRef(done))
		t := tile{
			ap:  Load(Param("aq").Base(), GP64()),
			asp: Load(Param("as").Base(), GP64()),
			wp:  wRow, sp: sRow,
			k: Load(Param("k"), GP64()), k3: GP64(), nb4: GP64(), nb3: GP64(),
		}
		LEAQ(Mem{Base: t.k, Index: t.k, Scale: 2}, t.k3)
		MOVQ(t.k, t.nb4)
		SHRQ(U8(3), t.nb4) // bytes of scales per row: k/32 float32
		LEAQ(Mem{Base: t.nb4, Index: t.nb4, Scale: 2}, t.nb3)
		t.acc = make([][]VecVirtual, mr)
		for i := range mr {
			for range rows {
				a := vec()
				// A full-width write: avo takes a write to part of a
				// register for a use of the rest.
				VMOVUPS(zeros, a)
				t.acc[i] = append(t.acc[i], a)
			}
		}
		body(t, rows)
		ldc4, ldc3 := Load(Param("ldc"), GP64()), GP64()
		SHLQ(U8(2), ldc4)
		LEAQ(Mem{Base: ldc4, Index: ldc4, Scale: 2}, ldc3)
		for i := range mr {
			for j := range rows {
				reduceStore(t.acc[i][j], wide, strided(c, ldc4, ldc3, i, 4*j))
			}
		}
		// wp and sp have moved one row on: the next group starts rows-1
		// rows further.
		for range rows - 1 {
			ADDQ(t.k, wRow)
			ADDQ(t.nb4, sRow)
		}
		ADDQ(U32(4*rows), c)
		SUBQ(U32(rows), n)
		JMP(LabelRef(loop))
		Label(done)
	}
	VZEROUPPER()
	RET()
}

// q8MatMulVNNI is the AVX-512 VNNI tile: mr rows of A by nr rows of W, 64
// bytes (two blocks) per step, an odd last block on YMM; the correction
// -128·Σa of the sign trick is computed once per step and row of A.
func q8MatMulVNNI(mr, nr int) {
	name := fmt.Sprintf("Q8MatMul%dVNNI", mr)
	TEXT(name, NOSPLIT, tileSig)
	Pragma("noescape")
	Doc(tileDoc(name, mr, "It needs AVX512F, AVX512BW, AVX512VL and AVX512VNNI.")...)

	bias := ZMM() // 0x80 in every byte: w XOR bias is w+128 as an unsigned byte
	tmp := GP32()
	MOVL(U32(0x80808080), tmp)
	VPBROADCASTD(tmp, bias)
	upper := K() // the upper eight float32 lanes: the second block of a step
	MOVL(U32(0xff00), tmp)
	KMOVW(tmp, upper)

	zero := ZMM() // 0 throughout, the start of every sign correction
	VPXORD(zero, zero, zero)
	tileRows(mr, nr, true, func() VecVirtual { return ZMM() }, func(t tile, nr int) {
		chunks := GP64()
		MOVQ(t.k, chunks)
		SHRQ(U8(6), chunks)
		loop, tail, done := fmt.Sprintf("vnniStep%d", nr), fmt.Sprintf("vnniTail%d", nr), fmt.Sprintf("vnniDone%d", nr)
		TESTQ(chunks, chunks)
		JZ(LabelRef(tail))
		Label(loop)
		a, start, as := make([]VecVirtual, mr), make([]VecVirtual, mr), make([]VecVirtual, mr)
		for i := range mr {
			a[i], start[i], as[i] = ZMM(), ZMM(), ZMM()
			VMOVDQU8(strided(t.ap, t.k, t.k3, i, 0), a[i])
			// start = -128·(a[4l]+a[4l+1]+a[4l+2]+a[4l+3]) per int32 lane l.
			VMOVDQA32(zero, start[i])
			VPDPBUSD(a[i], bias, start[i])
			VPSUBD(start[i], zero, start[i])
			VBROADCASTSS(strided(t.asp, t.nb4, t.nb3, i, 0), as[i])
			VBROADCASTSS(strided(t.asp, t.nb4, t.nb3, i, 4), upper, as[i])
		}
		for j := range nr {
			w, s := ZMM(), ZMM()
			VPXORD(wValues(t, j), bias, w)
			VBROADCASTSS(wScale(t, j, 0), s)
			VBROADCASTSS(wScale(t, j, 4), upper, s)
			for i := range mr {
				dot, f := ZMM(), ZMM()
				VMOVDQA32(start[i], dot)
				VPDPBUSD(a[i], w, dot)
				VCVTDQ2PS(dot, dot)
				VMULPS(as[i], s, f)
				VFMADD231PS(f, dot, t.acc[i][j])
			}
		}
		advance(t, 64, 8)
		DECQ(chunks)
		JNZ(LabelRef(loop))

		Label(tail)
		TESTQ(U32(32), t.k)
		JZ(LabelRef(done))
		// One block left: the same step on YMM. A VEX/EVEX write to a YMM
		// zeroes the upper half of its ZMM, so the product lands in a fresh
		// register that is then added to the ZMM accumulator whole.
		ybias := bias.AsY()
		ya, ystart, yas := make([]VecVirtual, mr), make([]VecVirtual, mr), make([]VecVirtual, mr)
		for i := range mr {
			ya[i], ystart[i], yas[i] = YMM(), YMM(), YMM()
			VMOVDQU8(strided(t.ap, t.k, t.k3, i, 0), ya[i])
			VMOVDQA32(zero.AsY(), ystart[i])
			VPDPBUSD(ya[i], ybias, ystart[i])
			VPSUBD(ystart[i], zero.AsY(), ystart[i])
			VBROADCASTSS(strided(t.asp, t.nb4, t.nb3, i, 0), yas[i])
		}
		for j := range nr {
			w, s := YMM(), YMM()
			VPXORD(wValues(t, j), ybias, w)
			VBROADCASTSS(wScale(t, j, 0), s)
			for i := range mr {
				dot, f := YMM(), YMM()
				VMOVDQA32(ystart[i], dot)
				VPDPBUSD(ya[i], w, dot)
				VCVTDQ2PS(dot, dot)
				VMULPS(yas[i], s, f)
				VMULPS(f, dot, dot)
				VADDPS(dot.AsZ(), t.acc[i][j], t.acc[i][j])
			}
		}
		advance(t, 32, 4)
		Label(done)
	})
}

// q8MatMulAVX2 is the AVX2 tile: mr rows of A by nr rows of W, one block
// per step. The sign of w moves onto a per pair (VPSIGNB), as in the GEMV.
func q8MatMulAVX2(mr, nr int) {
	name := fmt.Sprintf("Q8MatMul%dAVX2", mr)
	TEXT(name, NOSPLIT, tileSig)
	Pragma("noescape")
	Doc(tileDoc(name, mr, "It needs AVX2 and FMA.")...)

	ones := YMM() // int16 ones: VPMADDWD by them sums pairs into int32
	tmp := GP32()
	MOVL(U32(0x00010001), tmp)
	VMOVD(tmp, ones.AsX())
	VPBROADCASTD(ones.AsX(), ones)

	tileRows(mr, nr, false, func() VecVirtual { return YMM() }, func(t tile, nr int) {
		blocks := GP64()
		MOVQ(t.k, blocks)
		SHRQ(U8(5), blocks)
		loop := fmt.Sprintf("avx2Step%d", nr)
		Label(loop)
		a := make([]VecVirtual, mr)
		for i := range mr {
			a[i] = YMM()
			VMOVDQU(strided(t.ap, t.k, t.k3, i, 0), a[i])
		}
		for j := range nr {
			w, aw, s := YMM(), YMM(), YMM()
			VMOVDQU(wValues(t, j), w)
			VPSIGNB(w, w, aw) // |w|, -128 read as unsigned 128
			VBROADCASTSS(wScale(t, j, 0), s)
			for i := range mr {
				sx, f := YMM(), YMM()
				VPSIGNB(w, a[i], sx) // a·sign(w)
				VPMADDUBSW(sx, aw, sx)
				VPMADDWD(ones, sx, sx)
				VCVTDQ2PS(sx, sx)
				VBROADCASTSS(strided(t.asp, t.nb4, t.nb3, i, 0), f)
				VMULPS(f, s, f)
				VFMADD231PS(f, sx, t.acc[i][j])
			}
		}
		advance(t, 32, 4)
		DECQ(blocks)
		JNZ(LabelRef(loop))
	})
}

// wValues addresses the current block of W row j of the group (j < 3).
func wValues(t tile, j int) Mem { return strided(t.wp, t.k, t.k3, j, 0) }

// wScale addresses the current scale of W row j of the group, plus disp.
func wScale(t tile, j, disp int) Mem { return strided(t.sp, t.nb4, t.nb3, j, disp) }

// advance moves A, W and their scales on by dv value and ds scale bytes.
func advance(t tile, dv, ds int) {
	ADDQ(U32(dv), t.ap)
	ADDQ(U32(ds), t.asp)
	ADDQ(U32(dv), t.wp)
	ADDQ(U32(ds), t.sp)
}
