package model

import (
	"errors"
	"fmt"
	"math"
)

// ErrNonFinite marks a weight that is NaN or infinite. One such value makes
// every logit it reaches NaN, or makes softmax pick one token always, while
// the output still looks like text: loaders refuse it instead.
var ErrNonFinite = errors.New("weight is not finite")

// checkFinite reports the first NaN or ±Inf in v, the values of tensor name
// as stored, of shape dims (outermost first), naming its index.
func checkFinite(name string, dims []int, v []float32) error {
	i := firstNonFinite(v)
	if i < 0 {
		return nil
	}
	return nonFinite(name, dims, v[i], unflatten(i, dims))
}

// nonFinite is the error for value x of tensor name at index idx.
func nonFinite(name string, dims []int, x float32, idx []int) error {
	return fmt.Errorf("%w: tensor %q %v holds %v at index %v", ErrNonFinite, name, dims, x, idx)
}

// firstNonFinite returns the index of v's first NaN or ±Inf, or -1. An
// exponent of all ones is what NaN and ±Inf share: adding one to it sets
// bit 31, which no finite value's masked exponent reaches. The loop ORs
// eight of those sums before it branches, so that a load reads each weight
// once at close to memory speed.
func firstNonFinite(v []float32) int {
	const exp, one = 0x7f800000, 0x00800000
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := v[i : i+8 : i+8]
		acc := (math.Float32bits(w[0])&exp + one) | (math.Float32bits(w[1])&exp + one) |
			(math.Float32bits(w[2])&exp + one) | (math.Float32bits(w[3])&exp + one) |
			(math.Float32bits(w[4])&exp + one) | (math.Float32bits(w[5])&exp + one) |
			(math.Float32bits(w[6])&exp + one) | (math.Float32bits(w[7])&exp + one)
		if acc&(1<<31) != 0 {
			break
		}
	}
	for ; i < len(v); i++ {
		if math.Float32bits(v[i])&exp == exp {
			return i
		}
	}
	return -1
}

// unflatten turns the row-major index i into one index per dimension.
func unflatten(i int, dims []int) []int {
	idx := make([]int, len(dims))
	for k := len(dims) - 1; k >= 0; k-- {
		if dims[k] > 0 {
			idx[k] = i % dims[k]
			i /= dims[k]
		}
	}
	return idx
}
