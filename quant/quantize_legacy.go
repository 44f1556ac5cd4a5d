package quant

import (
	"encoding/binary"
	"math"

	"github.com/goformer/goformer/kernels"
)

// The quantizers of this file and quantize_k.go make, from float32 values,
// the blocks ggml's reference quantizers (quantize_row_*_ref in
// ggml-quants.c, what llama-quantize runs without an importance matrix)
// make, byte for byte: every operation is a float32 operation in the C
// code's order, each product is rounded before the sum it joins (explicit
// float32 conversions keep Go from fusing them into an FMA on arm64, and
// ggml-base is built without FMA contraction), and fp16 scales are rounded
// to nearest, ties to even.

// putFP16 stores v as a little-endian binary16 in b.
func putFP16(b []byte, v float32) { binary.LittleEndian.PutUint16(b, kernels.Float32ToFloat16(v)) }

// absMax returns the value of x of largest magnitude (the first of equal
// ones) and that magnitude.
func absMax(x []float32) (big, amax float32) {
	for _, v := range x {
		if a := abs32(v); amax < a {
			amax, big = a, v
		}
	}
	return big, amax
}

// minMax returns the smallest and largest values of x.
func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// inverse is 1/d, or 0 for d = 0.
func inverse(d float32) float32 {
	if d == 0 {
		return 0
	}
	return 1 / d
}

// Q4_0: d is the value of largest magnitude over −8, so that value maps to
// the code 0 exactly, and q = min(15, trunc(x/d + 8.5)).
func quantQ4_0(blk []byte, x []float32) {
	big, _ := absMax(x)
	d := big / -8
	id := inverse(d)
	putFP16(blk, d)
	for j := range 16 {
		q0 := min(15, int8(float32(x[j]*id)+8.5))
		q1 := min(15, int8(float32(x[j+16]*id)+8.5))
		blk[2+j] = byte(q0) | byte(q1)<<4
	}
}

// Q4_1: d spans min..max in 15 steps, m = min, q = min(15, trunc((x−m)/d + ½)).
func quantQ4_1(blk []byte, x []float32) {
	lo, hi := minMax(x)
	d := (hi - lo) / 15
	id := inverse(d)
	putFP16(blk, d)
	putFP16(blk[2:], lo)
	for j := range 16 {
		q0 := min(15, int8(float32((x[j]-lo)*id)+0.5))
		q1 := min(15, int8(float32((x[j+16]-lo)*id)+0.5))
		blk[4+j] = byte(q0) | byte(q1)<<4
	}
}

// Q5_0: as Q4_0 with d = max/−16 and codes up to 31, the fifth bits in qh.
func quantQ5_0(blk []byte, x []float32) {
	big, _ := absMax(x)
	d := big / -16
	id := inverse(d)
	putFP16(blk, d)
	var qh uint32
	for j := range 16 {
		q0 := byte(min(31, int8(float32(x[j]*id)+16.5)))
		q1 := byte(min(31, int8(float32(x[j+16]*id)+16.5)))
		blk[6+j] = q0&0xF | (q1&0xF)<<4
		qh |= uint32(q0>>4)<<j | uint32(q1>>4)<<(j+16)
	}
	binary.LittleEndian.PutUint32(blk[2:], qh)
}

// Q5_1: as Q4_1 in 31 steps, q = trunc((x−m)/d + ½) (ggml clamps nothing).
func quantQ5_1(blk []byte, x []float32) {
	lo, hi := minMax(x)
	d := (hi - lo) / 31
	id := inverse(d)
	putFP16(blk, d)
	putFP16(blk[2:], lo)
	var qh uint32
	for j := range 16 {
		q0 := uint8(float32((x[j]-lo)*id) + 0.5)
		q1 := uint8(float32((x[j+16]-lo)*id) + 0.5)
		blk[8+j] = q0&0xF | (q1&0xF)<<4
		qh |= uint32(q0>>4&1)<<j | uint32(q1>>4&1)<<(j+16)
	}
	binary.LittleEndian.PutUint32(blk[4:], qh)
}

// Q8_0: d = max|x|/127, q = round(x/d), halves away from zero.
func quantQ8_0(blk []byte, x []float32) {
	_, amax := absMax(x)
	d := amax / 127
	id := inverse(d)
	putFP16(blk, d)
	for j, v := range x[:kernels.Q8Block] {
		blk[2+j] = byte(int8(math.Round(float64(v * id))))
	}
}
