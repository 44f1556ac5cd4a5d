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
