package kernels

import "math"

// minNormal32 is the smallest normal float32, 2⁻¹²⁶. A block whose scale
// amax/127 falls below it is quantized as zeros: 1/d would overflow.
const minNormal32 = 0x1p-126

func q8QuantizeGeneric(xq []int8, xs []float32, x []float32) {
	quantizeBlocksGeneric(xq, xs, x, Q8Block, 127)
}

// quantizeBlocksGeneric is Q8Quantize for blocks of n values and codes of
// at most top: Q8_0's activations have blocks of 32, Q8_K's of 256, both
// of int8 codes to 127; Q16Quantize's are blocks of 32 to 32767.
func quantizeBlocksGeneric[T int8 | int16](xq []T, xs []float32, x []float32, n int, top float32) {
	for b := range len(x) / n {
		blk := x[b*n : (b+1)*n]
		var amax float32
		for _, v := range blk {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / top
		var id float32
		if d >= minNormal32 {
			id = 1 / d
		} else {
			d = 0
		}
		for i, v := range blk {
			// math.Round rounds half away from zero, like C's roundf; the
			// float32 product is exact in float64.
			// |v·id| ≤ top up to a float32 rounding of amax·(1/d), far
			// from top + 0.5: the code always fits.
			xq[b*n+i] = T(math.Round(float64(v * id)))
		}
		xs[b] = d
	}
}

// q8MatVecGeneric is Q8MatVec, and Q8MatVec16 for int16 xq.
func q8MatVecGeneric[X int8 | int16](y []float32, wq []int8, ws []float32, xq []X, xs []float32, k, n int) {
	nb := k / Q8Block
	for j := range n {
		row := wq[j*k : (j+1)*k]
		var s float32
		for b := range nb {
			var dot int32
			for i, x := range xq[b*Q8Block : (b+1)*Q8Block] {
				dot += int32(row[b*Q8Block+i]) * int32(x)
			}
			s += ws[j*nb+b] * xs[b] * float32(dot)
		}
		y[j] = s
	}
}
