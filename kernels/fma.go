package kernels

import "math"

// fma32 is a·b + c rounded once to float32, what the SIMD tiers' fused
// multiply-add instructions (VFMADD231PS, FMLA) compute: the definition the
// panel kernels' generic twins use, so that every tier gives the same bits.
//
// The float64 product is exact (24+24 bits), and rounding the float64 sum
// to float32 is the single rounding of the exact sum except when the
// float64 sum lies exactly halfway between two float32 values while the
// exact sum does not: then the exact sum's side of that midpoint decides.
func fma32(a, b, c float32) float32 {
	p, c64 := float64(float64(a)*float64(b)), float64(c) // the conversions forbid fusing
	if r, ok := fma32Fast(p, c64); ok {
		return r
	}
	return fma32Midpoint(p, c64)
}

// fma32Fast is p + c rounded to float32, for an exact product p of two
// float32s, and whether that is the single rounding of the exact sum: it
// is unless the 28 bits below the first of the 29 that float32 drops are
// all zero (those 29 are then 1000…0, a midpoint of normal float32s, or
// all zero, as a midpoint of subnormal ones further down would be). It
// inlines, as fma32 with its slow path cannot: the generic tier's loops
// call it once per multiply-add.
func fma32Fast(p, c float64) (float32, bool) {
	s := p + c
	return float32(s), math.Float64bits(s)&(1<<28-1) != 0
}

// fma32Midpoint is fma32's slow path, where s = p + c, rounded, may be a
// float32 midpoint.
func fma32Midpoint(p, c float64) float32 {
	s := p + c
	r := float32(s)
	if float64(r) == s || math.IsInf(float64(r), 0) || math.IsNaN(s) {
		return r
	}
	o := math.Nextafter32(r, float32(math.Inf(1)))
	if float64(r) > s {
		o = math.Nextafter32(r, float32(math.Inf(-1)))
	}
	if s-float64(r) != float64(o)-s {
		return r // not a midpoint after all
	}
	// s is a midpoint: the rounding error of p + c (Knuth's TwoSum, exact)
	// says which side of it the exact sum is on.
	bb := float64(s - p)
	e := float64(p-float64(s-bb)) + float64(c-bb)
	switch {
	case e == 0:
		return r // an exact tie: to even, as float32(s) rounded it
	case (e > 0) == (o > r):
		return o
	}
	return r
}
