package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

func genRoPEHalf(t *tier) {
	t.begin("RoPEHalf", "func(x, cos, sin []float32)",
		"%s is GPT-NeoX's rotate-half RoPE over one head:",
		"",
		"\th := len(x) / 2",
		"\tfor i := 0; i < h; i++ {",
		"\t\ta, b := x[i], x[i+h]",
		"\t\tx[i] = a*cos[i] + b*sin[i]",
		"\t\tx[i+h] = b*cos[i+h] + a*sin[i+h]",
		"\t}",
		"",
		"cos and sin are as long as x; len(x) is even.")
	x := base("x")
	c := base("cos")
	s := base("sin")
	h := length("x")
	SHRQ(U8(1), h)
	// The second halves are slices of their own, indexed like the first.
	upper := func(p reg.GPVirtual) reg.GPVirtual {
		r := GP64()
		LEAQ(Mem{Base: p, Index: h, Scale: 4}, r)
		return r
	}
	xb, cb, sb := upper(x), upper(c), upper(s)
	t.stream(h, 1, func(ch chunk) {
		a, b, ra, rb := t.vec(), t.vec(), t.vec(), t.vec()
		t.load(ch, x, a)
		t.load(ch, xb, b)
		VMULPS(t.src(ch, c), a, ra)
		VFMADD231PS(t.src(ch, s), b, ra)
		VMULPS(t.src(ch, cb), b, rb)
		VFMADD231PS(t.src(ch, sb), a, rb)
		t.store(ch, ra, x)
		t.store(ch, rb, xb)
	})
	t.end()
}

func genRoPEInterleaved(t *tier) {
	t.begin("RoPEInterleaved", "func(x, cos, sin []float32)",
		"%s is GPT-J's interleaved RoPE over one head:",
		"",
		"\tfor i := 0; i+1 < len(x); i += 2 {",
		"\t\ta, b := x[i], x[i+1]",
		"\t\tx[i] = a*cos[i] + b*sin[i]",
		"\t\tx[i+1] = b*cos[i+1] + a*sin[i+1]",
		"\t}",
		"",
		"computed as x*cos + swapPairs(x)*sin, a pair never straddling a vector.",
		"cos and sin are as long as x; len(x) is even.")
	x := base("x")
	c := base("cos")
	s := base("sin")
	n := length("x")
	t.stream(n, 2, func(ch chunk) {
		v, w := t.vec(), t.vec()
		t.load(ch, x, v)
		VPERMILPS(U8(0xb1), v, w) // lanes 1,0,3,2,...
		VMULPS(t.src(ch, c), v, v)
		VFMADD231PS(t.src(ch, s), w, v)
		t.store(ch, v, x)
	})
	t.end()
}
