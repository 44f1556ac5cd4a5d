package main

import (
	. "github.com/mmcloughlin/avo/build"
)

func genGELU(t *tier) {
	t.begin("GELU", "func(out, x []float32)",
		"%s is",
		"",
		"\tfor i, v := range x {",
		"\t\tu := sqrt(2/π) * (v + 0.044715*v*v*v)",
		"\t\tout[i] = 0.5 * v * (1 + tanh(u))",
		"\t}",
		"",
		"computed as v / (1 + exp(-2u)), which is the same since",
		"1 + tanh(u) = 2/(1 + exp(-2u)): it saturates to v and to -0 for large |u|",
		"and keeps full relative precision near 0, where 1 - 2/(exp(2u)+1) would",
		"cancel. len(out) must be len(x); out may be x.")
	out := base("out")
	x := base("x")
	n := length("x")
	t.preload(append(expConstants, "geluK0", "geluK1")...)
	t.stream(n, 2, func(c chunk) {
		v, w, e := t.vec(), t.vec(), t.vec()
		t.load(c, x, v)
		VMULPS(v, v, w)
		VMOVUPS(t.k("geluK1"), e)
		VFMADD213PS(t.k("geluK0"), w, e)
		VMULPS(v, e, w) // w = -2u
		t.exp(w, e)
		VADDPS(t.k("one"), e, e)
		VDIVPS(e, v, v)
		t.store(c, v, out)
	})
	t.end()
}

func genSwiGLU(t *tier) {
	t.begin("SwiGLU", "func(out, gate, up []float32)",
		"%s is",
		"",
		"\tfor i := range out {",
		"\t\tout[i] = gate[i] / (1 + exp(-gate[i])) * up[i]",
		"\t}",
		"",
		"computed as written with the exp of Exp, which keeps it finite for large",
		"|gate|: e^(-gate) overflows to +Inf below about -88.7, giving ±0, and",
		"vanishes for large gate, giving gate·up. All three must have one length; out",
		"may be gate or up.")
	out := base("out")
	gate := base("gate")
	up := base("up")
	n := length("out")
	t.preload(append(expConstants, "signBit")...)
	// Both operands of each chunk are read before its store, so out may
	// alias either input.
	t.stream(n, 2, func(c chunk) {
		g, x, e := t.vec(), t.vec(), t.vec()
		t.load(c, gate, g)
		// -g. The EVEX VXORPS needs AVX512DQ, which the tier does not
		// check; VPXORD is AVX512F and flips the same bit.
		if t.zmm {
			VPXORD(t.k("signBit"), g, x)
		} else {
			VXORPS(t.k("signBit"), g, x)
		}
		t.exp(x, e)
		VADDPS(t.k("one"), e, e)
		VDIVPS(e, g, g)
		VMULPS(t.src(c, up), g, g)
		t.store(c, g, out)
	})
	t.end()
}

func genAdd(t *tier) {
	t.begin("Add", "func(dst, a, b []float32)",
		"%s is",
		"",
		"\tfor i := range dst {",
		"\t\tdst[i] = a[i] + b[i]",
		"\t}",
		"",
		"All three must have one length; dst may be a or b.")
	dst := base("dst")
	a := base("a")
	b := base("b")
	n := length("dst")
	t.stream(n, 4, func(c chunk) {
		v := t.vec()
		t.load(c, a, v)
		VADDPS(t.src(c, b), v, v)
		t.store(c, v, dst)
	})
	t.end()
}

func genScale(t *tier) {
	t.begin("Scale", "func(x []float32, s float32)",
		"%s is",
		"",
		"\tfor i := range x {",
		"\t\tx[i] *= s",
		"\t}")
	x := base("x")
	n := length("x")
	s := t.broadcast(scalar("s"))
	t.stream(n, 4, func(c chunk) {
		v := t.vec()
		t.load(c, x, v)
		VMULPS(s, v, v)
		t.store(c, v, x)
	})
	t.end()
}

func genDot(t *tier) {
	t.begin("Dot", "func(a, b []float32) float32",
		"%s is",
		"",
		"\tvar s float32",
		"\tfor i := range a {",
		"\t\ts += a[i] * b[i]",
		"\t}",
		"\treturn s",
		"",
		"summed in a different order (several vector accumulators).",
		"len(b) must be len(a).")
	a := base("a")
	b := base("b")
	n := length("a")
	// Four accumulators cover the FMA latency at two loads a cycle.
	sums := t.zeros(4)
	t.stream(n, 4, func(c chunk) {
		v := t.vec()
		t.load(c, a, v)
		VFMADD231PS(t.src(c, b), v, sums[c.j])
	})
	s := t.fold(sums, VADDPS)
	VZEROUPPER()
	Store(s, ReturnIndex(0))
	RET()
}

func genAxpy(t *tier) {
	t.begin("Axpy", "func(y []float32, alpha float32, x []float32)",
		"%s is",
		"",
		"\tfor i := range x {",
		"\t\ty[i] += alpha * x[i]",
		"\t}",
		"",
		"with one rounding per element (a fused multiply-add). len(y) must be len(x).")
	y := base("y")
	x := base("x")
	n := length("x")
	alpha := t.broadcast(scalar("alpha"))
	t.stream(n, 4, func(c chunk) {
		v := t.vec()
		t.load(c, y, v)
		VFMADD231PS(t.src(c, x), alpha, v)
		t.store(c, v, y)
	})
	t.end()
}
