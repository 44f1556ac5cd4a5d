package kernels

import (
	"testing"

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
