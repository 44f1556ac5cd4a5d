package kernels

import (
	"math"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/stretchr/testify/assert"
)

func TestQuantKernelsPanics(t *testing.T) {
	w, xq := make([]byte, 2*144), make([]int8, 256)
	xs, xsum, y := make([]float32, 1), make([]int16, 16), make([]float32, 2)
	for _, tc := range []struct {
		msg string
		f   func()
	}{
		{"kernels.QuantMatVec: Q8_0 is not a blocked type", func() { QuantMatVec(Q8_0, y, w, xq, xs, xsum, 32, 1) }},
		{"kernels.QuantMatVec: k = 300 is not a multiple of the Q4_K block of 256", func() { QuantMatVec(Q4_K, y, w, xq, xs, xsum, 300, 1) }},
		{"kernels.QuantMatVec: negative shape 256×-1", func() { QuantMatVec(Q4_K, y, w, xq, xs, xsum, 256, -1) }},
		{"kernels.QuantMatVec: len(w) = 288, need 432", func() { QuantMatVec(Q4_K, y, w, xq, xs, xsum, 256, 3) }},
		{"kernels.QuantMatVec: len(xsum) = 16, need 32", func() { QuantMatVec(Q4_K, y, make([]byte, 288), make([]int8, 512), make([]float32, 2), xsum, 512, 1) }},
		{"kernels.QuantMatVec: len(y) = 2, need 3", func() { QuantMatVec(Q4_K, y, make([]byte, 432), xq, xs, xsum, 256, 3) }},
		{"kernels.QuantMatMul: negative shape -1×256×2", func() { QuantMatMul(Q4_K, y, xq, xs, xsum, w, nil, -1, 256, 2) }},
		{"kernels.QuantMatMul: len(aq) = 256, need 512", func() { QuantMatMul(Q4_K, y, xq, xs, xsum, w, nil, 2, 256, 1) }},
		{"kernels.QuantMatMul: len(bias) = 2, need 3", func() { QuantMatMul(Q4_K, make([]float32, 3), xq, xs, xsum, make([]byte, 432), y, 1, 256, 3) }},
		{"kernels.QuantizeActivations: len(x) = 100 is not a multiple of 256", func() { QuantizeActivations(Q6_K, xq, xs, xsum, make([]float32, 100)) }},
		{"kernels.QuantizeActivations: len(xs) = 1, need 8", func() { QuantizeActivations(Q4_0, xq, xs, xsum, make([]float32, 256)) }},
		{"kernels.QuantizeActivations: F32 is not a blocked type", func() { QuantizeActivations(F32, xq, xs, xsum, make([]float32, 256)) }},
	} {
		assert.PanicsWithValue(t, tc.msg, tc.f)
	}
}

// An empty k leaves zeros (plus the bias), as every product of nothing.
func TestQuantKernelsEmpty(t *testing.T) {
	y := []float32{5, 5}
	QuantMatVec(Q4_K, y, nil, nil, nil, nil, 0, 2)
	assert.Equal(t, []float32{0, 0}, y)
	c := []float32{5, 5, 5, 5}
	QuantMatMul(Q6_K, c, nil, nil, nil, nil, []float32{1, 2}, 2, 0, 2)
	assert.Equal(t, []float32{1, 2, 1, 2}, c)
}

// q8KQuantizeRef is QuantizeActivations' Q8_K form written independently
// of the twin: q8QuantizeRef's rounding over blocks of 256, then the sums.
func q8KQuantizeRef(x []float32) ([]int8, []float32, []int16) {
	q, s, sum := make([]int8, len(x)), make([]float32, len(x)/QK), make([]int16, len(x)/16)
	for b := range s {
		var amax float32
		for _, v := range x[QK*b : QK*b+QK] {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		if d < 0x1p-126 {
			continue
		}
		id := 1 / d
		for i, v := range x[QK*b : QK*b+QK] {
			p := float64(v * id)
			q[QK*b+i] = int8(math.Copysign(math.Floor(math.Abs(p)+0.5), p))
		}
		s[b] = d
	}
	for g := range sum {
		for _, v := range q[16*g : 16*g+16] {
			sum[g] += int16(v)
		}
	}
	return q, s, sum
}

// TestQ8KQuantize: every tier's Q8_K activations are the reference's bit
// for bit: random blocks, exact ties (amax 127 makes d = 1), a zero block
// and a denormal one, and nothing outside the outputs is written.
func TestQ8KQuantize(t *testing.T) {
	var inputs [][]float32
	for i, nb := range []int{1, 2, 3, 5} {
		inputs = append(inputs, testkit.RandF32(uint64(700+i), QK*nb, float32(1+3*i)))
	}
	crafted := make([]float32, 3*QK)
	copy(crafted, q8QuantizeInputs()[len(q8QuantizeInputs())-1][:32]) // ties under d = 1
	crafted[100] = -127
	for i := 2 * QK; i < 3*QK; i++ {
		crafted[i] = 1e-40 * float32(i%7-3) // denormal: d < 2⁻¹²⁶
	}
	// crafted[QK:2QK] stays zero.
	inputs = append(inputs, crafted)
	forEachTier(t, func(t *testing.T) {
		for i, x := range inputs {
			wantQ, wantS, wantSum := q8KQuantizeRef(x)
			q := int8At(make([]int8, len(x)+8), i%3)
			for p := range q {
				q[p] = 99
			}
			s, sum := newGuarded(len(x)/QK, i%2), make([]int16, len(x)/16+2)
			sum[0], sum[len(sum)-1] = 77, 77
			QuantizeActivations(Q6_K, q[:len(x)], s.data, sum[1:len(sum)-1], x)
			s.check(t)
			assert.Equal(t, wantS, s.data, "scales of input %d", i)
			assert.Equal(t, wantQ, q[:len(x)], "values of input %d", i)
			assert.Equal(t, wantSum, sum[1:len(sum)-1], "sums of input %d", i)
			assert.Equal(t, []int8{99, 99, 99, 99, 99, 99, 99, 99}, q[len(x):], "values past the output")
			assert.Equal(t, [2]int16{77, 77}, [2]int16{sum[0], sum[len(sum)-1]}, "sums outside the output")
		}
	})
}
