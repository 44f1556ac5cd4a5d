package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// q8KQuantizeAVX2 quantizes blocks of 256 float32 to Q8_K, one block per
// step: the amax of all 256, then each 32 values as Q8QuantizeAVX2
// quantizes a block (gen/amd64/q8) under the block's one scale, and the
// sums of every 16 values from the int32 codes before they are packed.
// Every float32 step is the generic twin's, so the result is the same bit
// for bit.
func q8KQuantizeAVX2() {
	TEXT("Q8KQuantizeAVX2", NOSPLIT, "func(xq []int8, xs []float32, xsum []int16, x []float32)")
	Pragma("noescape")
	Doc(
		"Q8KQuantizeAVX2 quantizes x into Q8_K blocks of 256 (kernels.QuantizeActivations):",
		"",
		"	for b := 0; b < len(x)/256; b++ {",
		"		amax := max |x[256b+i]| over i < 256",
		"		d := amax / 127",
		"		id := 1 / d // 0, and d = 0, when d < 2⁻¹²⁶",
		"		for i := 0; i < 256; i++ {",
		"			xq[256b+i] = int8(roundHalfAwayFromZero(x[256b+i] * id))",
		"		}",
		"		xs[b] = d",
		"	}",
		"	for s := range xsum {",
		"		xsum[s] = Σ xq[16s+i] over i < 16",
		"	}",
		"",
		"every step in float32. len(x) is a positive multiple of 256; xq, xs and xsum",
		"hold len(x), len(x)/256 and len(x)/16 elements. It needs AVX2.",
	)
	c := GLOBL("q8KConst", RODATA|NOPTR)
	for i, v := range []uint32{
		0x7fffffff, // |v| mask
		0x42fe0000, // 127
		0x3f800000, // 1
		0x3f000000, // 0.5
		0x00800000, // 2⁻¹²⁶, the smallest normal float32
	} {
		DATA(4*i, U32(v))
	}
	perm := GLOBL("q8KPerm", RODATA|NOPTR)
	// VPACKSSDW and VPACKSSWB pack within 128-bit lanes; this dword order
	// puts the 32 bytes back in sequence.
	for i, v := range []uint32{0, 4, 1, 5, 2, 6, 3, 7} {
		DATA(4*i, U32(v))
	}

	xq := Load(Param("xq").Base(), GP64())
	xs := Load(Param("xs").Base(), GP64())
	xsum := Load(Param("xsum").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	blocks := Load(Param("x").Len(), GP64())
	SHRQ(U8(8), blocks)

	absMask := YMM()
	VBROADCASTSS(c.Offset(0), absMask)

	Label("q8KBlock")
	m, t := YMM(), YMM()
	VANDPS(Mem{Base: x}, absMask, m)
	for i := 1; i < 32; i++ {
		VANDPS(Mem{Base: x}.Offset(32*i), absMask, t)
		VMAXPS(t, m, m)
	}
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
	VMOVSS(c.Offset(8), id)
	VDIVSS(d, id, id)
	VANDPS(ok, id, id)
	VANDPS(ok, d, d)
	VMOVSS(d, Mem{Base: xs})
	ids, half, one := YMM(), YMM(), YMM()
	VBROADCASTSS(id, ids)
	VBROADCASTSS(c.Offset(12), half)
	VBROADCASTSS(c.Offset(8), one)

	for chunk := range 8 {
		v := make([]VecVirtual, 4)
		for i := range v {
			// Round half away from zero: truncate |v·id|, add 1 where the
			// fraction (exact: both below 2²³) is at least 0.5, then give
			// the integer the sign of v·id.
			p, a, f := YMM(), YMM(), YMM()
			VMULPS(Mem{Base: x}.Offset(128*chunk+32*i), ids, p)
			VANDPS(absMask, p, a)
			VROUNDPS(U8(3), a, f)
			VSUBPS(f, a, a)
			VCMPPS(U8(0x1d), half, a, a)
			VANDPS(one, a, a)
			VADDPS(a, f, f)
			VCVTTPS2DQ(f, f)
			VPSIGND(p, f, p)
			v[i] = p
		}
		// The sums of values 0-15 and 16-31 of the chunk, as int16.
		lo, hi := YMM(), YMM()
		VPADDD(v[1], v[0], lo)
		VPADDD(v[3], v[2], hi)
		VPHADDD(hi, lo, lo) // lo0+lo1, lo2+lo3, hi0+hi1, hi2+hi3 | the same of 4-7
		VPHADDD(lo, lo, lo) // Σlo0-3, Σhi0-3, … | Σlo4-7, Σhi4-7, …
		top := XMM()
		VEXTRACTI128(U8(1), lo, top)
		VPADDD(top, lo.AsX(), top) // Σlo, Σhi in lanes 0 and 1
		VPACKSSDW(top, top, top)
		VMOVD(top, Mem{Base: xsum}.Offset(4*chunk))

		order := YMM()
		VMOVDQU(perm, order)
		VPACKSSDW(v[1], v[0], v[0])
		VPACKSSDW(v[3], v[2], v[2])
		VPACKSSWB(v[2], v[0], v[0])
		VPERMD(v[0], order, v[0])
		VMOVDQU(v[0], Mem{Base: xq}.Offset(32*chunk))
	}

	ADDQ(U32(1024), x)
	ADDQ(U32(256), xq)
	ADDQ(U8(4), xs)
	ADDQ(U8(32), xsum)
	DECQ(blocks)
	JNZ(LabelRef("q8KBlock"))
	VZEROUPPER()
	RET()
}
