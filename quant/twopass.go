package quant

import (
	"fmt"

	"github.com/goformer/goformer/kernels"
)

// The two-pass activation form, a more faithful option than llama.cpp's:
// x is quantized to the type's int8 activations and multiplied as usual,
// then what that rounding left out, x − x̂, is quantized the same way and
// multiplied too, and the products are added:
//
//	y = W·q(x) + W·q(x − x̂)
//
// The activations' error falls from ~1/254 of each block's largest value
// to ~1/254 of that, so a product carries the rounding of W alone; it
// costs a second product, which reads W again.

// twoPass computes out = product(x) + product(x − x̂), where product
// quantizes its input into s (activation blocks of act) and multiplies.
func twoPass(out, x []float32, act kernels.WeightType, s *Scratch, product func(out, x []float32)) {
	product(out, x)
	s.ReserveTwoPass(len(x), len(out))
	r, second := s.residual[:len(x)], s.second[:len(out)]
	bl := act.BlockLen()
	for i, v := range x {
		// Rounded before the subtraction, so that no platform fuses it.
		r[i] = v - float32(s.xs[i/bl]*float32(s.xq[i]))
	}
	product(second, r)
	kernels.Add(out, out, second)
}

// ReserveTwoPass makes room for the two-pass products of inputs of up to
// values values in all and outputs of up to outputs, so that they allocate
// nothing.
func (s *Scratch) ReserveTwoPass(values, outputs int) {
	if len(s.residual) < values {
		s.residual = make([]float32, values)
	}
	if len(s.second) < outputs {
		s.second = make([]float32, outputs)
	}
}

// twoPassRows is a MatMulTwoPass (name, for the panic) of a matrix of n
// rows whose MatMul is matMul: the two-pass product of the rows rows of a
// into c without the bias, each row as MatVecTwoPass computes it, then the
// bias (nil, or n values) added to every row.
func twoPassRows(name string, c, a []float32, rows, n int, bias []float32, act kernels.WeightType, s *Scratch,
	matMul func(c, a []float32, rows int, bias []float32, s *Scratch)) {
	if bias != nil && len(bias) != n {
		panic(fmt.Sprintf("%s: len(bias) = %d, want %d", name, len(bias), n))
	}
	twoPass(c[:rows*n], a, act, s, func(out, v []float32) { matMul(out, v, rows, nil, s) })
	addBias(c, bias, rows)
}

// addBias adds bias to each of the rows rows of c.
func addBias(c, bias []float32, rows int) {
	if bias == nil {
		return
	}
	n := len(bias)
	for i := range rows {
		kernels.Add(c[i*n:(i+1)*n], c[i*n:(i+1)*n], bias)
	}
}

// MatVecTwoPass computes y[:Rows] = M·x with two-pass activations (see
// twoPass): y is M·q(x) + M·q(x − x̂).
func (m *BlockMatrix) MatVecTwoPass(y, x []float32, s *Scratch) {
	twoPass(y[:m.Rows], x, m.Type.Activation(), s, func(out, v []float32) { m.MatVec(out, v, s) })
}

// MatMulTwoPass computes c[:rows*Rows] = A·Mᵀ + bias with two-pass
// activations, each row bit for bit MatVecTwoPass of that row of a, then
// the bias.
func (m *BlockMatrix) MatMulTwoPass(c, a []float32, rows int, bias []float32, s *Scratch) {
	twoPassRows("quant.BlockMatrix.MatMulTwoPass", c, a, rows, m.Rows, bias, m.Type.Activation(), s, m.MatMul)
}

// MatVecTwoPass computes y[:Rows] = M·x with two-pass activations (see
// twoPass): y is M·q(x) + M·q(x − x̂).
func (m *Matrix) MatVecTwoPass(y, x []float32, s *Scratch) {
	twoPass(y[:m.Rows], x, kernels.Q8_0, s, func(out, v []float32) { m.MatVec(out, v, s) })
}

// MatMulTwoPass computes c[:rows*Rows] = A·Mᵀ + bias with two-pass
// activations, each row bit for bit MatVecTwoPass of that row of a, then
// the bias.
func (m *Matrix) MatMulTwoPass(c, a []float32, rows int, bias []float32, s *Scratch) {
	twoPassRows("quant.Matrix.MatMulTwoPass", c, a, rows, m.Rows, bias, kernels.Q8_0, s, m.MatMul)
}
