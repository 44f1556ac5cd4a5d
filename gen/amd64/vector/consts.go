package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// geluC is sqrt(2/π), the constant of GELU's tanh approximation.
const geluC = 0.7978845608028654

// expPoly approximates e^r on [-ln2/2, ln2/2], highest degree first, for
// Horner's rule: the Cephes expf coefficients (1 + r + r²·(0.5 + ...)).
var expPoly = []float32{
	1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
	4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
	1, 1,
}

// expLo is ln(2⁻¹²⁶) rounded down: e^x for x ≥ expLo is (all but) a normal
// float32, and exp gives 0 below it, which keeps the slow subnormal
// arithmetic out of masked softmax rows.
var expLo = func() float32 {
	lo := -126 * math.Ln2
	f := float32(lo)
	if float64(f) > lo {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}()

// constants, each stored as 8 copies (one YMM) so that AVX2 can use them as
// memory operands and AVX-512 can broadcast the first.
var constants = []struct {
	name string
	bits uint32
}{
	{"expLo", math.Float32bits(expLo)},
	// e^89 overflows: clamping to it keeps the range reduction finite and
	// still gives +Inf for everything above ln(MaxFloat32) ≈ 88.72.
	{"expHi", math.Float32bits(89)},
	{"log2e", math.Float32bits(math.Log2E)},
	// ln2Hi has 9 significant bits, so n·ln2Hi is exact for |n| < 2¹⁵ and
	// x - n·ln2Hi loses nothing; ln2Lo carries the rest of ln 2.
	{"ln2Hi", math.Float32bits(0.693359375)},
	{"ln2Lo", math.Float32bits(-2.12194440e-4)},
	{"p0", math.Float32bits(expPoly[0])},
	{"p1", math.Float32bits(expPoly[1])},
	{"p2", math.Float32bits(expPoly[2])},
	{"p3", math.Float32bits(expPoly[3])},
	{"p4", math.Float32bits(expPoly[4])},
	{"p5", math.Float32bits(expPoly[5])},
	{"one", math.Float32bits(1)},
	{"negInf", math.Float32bits(float32(math.Inf(-1)))},
	{"bias127", 127}, // the float32 exponent bias, as an int32
	// GELU: -2u = x·(geluK0 + geluK1·x²) with u = √(2/π)·(x + 0.044715·x³).
	{"geluK0", math.Float32bits(float32(-2 * geluC))},
	{"geluK1", math.Float32bits(float32(-2 * geluC * 0.044715))},
	// signBit flips a float32's sign with an XOR: exact for every input,
	// NaN and ±0 included, where 0 - x would turn -0 into +0.
	{"signBit", 0x80000000},
}

// expConstants are the constants exp uses, for preload.
var expConstants = []string{"expLo", "expHi", "log2e", "ln2Hi", "ln2Lo", "p0", "p1", "p2", "p3", "p4", "p5", "one"}

var (
	constTable    Mem
	constOffset   = map[string]int{}
	tailMaskTable Mem
)

func declareConstants() {
	constTable = GLOBL("vconst", RODATA|NOPTR)
	for i, c := range constants {
		constOffset[c.name] = 32 * i
		for l := 0; l < 8; l++ {
			DATA(32*i+4*l, U32(c.bits))
		}
	}
	tailMaskTable = GLOBL("tailmask", RODATA|NOPTR)
	for l := 0; l < 16; l++ {
		v := uint32(0)
		if l < 8 {
			v = 0xffffffff
		}
		DATA(4*l, U32(v))
	}
}

func constant(name string) Mem {
	off, ok := constOffset[name]
	if !ok {
		panic("unknown constant " + name)
	}
	return constTable.Offset(off)
}
