package kernels

import (
	"fmt"
	"math"
)

// RoPE rotates the rotary part of one attention head, x, by the angles of one
// position, given as per-element tables built by RoPETable:
//
//	y := slices.Clone(x)
//	for i := range x {
//		x[i] = y[i]*cos[i] + y[partner(i)]*sin[i]
//	}
//
// where partner(i) is i^1 when interleaved (GPT-J: pairs are neighbours)
// and (i + len(x)/2) % len(x) otherwise (GPT-NeoX's rotate-half: pair k is
// x[k], x[k+len(x)/2]). With RoPETable's tables this turns each pair (a, b)
// into (a·cos θ − b·sin θ, b·cos θ + a·sin θ). len(x) must be even and cos
// and sin as long as x.
func RoPE(x, cos, sin []float32, interleaved bool) {
	if len(x)%2 != 0 {
		panic(fmt.Sprintf("kernels.RoPE: len(x) = %d is odd", len(x)))
	}
	same("RoPE", "cos", len(cos), "x", len(x))
	same("RoPE", "sin", len(sin), "x", len(x))
	if len(x) == 0 {
		return
	}
	if interleaved {
		active.ropeInterleaved(x, cos, sin)
	} else {
		active.ropeHalf(x, cos, sin)
	}
}

// RoPETable writes the tables RoPE takes for position pos of a rotary part of
// len(cos) elements (the rotary dimension r, even), pair k turning by
//
//	θ_k = pos · freqs[k]
//
// with len(freqs) = r/2 (RoPEFrequencies gives the unscaled θ^(−2k/r)), so
// cos holds cos θ_k at both elements of pair k and sin holds −sin θ_k at
// its first element and +sin θ_k at its second. The angle is computed in
// float64: in float32, pos·freq would lose the fraction of a turn past a
// few thousand positions.
func RoPETable(cos, sin []float32, pos int, freqs []float64, interleaved bool) {
	same("RoPETable", "sin", len(sin), "cos", len(cos))
	r := len(cos)
	if r%2 != 0 {
		panic(fmt.Sprintf("kernels.RoPETable: len(cos) = %d is odd", r))
	}
	half := r / 2
	same("RoPETable", "freqs", len(freqs), "cos/2", half)
	for k := 0; k < half; k++ {
		s, c := math.Sincos(float64(pos) * freqs[k])
		first, second := k, k+half
		if interleaved {
			first, second = 2*k, 2*k+1
		}
		cos[first], cos[second] = float32(c), float32(c)
		sin[first], sin[second] = float32(-s), float32(s)
	}
}

// RoPEFrequencies returns the r/2 rotation frequencies θ^(−2k/r) of a rotary
// part of r elements with base theta (10000 in most models), unscaled.
func RoPEFrequencies(theta float64, r int) []float64 {
	f := make([]float64, r/2)
	for k := range f {
		f[k] = math.Pow(theta, -float64(2*k)/float64(r))
	}
	return f
}

func ropeHalfGeneric(x, cos, sin []float32) {
	h := len(x) / 2
	for i := 0; i < h; i++ {
		a, b := x[i], x[i+h]
		x[i] = a*cos[i] + b*sin[i]
		x[i+h] = b*cos[i+h] + a*sin[i+h]
	}
}

func ropeInterleavedGeneric(x, cos, sin []float32) {
	for i := 0; i+1 < len(x); i += 2 {
		a, b := x[i], x[i+1]
		x[i] = a*cos[i] + b*sin[i]
		x[i+1] = b*cos[i+1] + a*sin[i+1]
	}
}
