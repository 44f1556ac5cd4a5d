package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// cmpNLT is the VCMPPS predicate "not less than", true for NaN too, so NaN
// lanes are kept and propagate.
const cmpNLT = 5

// exp sets y to e^x lane by lane; x is clobbered. With n = round(x·log2 e)
// and r = x − n·ln 2 (two-constant split, |r| ≤ ln2/2), e^x = 2ⁿ·e^r with
// e^r a degree-7 polynomial. x is first clamped to [expLo, expHi] so that
// ±Inf give a finite r; lanes below expLo (−Inf among them) are zeroed at
// the end and lanes above overflow to +Inf in the scaling.
func (t *tier) exp(x, y reg.VecVirtual) {
	var keepK reg.OpmaskVirtual
	var keepY reg.VecVirtual
	if t.zmm {
		keepK = K()
		VCMPPS(U8(cmpNLT), t.k("expLo"), x, keepK)
	} else {
		keepY = YMM()
		VCMPPS(U8(cmpNLT), t.k("expLo"), x, keepY)
	}
	// x is the second source of MAX and MIN, which they return for a NaN.
	VMAXPS(x, t.kreg("expLo"), x)
	VMINPS(x, t.kreg("expHi"), x)

	n := t.vec()
	VMULPS(t.k("log2e"), x, n)
	if t.zmm {
		VRNDSCALEPS(U8(0), n, n)
	} else {
		VROUNDPS(U8(0), n, n)
	}
	VFNMADD231PS(t.k("ln2Hi"), n, x)
	VFNMADD231PS(t.k("ln2Lo"), n, x)

	VMOVUPS(t.k("p0"), y)
	for _, c := range []string{"p1", "p2", "p3", "p4", "p5", "one", "one"} {
		VFMADD213PS(t.k(c), x, y)
	}

	if t.zmm {
		// VSCALEFPS rounds once, to +Inf or a subnormal where needed.
		VSCALEFPS(n, y, y)
		VMOVAPS_Z(y, keepK, y)
		return
	}
	// 2ⁿ for n in [−126, 128] as two factors 2^(n>>1)·2^(n−n>>1), both normal:
	// 2¹²⁸ itself has no float32 encoding.
	VCVTPS2DQ(n, n)
	h := YMM()
	VPSRAD(U8(1), n, h)
	VPSUBD(h, n, n)
	VPADDD(t.k("bias127"), h, h)
	VPSLLD(U8(23), h, h)
	VMULPS(h, y, y)
	VPADDD(t.k("bias127"), n, n)
	VPSLLD(U8(23), n, n)
	VMULPS(n, y, y)
	VANDPS(keepY, y, y)
}

func genExp(t *tier) {
	t.begin("Exp", "func(dst, x []float32)",
		"%s is",
		"",
		"\tfor i, v := range x {",
		"\t\tdst[i] = exp(v)",
		"\t}",
		"",
		"to within 2 ulp (1 measured) for results of at least 2⁻¹²⁶; inputs below ln(2⁻¹²⁶)",
		"(≈ -87.34) give 0, inputs above ln(MaxFloat32) (≈ 88.72) give +Inf.",
		"len(dst) must be len(x); dst may be x.")
	dst := base("dst")
	x := base("x")
	n := length("x")
	t.preload(expConstants...)
	t.stream(n, 2, func(c chunk) {
		v, e := t.vec(), t.vec()
		t.load(c, x, v)
		t.exp(v, e)
		t.store(c, e, dst)
	})
	t.end()
}

func genSoftmax(t *tier) {
	t.begin("Softmax", "func(x []float32)",
		"%s is",
		"",
		"\tm := max(x...)",
		"\tvar sum float32",
		"\tfor i := range x {",
		"\t\tx[i] = exp(x[i] - m)",
		"\t\tsum += x[i]",
		"\t}",
		"\tfor i := range x {",
		"\t\tx[i] *= 1 / sum",
		"\t}",
		"",
		"with the exp of Exp: a -Inf element becomes exactly 0.")
	x := base("x")
	n := length("x")
	t.preload(append(expConstants, "negInf")...)

	const unroll = 4
	maxes := make([]reg.VecVirtual, unroll)
	for j := range maxes {
		maxes[j] = t.vec()
		VMOVUPS(t.k("negInf"), maxes[j])
	}
	t.stream(n, unroll, func(c chunk) {
		v := t.vec()
		var fill reg.VecVirtual
		if c.tail != nil {
			fill = t.kreg("negInf")
		}
		t.loadFill(c, x, v, fill)
		VMAXPS(v, maxes[c.j], maxes[c.j])
	})
	m := t.broadcast(t.fold(maxes, VMAXPS))

	sums := t.zeros(unroll)
	t.stream(n, unroll, func(c chunk) {
		v, e := t.vec(), t.vec()
		t.load(c, x, v)
		VSUBPS(m, v, v)
		t.exp(v, e)
		t.store(c, e, x)
		t.accumulate(c, e, sums[c.j])
	})
	sum := t.fold(sums, VADDPS)
	inv := XMM()
	VMOVSS(constant("one"), inv)
	VDIVSS(sum, inv, inv)
	s := t.broadcast(inv)
	t.stream(n, unroll, func(c chunk) {
		v := t.vec()
		t.load(c, x, v)
		VMULPS(s, v, v)
		t.store(c, v, x)
	})
	t.end()
}
