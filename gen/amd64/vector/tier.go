package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// tier is one instruction set: its vector width, where its constants live
// and how it handles the elements past the last full vector.
type tier struct {
	name  string // suffix of every function name
	lanes int    // float32 lanes in one vector register
	// zmm: AVX-512, with 32 registers (constants stay in registers) and K-mask
	// tails. Otherwise AVX2: 16 registers (constants are memory operands) and
	// VMASKMOVPS tails.
	zmm bool

	consts map[string]reg.VecVirtual // AVX-512 constants preloaded by the current function
}

var (
	avx512 = &tier{name: "AVX512", lanes: 16, zmm: true}
	avx2   = &tier{name: "AVX2", lanes: 8}
)

// labels numbers the loops of the file so that every label is unique.
var labels int

func (t *tier) vec() reg.VecVirtual {
	if t.zmm {
		return ZMM()
	}
	return YMM()
}

// begin starts function name+t.name. doc is its meaning as a Go loop; "%s"
// in the first line stands for the function's name.
func (t *tier) begin(name, signature string, doc ...string) {
	fn := name + t.name
	TEXT(fn, NOSPLIT, signature)
	doc[0] = fmt.Sprintf(doc[0], fn)
	Doc(doc...)
	Pragma("noescape")
	t.consts = map[string]reg.VecVirtual{}
}

// end leaves the function. VZEROUPPER spares the Go code that follows the
// penalty for SSE instructions after dirty upper vector halves.
func (t *tier) end() {
	VZEROUPPER()
	RET()
}

// preload broadcasts constants into registers on AVX-512, once, at the top of
// a function: a load inside a loop that may run zero times would leave the
// register unset for the code after it. AVX2 reads them from memory.
func (t *tier) preload(names ...string) {
	if !t.zmm {
		return
	}
	for _, name := range names {
		z := ZMM()
		VBROADCASTSS(constant(name), z)
		t.consts[name] = z
	}
}

// k is a constant as an operand: a register on AVX-512, memory on AVX2.
func (t *tier) k(name string) Op {
	if !t.zmm {
		return constant(name)
	}
	z, ok := t.consts[name]
	if !ok {
		panic("constant " + name + " used without preload")
	}
	return z
}

// kreg is a constant in a register, for the operand slots that take no memory.
func (t *tier) kreg(name string) reg.VecVirtual {
	if t.zmm {
		return t.k(name).(reg.VecVirtual)
	}
	y := YMM()
	VMOVUPS(constant(name), y)
	return y
}

// broadcast fills a vector with lane 0 of x.
func (t *tier) broadcast(x reg.VecVirtual) reg.VecVirtual {
	v := t.vec()
	VBROADCASTSS(x, v)
	return v
}

// zeros returns n zeroed vector registers.
func (t *tier) zeros(n int) []reg.VecVirtual {
	vs := make([]reg.VecVirtual, n)
	for i := range vs {
		vs[i] = t.vec()
		VXORPS(vs[i], vs[i], vs[i])
	}
	return vs
}

// tailMask selects the first rem (0 < rem < lanes) lanes.
type tailMask struct {
	k reg.OpmaskVirtual // AVX-512
	y reg.VecVirtual    // AVX2: all ones in the selected lanes
}

// mask builds the tail mask for rem elements; rem is clobbered.
func (t *tier) mask(rem reg.GPVirtual) *tailMask {
	if t.zmm {
		bits := GP32()
		MOVL(U32(0xffffffff), bits)
		BZHIL(rem.As32(), bits, bits)
		k := K()
		KMOVW(bits, k)
		return &tailMask{k: k}
	}
	// tailMaskTable is 8 lanes of ones then 8 of zeros: the 8 lanes that start
	// at lane 8-rem hold rem ones.
	tbl := GP64()
	LEAQ(tailMaskTable, tbl)
	NEGQ(rem)
	y := YMM()
	VMOVDQU(Mem{Base: tbl, Index: rem, Scale: 4, Disp: 32}, y)
	return &tailMask{y: y}
}

// chunk is one vector's worth of a stream over slices indexed alike: j is the
// vector's place in an unrolled iteration, tail is set for the last, partial
// vector.
type chunk struct {
	t    *tier
	idx  reg.GPVirtual
	j    int
	tail *tailMask
}

// at addresses the chunk in the slice whose base pointer is base.
func (c chunk) at(base reg.Register) Mem {
	return Mem{Base: base, Index: c.idx, Scale: 4, Disp: 4 * c.t.lanes * c.j}
}

// stream loops over n elements (n is not changed): body runs for unroll
// vectors per iteration (unroll is a power of two), then for single vectors,
// then once for a masked tail if n is not a multiple of the vector width.
func (t *tier) stream(n reg.GPVirtual, unroll int, body func(c chunk)) {
	labels++
	id := fmt.Sprintf("L%d", labels)
	i := GP64()
	XORQ(i, i)
	lim := GP64()
	MOVQ(n, lim)
	ANDQ(I32(-int32(t.lanes)), lim)
	if unroll > 1 {
		limU := GP64()
		MOVQ(n, limU)
		ANDQ(I32(-int32(unroll*t.lanes)), limU)
		Label(id + "unrolled")
		CMPQ(i, limU)
		JAE(LabelRef(id + "single"))
		for j := 0; j < unroll; j++ {
			body(chunk{t: t, idx: i, j: j})
		}
		ADDQ(U32(unroll*t.lanes), i)
		JMP(LabelRef(id + "unrolled"))
	}
	Label(id + "single")
	CMPQ(i, lim)
	JAE(LabelRef(id + "tail"))
	body(chunk{t: t, idx: i})
	ADDQ(U32(t.lanes), i)
	JMP(LabelRef(id + "single"))
	Label(id + "tail")
	CMPQ(i, n)
	JAE(LabelRef(id + "done"))
	rem := GP64()
	MOVQ(n, rem)
	SUBQ(i, rem)
	body(chunk{t: t, idx: i, tail: t.mask(rem)})
	Label(id + "done")
}

// load reads the chunk of the slice at base into dst; a tail reads nothing
// past the end and zeroes the lanes there.
func (t *tier) load(c chunk, base reg.Register, dst reg.VecVirtual) {
	m := c.at(base)
	switch {
	case c.tail == nil:
		VMOVUPS(m, dst)
	case t.zmm:
		VMOVUPS_Z(m, c.tail.k, dst)
	default:
		VMASKMOVPS(m, c.tail.y, dst)
	}
}

// src is the chunk as a source operand: memory for a full vector, a
// register loaded by load for a tail.
func (t *tier) src(c chunk, base reg.Register) Op {
	if c.tail == nil {
		return c.at(base)
	}
	v := t.vec()
	t.load(c, base, v)
	return v
}

// loadFill is load with the lanes past the end set to those of fill.
func (t *tier) loadFill(c chunk, base reg.Register, dst, fill reg.VecVirtual) {
	m := c.at(base)
	switch {
	case c.tail == nil:
		VMOVUPS(m, dst)
	case t.zmm:
		VMOVUPS(fill, dst)
		VMOVUPS(m, c.tail.k, dst)
	default:
		VMASKMOVPS(m, c.tail.y, dst)
		VBLENDVPS(c.tail.y, dst, fill, dst)
	}
}

// store writes src to the chunk of the slice at base, nothing past the end.
func (t *tier) store(c chunk, src reg.VecVirtual, base reg.Register) {
	m := c.at(base)
	switch {
	case c.tail == nil:
		VMOVUPS(src, m)
	case t.zmm:
		VMOVUPS(src, c.tail.k, m)
	default:
		VMASKMOVPS(src, c.tail.y, m)
	}
}

// accumulate adds v into acc, only the lanes inside the slice for a tail.
func (t *tier) accumulate(c chunk, v, acc reg.VecVirtual) {
	switch {
	case c.tail == nil:
		VADDPS(v, acc, acc)
	case t.zmm:
		VADDPS(v, acc, c.tail.k, acc)
	default:
		VANDPS(c.tail.y, v, v)
		VADDPS(v, acc, acc)
	}
}

// zeroTail clears the lanes of v past the end of the slice.
func (t *tier) zeroTail(c chunk, v reg.VecVirtual) {
	switch {
	case c.tail == nil:
	case t.zmm:
		VMOVAPS_Z(v, c.tail.k, v)
	default:
		VANDPS(c.tail.y, v, v)
	}
}

// reduce folds the lanes of v with op (VADDPS or VMAXPS) and returns an XMM
// register holding the result in lane 0. v is clobbered.
func (t *tier) reduce(v reg.VecVirtual, op func(...Op)) reg.VecVirtual {
	y := v
	if t.zmm {
		h := YMM()
		VEXTRACTF64X4(U8(1), v, h)
		op(h, v.AsY(), h)
		y = h
	}
	x := XMM()
	VEXTRACTF128(U8(1), y, x)
	op(x, y.AsX(), x)
	s := XMM()
	VMOVHLPS(x, x, s)
	op(s, x, x)
	VMOVSHDUP(x, s)
	op(s, x, x)
	return x
}

// fold combines accumulators into vs[0] with op and reduces it.
func (t *tier) fold(vs []reg.VecVirtual, op func(...Op)) reg.VecVirtual {
	for len(vs) > 1 {
		h := len(vs) / 2
		for j := 0; j < h; j++ {
			op(vs[h+j], vs[j], vs[j])
		}
		vs = vs[:h]
	}
	return t.reduce(vs[0], op)
}

// base, length and scalar load a slice's pointer, a slice's length and a
// float32 argument.
func base(param string) reg.GPVirtual {
	r := GP64()
	Load(Param(param).Base(), r)
	return r
}

func length(param string) reg.GPVirtual {
	r := GP64()
	Load(Param(param).Len(), r)
	return r
}

func scalar(param string) reg.VecVirtual {
	x := XMM()
	Load(Param(param), x)
	return x
}
