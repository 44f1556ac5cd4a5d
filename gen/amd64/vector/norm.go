package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// rows loops body over the rows of x and out, d elements each, advancing
// both pointers; len(x) is a multiple of d, and d > 0 when len(x) > 0.
func rows(out, x, n, d reg.GPVirtual, body func()) {
	labels++
	id := fmt.Sprintf("R%d", labels)
	TESTQ(n, n)
	JZ(LabelRef(id + "done"))
	Label(id + "row")
	body()
	LEAQ(Mem{Base: x, Index: d, Scale: 4}, x)
	LEAQ(Mem{Base: out, Index: d, Scale: 4}, out)
	SUBQ(d, n)
	JNZ(LabelRef(id + "row"))
	Label(id + "done")
}

// rowScale returns 1/sqrt(s/d + eps) broadcast to a vector; df holds d.
func (t *tier) rowScale(s, df, eps reg.VecVirtual) reg.VecVirtual {
	VDIVSS(df, s, s)
	VADDSS(eps, s, s)
	VSQRTSS(s, s, s)
	inv := XMM()
	VMOVSS(constant("one"), inv)
	VDIVSS(s, inv, inv)
	return t.broadcast(inv)
}

// float returns float32(d) in an XMM register.
func float(d reg.GPVirtual) reg.VecVirtual {
	df := XMM()
	VXORPS(df, df, df)
	VCVTSI2SSQ(d, df, df)
	return df
}

func genLayerNorm(t *tier) {
	t.begin("LayerNorm", "func(out, x, gain, bias []float32, eps float32)",
		"%s is, with d = len(gain),",
		"",
		"\tfor r := 0; r < len(x); r += d {",
		"\t\tmean := Σ x[r+i] / d",
		"\t\tvariance := Σ (x[r+i]-mean)² / d",
		"\t\tfor i := 0; i < d; i++ {",
		"\t\t\tout[r+i] = (x[r+i]-mean) * (1/sqrt(variance+eps)) * gain[i] + bias[i]",
		"\t\t}",
		"\t}",
		"",
		"len(x) must be a multiple of d > 0, len(out) = len(x), len(bias) = d;",
		"out may be x.")
	out := base("out")
	x := base("x")
	n := length("x")
	gain := base("gain")
	bias := base("bias")
	d := length("gain")
	eps := scalar("eps")
	df := float(d)
	const unroll = 4
	rows(out, x, n, d, func() {
		sums := t.zeros(unroll)
		t.stream(d, unroll, func(c chunk) {
			VADDPS(t.src(c, x), sums[c.j], sums[c.j])
		})
		mean := t.fold(sums, VADDPS)
		VDIVSS(df, mean, mean)
		m := t.broadcast(mean)

		// The variance is a second pass over x - mean: the one-pass
		// E[x²] - mean² cancels catastrophically when |mean| ≫ σ.
		sq := t.zeros(unroll)
		t.stream(d, unroll, func(c chunk) {
			v := t.vec()
			t.load(c, x, v)
			VSUBPS(m, v, v)
			t.zeroTail(c, v)
			VFMADD231PS(v, v, sq[c.j])
		})
		s := t.rowScale(t.fold(sq, VADDPS), df, eps)

		t.stream(d, unroll, func(c chunk) {
			v, g := t.vec(), t.vec()
			t.load(c, x, v)
			VSUBPS(m, v, v)
			VMULPS(s, v, v)
			t.load(c, gain, g)
			VFMADD213PS(t.src(c, bias), g, v)
			t.store(c, v, out)
		})
	})
	t.end()
}

func genRMSNorm(t *tier) {
	t.begin("RMSNorm", "func(out, x, gain []float32, eps float32)",
		"%s is, with d = len(gain),",
		"",
		"\tfor r := 0; r < len(x); r += d {",
		"\t\tms := Σ x[r+i]² / d",
		"\t\tfor i := 0; i < d; i++ {",
		"\t\t\tout[r+i] = x[r+i] * (1/sqrt(ms+eps)) * gain[i]",
		"\t\t}",
		"\t}",
		"",
		"len(x) must be a multiple of d > 0 and len(out) = len(x); out may be x.")
	out := base("out")
	x := base("x")
	n := length("x")
	gain := base("gain")
	d := length("gain")
	eps := scalar("eps")
	df := float(d)
	const unroll = 4
	rows(out, x, n, d, func() {
		sq := t.zeros(unroll)
		t.stream(d, unroll, func(c chunk) {
			v := t.vec()
			t.load(c, x, v)
			VFMADD231PS(v, v, sq[c.j])
		})
		s := t.rowScale(t.fold(sq, VADDPS), df, eps)
		t.stream(d, unroll, func(c chunk) {
			v := t.vec()
			t.load(c, x, v)
			VMULPS(s, v, v)
			VMULPS(t.src(c, gain), v, v)
			t.store(c, v, out)
		})
	})
	t.end()
}
