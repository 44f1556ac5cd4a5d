package arm64

import "fmt"

// V is a SIMD&FP register, V0 to V31.
type V uint8

// S4, B16, F and S spell the register in the Go assembler's syntax.
func (v V) S4() string        { return fmt.Sprintf("V%d.S4", v) }
func (v V) B16() string       { return fmt.Sprintf("V%d.B16", v) }
func (v V) F() string         { return fmt.Sprintf("F%d", v) }
func (v V) S(lane int) string { return fmt.Sprintf("V%d.S[%d]", v, lane) }

// Arr is a vector arrangement: element size and count.
type Arr uint8

const (
	B8 Arr = iota
	B16
	H4
	H8
	S2
	S4
	D2
)

func (a Arr) String() string { return [...]string{"8b", "16b", "4h", "8h", "2s", "4s", "2d"}[a] }

// q is the Q bit (bit 30): set for the 128-bit arrangements.
func (a Arr) q() uint32 { return uint32(a&1) ^ boolBit(a == D2) }

// size is the two-bit element size field of the integer encodings.
func (a Arr) size() uint32 { return uint32(a / 2) }

// bits is the element width.
func (a Arr) bits() int { return 8 << a.size() }

func boolBit(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// Inst is one encoded instruction and its mnemonic in the Arm syntax.
type Inst struct {
	Enc uint32
	Asm string
}

func reg(v V, a Arr) string { return fmt.Sprintf("v%d.%s", v, a) }

// fpArr checks a floating-point arrangement and returns its Q and sz bits
// in place.
func fpArr(op string, a Arr) uint32 {
	switch a {
	case S2:
		return 0
	case S4:
		return 1 << 30
	case D2:
		return 1<<30 | 1<<22
	}
	panic("arm64: " + op + " has no ." + a.String() + " form")
}

func intArr(op string, a Arr) uint32 {
	if a == D2 && op != "add" && op != "sub" && op != "shl" && op != "sshr" {
		panic("arm64: " + op + " has no ." + a.String() + " form")
	}
	return a.q()<<30 | a.size()<<22
}

func three(base uint32, op string, bits uint32, a Arr, d, n, m V) Inst {
	return Inst{base | bits | uint32(m&31)<<16 | uint32(n&31)<<5 | uint32(d&31),
		fmt.Sprintf("%s %s, %s, %s", op, reg(d, a), reg(n, a), reg(m, a))}
}

func two(base uint32, op string, bits uint32, a Arr, d, n V) Inst {
	return Inst{base | bits | uint32(n&31)<<5 | uint32(d&31),
		fmt.Sprintf("%s %s, %s", op, reg(d, a), reg(n, a))}
}

// Floating-point three-register forms, d = n op m lane by lane. The bases
// are the .2s encodings; fpArr adds Q and sz.
func fp3(base uint32, op string) func(a Arr, d, n, m V) Inst {
	return func(a Arr, d, n, m V) Inst { return three(base, op, fpArr(op, a), a, d, n, m) }
}

var (
	FAdd   = fp3(0x0e20d400, "fadd")
	FSub   = fp3(0x0ea0d400, "fsub")
	FMul   = fp3(0x2e20dc00, "fmul")
	FDiv   = fp3(0x2e20fc00, "fdiv")
	FMax   = fp3(0x0e20f400, "fmax")
	FMin   = fp3(0x0ea0f400, "fmin")
	FMaxNM = fp3(0x0e20c400, "fmaxnm")
	FMinNM = fp3(0x0ea0c400, "fminnm")
	FAddP  = fp3(0x2e20d400, "faddp")
	FCmEQ  = fp3(0x0e20e400, "fcmeq")
	FCmGE  = fp3(0x2e20e400, "fcmge")
	FCmGT  = fp3(0x2ea0e400, "fcmgt")
	FMla   = fp3(0x0e20cc00, "fmla") // d += n*m
	FMls   = fp3(0x0ea0cc00, "fmls") // d -= n*m
)

// Floating-point two-register forms, d = op(n).
func fp2(base uint32, op string) func(a Arr, d, n V) Inst {
	return func(a Arr, d, n V) Inst { return two(base, op, fpArr(op, a), a, d, n) }
}

var (
	FAbs   = fp2(0x0ea0f800, "fabs")
	FNeg   = fp2(0x2ea0f800, "fneg")
	FSqrt  = fp2(0x2ea1f800, "fsqrt")
	FRecpE = fp2(0x0ea1d800, "frecpe")
	FRintN = fp2(0x0e218800, "frintn") // round to nearest, ties to even
	FCvtNS = fp2(0x0e21a800, "fcvtns") // to signed integer, nearest, ties to even
	FCvtMS = fp2(0x0e21b800, "fcvtms") // to signed integer, toward -Inf
	FCvtAS = fp2(0x0e21c800, "fcvtas") // to signed integer, nearest, ties away from zero
	FCvtZS = fp2(0x0ea1b800, "fcvtzs") // to signed integer, toward zero
	SCvtF  = fp2(0x0e21d800, "scvtf")  // from signed integer
)

// Reductions of v.4s to the scalar s register d.
func across(base uint32, op string) func(d, n V) Inst {
	return func(d, n V) Inst {
		return Inst{base | uint32(n&31)<<5 | uint32(d&31), fmt.Sprintf("%s s%d, v%d.4s", op, d, n)}
	}
}

var (
	FMaxV   = across(0x6e30f800, "fmaxv")
	FMinV   = across(0x6eb0f800, "fminv")
	FMaxNMV = across(0x6e30c800, "fmaxnmv")
	AddV    = across(0x4eb1b800, "addv") // integer .4s
)

// FAddPS is faddp s_d, v_n.2s: the sum of the two low lanes of n.
func FAddPS(d, n V) Inst {
	return Inst{0x7e30d800 | uint32(n&31)<<5 | uint32(d&31), fmt.Sprintf("faddp s%d, v%d.2s", d, n)}
}

// By-element forms on .4s: d op= n * m.s[lane]. Every register V0-V31 may
// be m for single precision (the M bit is m's top bit).
func byElem(base uint32, op string) func(d, n, m V, lane int) Inst {
	return func(d, n, m V, lane int) Inst {
		if lane < 0 || lane > 3 {
			panic(fmt.Sprintf("arm64: %s lane %d", op, lane))
		}
		h, l := uint32(lane>>1), uint32(lane&1)
		return Inst{base | l<<21 | uint32(m&31)<<16 | h<<11 | uint32(n&31)<<5 | uint32(d&31),
			fmt.Sprintf("%s v%d.4s, v%d.4s, v%d.s[%d]", op, d, n, m, lane)}
	}
}

var (
	FMlaElem = byElem(0x4f801000, "fmla")
	FMulElem = byElem(0x4f809000, "fmul")
)

// Bitwise operations on all 128 bits.
func logic(base uint32, op string) func(d, n, m V) Inst {
	return func(d, n, m V) Inst { return three(base, op, 0, B16, d, n, m) }
}

var (
	And = logic(0x4e201c00, "and")
	Bic = logic(0x4e601c00, "bic") // d = n &^ m
	Orr = logic(0x4ea01c00, "orr")
	Eor = logic(0x6e201c00, "eor")
	Bsl = logic(0x6e601c00, "bsl") // d = d ? n : m, bit by bit
)

// Integer three-register forms.
func int3(base uint32, op string) func(a Arr, d, n, m V) Inst {
	return func(a Arr, d, n, m V) Inst { return three(base, op, intArr(op, a), a, d, n, m) }
}

var (
	Add  = int3(0x0e208400, "add")
	Sub  = int3(0x2e208400, "sub")
	Mul  = int3(0x0e209c00, "mul")
	Mla  = int3(0x0e209400, "mla")
	SMax = int3(0x0e206400, "smax")
	SMin = int3(0x0e206c00, "smin")
)

// SShr is the arithmetic shift right of every element by shift bits.
func SShr(a Arr, d, n V, shift int) Inst {
	e := a.bits()
	if shift < 1 || shift > e {
		panic(fmt.Sprintf("arm64: sshr .%s by %d", a, shift))
	}
	return Inst{0x0f000400 | a.q()<<30 | uint32(2*e-shift)<<16 | uint32(n&31)<<5 | uint32(d&31),
		fmt.Sprintf("sshr %s, %s, #%d", reg(d, a), reg(n, a), shift)}
}

// Shl is the shift left of every element by shift bits.
func Shl(a Arr, d, n V, shift int) Inst {
	e := a.bits()
	if shift < 0 || shift >= e {
		panic(fmt.Sprintf("arm64: shl .%s by %d", a, shift))
	}
	return Inst{0x0f005400 | a.q()<<30 | uint32(e+shift)<<16 | uint32(n&31)<<5 | uint32(d&31),
		fmt.Sprintf("shl %s, %s, #%d", reg(d, a), reg(n, a), shift)}
}

// The int8 dot-product building blocks. SDot and UDot need the dotprod
// extension (cpu.ARM64.HasASIMDDP); the widening forms are ARMv8.0.

// SDot is sdot d.4s, n.16b, m.16b: each lane of d gains the dot product of
// four signed bytes of n and m.
func SDot(d, n, m V) Inst {
	return Inst{0x4e809400 | uint32(m&31)<<16 | uint32(n&31)<<5 | uint32(d&31),
		fmt.Sprintf("sdot v%d.4s, v%d.16b, v%d.16b", d, n, m)}
}

// UDot is SDot for unsigned bytes.
func UDot(d, n, m V) Inst {
	return Inst{0x6e809400 | uint32(m&31)<<16 | uint32(n&31)<<5 | uint32(d&31),
		fmt.Sprintf("udot v%d.4s, v%d.16b, v%d.16b", d, n, m)}
}

// SDotElem is sdot d.4s, n.16b, m.4b[lane]: every lane of d gains the dot
// product of its four bytes of n with the four bytes of m's 32-bit lane.
func SDotElem(d, n, m V, lane int) Inst {
	if lane < 0 || lane > 3 {
		panic(fmt.Sprintf("arm64: sdot lane %d", lane))
	}
	h, l := uint32(lane>>1), uint32(lane&1)
	return Inst{0x4f80e000 | l<<21 | uint32(m&31)<<16 | h<<11 | uint32(n&31)<<5 | uint32(d&31),
		fmt.Sprintf("sdot v%d.4s, v%d.16b, v%d.4b[%d]", d, n, m, lane)}
}

// widen returns the arrangement twice as wide as the half-register src.
func widen(op string, src Arr) Arr {
	switch src {
	case B8, B16:
		return H8
	case H4, H8:
		return S4
	case S2, S4:
		return D2
	}
	panic("arm64: " + op + " from ." + src.String())
}

// long encodes the widening three-register forms: src is the arrangement
// of the source half (8b for smull, 16b for smull2, which reads the upper
// half).
func long(base uint32, op string) func(src Arr, d, n, m V) Inst {
	return func(src Arr, d, n, m V) Inst {
		name := op
		if src.q() == 1 {
			name += "2"
		}
		return Inst{base | src.q()<<30 | src.size()<<22 | uint32(m&31)<<16 | uint32(n&31)<<5 | uint32(d&31),
			fmt.Sprintf("%s %s, %s, %s", name, reg(d, widen(op, src)), reg(n, src), reg(m, src))}
	}
}

var (
	SMull = long(0x0e20c000, "smull") // d = n * m, widened
	SMlal = long(0x0e208000, "smlal") // d += n * m, widened
)

// pairwise encodes the add-long-pairwise forms: d (elements twice as wide,
// half as many) = sums of adjacent pairs of n (plus d for the accumulating
// form).
func pairwise(base uint32, op string) func(src Arr, d, n V) Inst {
	return func(src Arr, d, n V) Inst {
		if src == D2 {
			panic("arm64: " + op + " from .2d")
		}
		dst := [...]Arr{H4, H8, S2, S4, D2, D2}[src]
		dstName := dst.String()
		if src == S2 {
			dstName = "1d"
		}
		return Inst{base | src.q()<<30 | src.size()<<22 | uint32(n&31)<<5 | uint32(d&31),
			fmt.Sprintf("%s v%d.%s, %s", op, d, dstName, reg(n, src))}
	}
}

var (
	SAddLP = pairwise(0x0e202800, "saddlp")
	SAdaLP = pairwise(0x0e206800, "sadalp")
)

// SXtl is sxtl d.8h, n.8b (src B8) or sxtl2 d.8h, n.16b (src B16, the
// upper half): each byte sign-extended to an int16 lane (sshll by 0).
func SXtl(src Arr, d, n V) Inst {
	if src != B8 && src != B16 {
		panic("arm64: sxtl from ." + src.String())
	}
	name := "sxtl"
	if src.q() == 1 {
		name += "2"
	}
	return Inst{0x0f08a400 | src.q()<<30 | uint32(n&31)<<5 | uint32(d&31),
		fmt.Sprintf("%s %s, %s", name, reg(d, H8), reg(n, src))}
}
