package kernels

import "math"

// Float16ToFloat32 widens an IEEE 754 binary16 value (the F16 of
// safetensors and GGUF, and the scale of a GGUF Q8_0 block). Every binary16
// value, subnormals included, is exactly representable in binary32; a NaN
// keeps its payload.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0: // normal: rebias the exponent from 15 to 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal binary16 is normal in binary32: shift the leading 1 into the
	// implicit bit and lower the exponent once per shift.
	e := uint32(127 - 15 + 1)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// Float32ToFloat16 narrows f to IEEE 754 binary16, rounding to nearest with
// ties to even, as ggml's GGML_FP32_TO_FP16 and F16C's vcvtps2ph do: values
// beyond binary16's range become ±Inf, those below its subnormals ±0, and a
// NaN stays a NaN (quiet, its top payload bits kept).
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13)
	case exp > 127+15: // at or above 2^16: beyond the largest binary16
		return sign | 0x7c00
	case exp >= 127-14: // normal in binary16
		h := uint32(exp-127+15)<<10 | mant>>13
		// Round the 13 dropped bits to nearest, ties to even; a carry out of
		// the mantissa raises the exponent, and from the top one gives Inf.
		rest := mant & 0x1fff
		if rest > 0x1000 || rest == 0x1000 && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	case exp < 127-25: // below half the smallest subnormal: rounds to 0
		return sign
	}
	// Subnormal in binary16: the value is m·2^-24 with m = full mantissa
	// (implicit bit included) shifted right by the exponent's shortfall.
	full := mant | 0x800000
	shift := uint(126 - exp) // 14 … 24 for exp 112 … 102, from 2^-15 down
	h := full >> shift
	rest := full & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rest > half || rest == half && h&1 == 1 {
		h++
	}
	return sign | uint16(h)
}
