package kernels

import "encoding/binary"

// The generic twins of the blocked types: one function per type multiplies
// one weight block (its GGUF bytes) by the activations it covers, in exact
// integer arithmetic over the block's codes and integer sub-block scales,
// then scales the integer sums once in float32. They define what every
// tier's kernels compute: the integer sums are exact on every tier, only
// the float32 scaling and the order of the float32 sum over blocks differ.
// quant's dequantizers (quant/blocks.go, bit-exact with ggml) are the
// independent reference they are tested against.

// blockDot is one weight block w times its activations: xq its values, xs
// its scale (xs[0]), xsum the sums of its activation values (one per 32 for
// the types of 32, one per 16 for the K-quants).
type blockDot func(w []byte, xq []int8, xs []float32, xsum []int16) float32

func f16(b []byte) float32 { return Float16ToFloat32(binary.LittleEndian.Uint16(b)) }

// blockMatVecGeneric is the generic GEMV of a blocked type, built from its
// block product:
//
//	for j := 0; j < n; j++ {
//		var s float32
//		for b := 0; b < k/BlockLen; b++ {
//			s += dot(block b of row j, the activations of block b)
//		}
//		y[j] = s
//	}
func blockMatVecGeneric(t WeightType, dot blockDot) func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int) {
	bl, bb := t.BlockLen(), t.BlockBytes()
	sums := bl / Q8Block // sums per block
	if t.Activation() == Q8_K {
		sums = bl / q8KSumLen
	}
	return func(y []float32, w []byte, xq []int8, xs []float32, xsum []int16, k, n int) {
		nb := k / bl
		for j := range n {
			row := w[j*nb*bb : (j+1)*nb*bb]
			var s float32
			for b := range nb {
				s += dot(row[b*bb:(b+1)*bb], xq[b*bl:(b+1)*bl], xs[b:b+1], xsum[b*sums:(b+1)*sums])
			}
			y[j] = s
		}
	}
}

// dotQ4_0: d (fp16), 16 bytes of nibbles, values 0..15 low and 16..31
// high; the block is d·xs·(Σ q·x − 8·Σx).
func dotQ4_0(w []byte, xq []int8, xs []float32, xsum []int16) float32 {
	var dot int32
	for j, q := range w[2:18] {
		dot += int32(q&0xF)*int32(xq[j]) + int32(q>>4)*int32(xq[j+16])
	}
	return f16(w) * xs[0] * float32(dot-8*int32(xsum[0]))
}

// dotQ4_1: d and m (fp16), nibbles as Q4_0; d·xs·Σ q·x + m·xs·Σx.
func dotQ4_1(w []byte, xq []int8, xs []float32, xsum []int16) float32 {
	var dot int32
	for j, q := range w[4:20] {
		dot += int32(q&0xF)*int32(xq[j]) + int32(q>>4)*int32(xq[j+16])
	}
	return f16(w)*xs[0]*float32(dot) + f16(w[2:])*xs[0]*float32(xsum[0])
}

// q5Dot is Σ q·x over a block of 5-bit values: the fifth bits in qh (bit j
// for value j), the low four as Q4_0's nibbles.
func q5Dot(qh uint32, qs []byte, xq []int8) int32 {
	var dot int32
	for j, q := range qs[:16] {
		lo := int32(q&0xF) | int32(qh>>j&1)<<4
		hi := int32(q>>4) | int32(qh>>(j+16)&1)<<4
		dot += lo*int32(xq[j]) + hi*int32(xq[j+16])
	}
	return dot
}

// dotQ5_0: d (fp16), qh, nibbles; d·xs·(Σ q·x − 16·Σx).
func dotQ5_0(w []byte, xq []int8, xs []float32, xsum []int16) float32 {
	dot := q5Dot(binary.LittleEndian.Uint32(w[2:]), w[6:22], xq)
	return f16(w) * xs[0] * float32(dot-16*int32(xsum[0]))
}

// dotQ5_1: d and m (fp16), qh, nibbles; d·xs·Σ q·x + m·xs·Σx.
func dotQ5_1(w []byte, xq []int8, xs []float32, xsum []int16) float32 {
	dot := q5Dot(binary.LittleEndian.Uint32(w[4:]), w[8:24], xq)
	return f16(w)*xs[0]*float32(dot) + f16(w[2:])*xs[0]*float32(xsum[0])
}

// iq4Levels are the 16 values of the IQ4_NL and IQ4_XS codes.
var iq4Levels = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// iq4Dot is Σ level(q)·x over 32 values laid out as Q4_0's nibbles.
func iq4Dot(qs []byte, xq []int8) int32 {
	var dot int32
	for j, q := range qs[:16] {
		dot += int32(iq4Levels[q&0xF])*int32(xq[j]) + int32(iq4Levels[q>>4])*int32(xq[j+16])
	}
	return dot
}

// dotIQ4_NL: d (fp16), 16 bytes of indices; d·xs·Σ level·x.
func dotIQ4_NL(w []byte, xq []int8, xs []float32, _ []int16) float32 {
	return f16(w) * xs[0] * float32(iq4Dot(w[2:18], xq))
}

// kScales unpacks the eight 6-bit scales and mins of a Q4_K or Q5_K
// super-block from its 12 bytes.
func kScales(s []byte) (sc, mn [8]int32) {
	for j := range 4 {
		sc[j], mn[j] = int32(s[j]&63), int32(s[j+4]&63)
		sc[j+4] = int32(s[j+8]&0xF | s[j]>>6<<4)
		mn[j+4] = int32(s[j+8]>>4 | s[j+4]>>6<<4)
	}
	return sc, mn
}

// kMins is Σ mn_s·(xsum[2s] + xsum[2s+1]) over the eight sub-blocks of 32.
func kMins(mn [8]int32, xsum []int16) int32 {
	var m int32
	for s, v := range mn {
		m += v * (int32(xsum[2*s]) + int32(xsum[2*s+1]))
	}
	return m
}

// dotQ4_K: d and dmin (fp16), 6-bit scales sc and mins mn of eight
// sub-blocks of 32, 128 bytes of nibbles (bytes 32j..32j+31 hold values
// 64j.. low and 64j+32.. high); the block is
// d·xs·Σ_s sc_s·Σ q·x − dmin·xs·Σ_s mn_s·Σx.
func dotQ4_K(w []byte, xq []int8, xs []float32, xsum []int16) float32 {
	sc, mn := kScales(w[4:16])
	qs := w[16:144]
	var sumi int32
	for j := range 4 {
		var lo, hi int32
		x := xq[64*j : 64*j+64]
		for l, q := range qs[32*j : 32*j+32] {
			lo += int32(q&0xF) * int32(x[l])
			hi += int32(q>>4) * int32(x[l+32])
		}
		sumi += sc[2*j]*lo + sc[2*j+1]*hi
	}
	return f16(w)*xs[0]*float32(sumi) - f16(w[2:])*xs[0]*float32(kMins(mn, xsum))
}

// dotQ5_K: Q4_K with a fifth bit per value from the 32 bytes qh (bit 2j of
// qh[l] for value 64j+l, bit 2j+1 for 64j+32+l) before the nibbles.
func dotQ5_K(w []byte, xq []int8, xs []float32, xsum []int16) float32 {
	sc, mn := kScales(w[4:16])
	qh, qs := w[16:48], w[48:176]
	var sumi int32
	for j := range 4 {
		var lo, hi int32
		x := xq[64*j : 64*j+64]
		for l, q := range qs[32*j : 32*j+32] {
			h := qh[l] >> (2 * j)
			lo += (int32(q&0xF) | int32(h&1)<<4) * int32(x[l])
			hi += (int32(q>>4) | int32(h&2)<<3) * int32(x[l+32])
		}
		sumi += sc[2*j]*lo + sc[2*j+1]*hi
	}
	return f16(w)*xs[0]*float32(sumi) - f16(w[2:])*xs[0]*float32(kMins(mn, xsum))
}

// dotQ6_K: 128 bytes of low nibbles ql, 64 of high bit pairs qh, 16 int8
// scales, d (fp16). Value i of half h (128 values) and quarter c (32) has
// code q = ql nibble | qh pair << 4 in 0..63 and stands for q − 32; the
// block is d·xs·Σ_g sc_g·(Σ q·x − 32·Σx) over the 16 groups of 16.
func dotQ6_K(w []byte, xq []int8, xs []float32, xsum []int16) float32 {
	ql, qh, sc := w[:128], w[128:192], w[192:208]
	var sumi int32
	for h := range 2 {
		l0, h0, x := ql[64*h:64*h+64], qh[32*h:32*h+32], xq[128*h:128*h+128]
		var g [8]int32 // the eight groups of 16 in this half
		for l := range 32 {
			is := l / 16
			g[is] += int32(l0[l]&0xF|(h0[l]&3)<<4) * int32(x[l])
			g[is+2] += int32(l0[l+32]&0xF|(h0[l]>>2&3)<<4) * int32(x[l+32])
			g[is+4] += int32(l0[l]>>4|(h0[l]>>4&3)<<4) * int32(x[l+64])
			g[is+6] += int32(l0[l+32]>>4|(h0[l]>>6&3)<<4) * int32(x[l+96])
		}
		for i, v := range g {
			sumi += int32(int8(sc[8*h+i])) * (v - 32*int32(xsum[8*h+i]))
		}
	}
	return f16(w[208:]) * xs[0] * float32(sumi)
}

// q3Scales unpacks the sixteen 6-bit scales of a Q3_K super-block (biased
// by 32) from its 12 bytes: low nibbles in bytes 0..7, high bit pairs in
// 8..11.
func q3Scales(s []byte) (sc [16]int32) {
	for g := range 16 {
		lo := s[g%8] >> (4 * (g / 8)) & 0xF
		hi := s[8+g%4] >> (2 * (g / 4)) & 3
		sc[g] = int32(lo|hi<<4) - 32
	}
	return sc
}

// dotQ3_K: 32 bytes of high bits hm, 64 of 2-bit low bits, 12 of scales,
// d (fp16). Value v (half n = v/128, quarter j = v%128/32, i = v%32) has
// low bits qs[32n+i] >> 2j & 3 and high bit hm[i] >> (4n+j) & 1; it stands
// for low + 4·high − 4. The block is d·xs·Σ_g sc_g·(Σ q·x − 4·Σx) over the
// 16 groups of 16, q = low + 4·high.
func dotQ3_K(w []byte, xq []int8, xs []float32, xsum []int16) float32 {
	hm, qs := w[:32], w[32:96]
	sc := q3Scales(w[96:108])
	var sumi int32
	for v0 := 0; v0 < QK; v0 += 16 {
		n, j, i0 := v0/128, v0%128/32, v0%32
		var dot int32
		for i := i0; i < i0+16; i++ {
			q := int32(qs[32*n+i]>>(2*j)&3) | int32(hm[i]>>(4*n+j)&1)<<2
			dot += q * int32(xq[v0+i-i0])
		}
		g := v0 / 16
		sumi += sc[g] * (dot - 4*int32(xsum[g]))
	}
	return f16(w[108:]) * xs[0] * float32(sumi)
}

// dotQ2_K: 16 bytes of 4-bit scales (low nibble) and mins (high), 64 of
// 2-bit values, d and dmin (fp16). Value v has q = qs[32n+i] >> 2j & 3 as
// in Q3_K; the block is d·xs·Σ_g sc_g·Σ q·x − dmin·xs·Σ_g m_g·Σx.
func dotQ2_K(w []byte, xq []int8, xs []float32, xsum []int16) float32 {
	scales, qs := w[:16], w[16:80]
	var sumi, summ int32
	for v0 := 0; v0 < QK; v0 += 16 {
		n, j, i0 := v0/128, v0%128/32, v0%32
		var dot int32
		for i := i0; i < i0+16; i++ {
			dot += int32(qs[32*n+i]>>(2*j)&3) * int32(xq[v0+i-i0])
		}
		g := v0 / 16
		sumi += int32(scales[g]&0xF) * dot
		summ += int32(scales[g]>>4) * int32(xsum[g])
	}
	return f16(w[80:])*xs[0]*float32(sumi) - f16(w[82:])*xs[0]*float32(summ)
}

// dotIQ4_XS: d (fp16), the high bit pairs of eight 6-bit scales (a
// uint16), their low nibbles (4 bytes), then IQ4_NL's indices for eight
// sub-blocks of 32; the block is d·xs·Σ_s (ls_s − 32)·Σ level·x.
func dotIQ4_XS(w []byte, xq []int8, xs []float32, _ []int16) float32 {
	sh, sl, qs := binary.LittleEndian.Uint16(w[2:]), w[4:8], w[8:136]
	var sumi int32
	for s := range 8 {
		ls := int32(sl[s/2]>>(4*(s%2))&0xF) | int32(sh>>(2*s)&3)<<4
		sumi += (ls - 32) * iq4Dot(qs[16*s:16*s+16], xq[32*s:32*s+32])
	}
	return f16(w) * xs[0] * float32(sumi)
}

// blockDots are the generic block products by type.
var blockDots = map[WeightType]blockDot{
	Q4_0: dotQ4_0, Q4_1: dotQ4_1, Q5_0: dotQ5_0, Q5_1: dotQ5_1,
	Q2_K: dotQ2_K, Q3_K: dotQ3_K, Q4_K: dotQ4_K, Q5_K: dotQ5_K, Q6_K: dotQ6_K,
	IQ4_NL: dotIQ4_NL, IQ4_XS: dotIQ4_XS,
}
