package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// q8KQuantizeAVX2 quantizes blocks of 256 float32 to Q8_K (the
// activations of the K-quants), one block per step: the amax of all 256,
// then each 32 values as Q8QuantizeAVX2 quantizes a block, under the
// block's one scale, and the sums of every 16 values from the int32 codes
// before they are packed.
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
	c, perm := quantizeConst, quantizePerm
	xq := Load(Param("xq").Base(), GP64())
	xs := Load(Param("xs").Base(), GP64())
	xsum := Load(Param("xsum").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	blocks := Load(Param("x").Len(), GP64())
	SHRQ(U8(8), blocks)

	absMask, one, half, order := YMM(), YMM(), YMM(), YMM()
	VBROADCASTSS(c.Offset(0), absMask)
	VBROADCASTSS(c.Offset(8), one)
	VBROADCASTSS(c.Offset(12), half)
	VMOVDQU(perm, order)

	Label("q8KBlock")
	m, t := YMM(), YMM()
	VANDPS(Mem{Base: x}, absMask, m)
	for i := 1; i < 32; i++ {
		VANDPS(Mem{Base: x}.Offset(32*i), absMask, t)
		VMAXPS(t, m, m)
	}
	ids := blockScale(m, c, one, Mem{Base: xs})

	for chunk := range 8 {
		v := make([]VecVirtual, 4)
		for i := range v {
			v[i] = YMM()
			VMOVUPS(Mem{Base: x}.Offset(128*chunk+32*i), v[i])
		}
		roundToInt32(v, ids, quantConsts{absMask, one, half})
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
		packBytes(v, order, Mem{Base: xq}.Offset(32*chunk))
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
