package quant

import (
	"encoding/binary"
	"fmt"

	"github.com/goformer/goformer/kernels"
)

// BlockFormat is one of ggml's block-quantized tensor types as a GGUF file
// stores it: a row is whole blocks of Type.BlockLen() values in
// Type.BlockBytes() bytes, and Dequantize expands one block, bit for bit as
// ggml's reference dequantizers (ggml-quants.c) do. The layouts are those
// of ggml-common.h; every scale is an IEEE fp16 and every product is
// rounded to float32 before the next operation, as the C code's separate
// statements are (an explicit float32 conversion keeps Go from fusing them
// into one FMA).
type BlockFormat struct {
	Type     kernels.WeightType
	GGMLType uint32 // ggml's type number, as a GGUF tensor info names it
	// Scales are the offsets in a block of its fp16 scales (d, and m or
	// dmin where the type has one): what a load checks for NaN and Inf.
	Scales []int
	// Dequantize writes the BlockLen values of blk (BlockBytes bytes) to
	// dst.
	Dequantize func(dst []float32, blk []byte)
	// Quantize writes to blk the block ggml's reference quantizer makes of
	// the BlockLen values x, byte for byte; nil for a type goformer reads
	// but does not write.
	Quantize func(blk []byte, x []float32)
}

// Name is the GGUF name of the type.
func (f *BlockFormat) Name() string { return f.Type.String() }

// BlockLen is the number of values per block.
func (f *BlockFormat) BlockLen() int { return f.Type.BlockLen() }

// BlockBytes is the size of a block.
func (f *BlockFormat) BlockBytes() int { return f.Type.BlockBytes() }

// QK is the number of values of a K-quant super-block.
const QK = kernels.QK

// BlockFormats are the block types goformer can read, by ggml type number.
var BlockFormats = map[uint32]*BlockFormat{
	2:  {kernels.Q4_0, 2, []int{0}, dequantQ4_0, quantQ4_0},
	3:  {kernels.Q4_1, 3, []int{0, 2}, dequantQ4_1, quantQ4_1},
	6:  {kernels.Q5_0, 6, []int{0}, dequantQ5_0, quantQ5_0},
	7:  {kernels.Q5_1, 7, []int{0, 2}, dequantQ5_1, quantQ5_1},
	8:  {kernels.Q8_0, 8, []int{0}, dequantQ8_0, quantQ8_0},
	10: {kernels.Q2_K, 10, []int{80, 82}, dequantQ2_K, nil},
	11: {kernels.Q3_K, 11, []int{108}, dequantQ3_K, nil},
	12: {kernels.Q4_K, 12, []int{0, 2}, dequantQ4_K, quantQ4_K},
	13: {kernels.Q5_K, 13, []int{0, 2}, dequantQ5_K, quantQ5_K},
	14: {kernels.Q6_K, 14, []int{208}, dequantQ6_K, quantQ6_K},
	20: {kernels.IQ4_NL, 20, []int{0}, dequantIQ4_NL, nil},
	23: {kernels.IQ4_XS, 23, []int{0}, dequantIQ4_XS, nil},
}

// formats are BlockFormats by weight type.
var formats = func() map[kernels.WeightType]*BlockFormat {
	m := make(map[kernels.WeightType]*BlockFormat, len(BlockFormats))
	for _, f := range BlockFormats {
		m[f.Type] = f
	}
	return m
}()

// FormatOf returns the block format of weight type t, or nil.
func FormatOf(t kernels.WeightType) *BlockFormat { return formats[t] }

// DequantizeRows expands the rows of a block-quantized tensor, data holding
// len(dst)/BlockLen blocks one after another.
func (f *BlockFormat) DequantizeRows(dst []float32, data []byte) error {
	n, err := f.blockCount(len(dst), len(data))
	if err != nil {
		return err
	}
	bl, bb := f.BlockLen(), f.BlockBytes()
	for b := range n {
		f.Dequantize(dst[b*bl:(b+1)*bl], data[b*bb:(b+1)*bb])
	}
	return nil
}

// QuantizeRows quantizes src into data, len(src)/BlockLen blocks one after
// another, as ggml's reference quantizer does (see Quantize).
func (f *BlockFormat) QuantizeRows(data []byte, src []float32) error {
	if f.Quantize == nil {
		return fmt.Errorf("quant: goformer does not quantize to %s", f.Name())
	}
	n, err := f.blockCount(len(src), len(data))
	if err != nil {
		return err
	}
	bl, bb := f.BlockLen(), f.BlockBytes()
	for b := range n {
		f.Quantize(data[b*bb:(b+1)*bb], src[b*bl:(b+1)*bl])
	}
	return nil
}

// blockCount is the number of blocks of values values in bytes bytes, or
// an error when the two do not make whole blocks of one count.
func (f *BlockFormat) blockCount(values, bytes int) (int, error) {
	bl, bb := f.BlockLen(), f.BlockBytes()
	if values%bl != 0 {
		return 0, fmt.Errorf("quant: %d values are not whole %s blocks of %d", values, f.Name(), bl)
	}
	n := values / bl
	if bytes != n*bb {
		return 0, fmt.Errorf("quant: %d bytes for %d %s blocks, want %d", bytes, n, f.Name(), n*bb)
	}
	return n, nil
}

func fp16(b []byte) float32 { return kernels.Float16ToFloat32(binary.LittleEndian.Uint16(b)) }

// Q4_0: d (fp16), then 16 bytes of 4-bit values q, low nibbles for values
// 0..15 and high ones for 16..31; value = (q − 8)·d.
func dequantQ4_0(dst []float32, blk []byte) {
	d, qs := fp16(blk), blk[2:18]
	for j, q := range qs {
		dst[j] = float32(int(q&0xF)-8) * d
		dst[j+16] = float32(int(q>>4)-8) * d
	}
}

// Q4_1: d and m (fp16), then 4-bit values as Q4_0; value = q·d + m.
func dequantQ4_1(dst []float32, blk []byte) {
	d, m, qs := fp16(blk), fp16(blk[2:]), blk[4:20]
	for j, q := range qs {
		dst[j] = float32(float32(q&0xF)*d) + m
		dst[j+16] = float32(float32(q>>4)*d) + m
	}
}

// Q5_0: d (fp16), the 32 fifth bits qh (a little-endian uint32), then the
// low 4 bits as Q4_0; value = (q − 16)·d.
func dequantQ5_0(dst []float32, blk []byte) {
	d, qh, qs := fp16(blk), binary.LittleEndian.Uint32(blk[2:]), blk[6:22]
	for j, q := range qs {
		hi0 := byte(qh>>j) << 4 & 0x10
		hi1 := byte(qh>>(j+12)) & 0x10
		dst[j] = float32(int(q&0xF|hi0)-16) * d
		dst[j+16] = float32(int(q>>4|hi1)-16) * d
	}
}

// Q5_1: d and m (fp16), qh, then the low bits; value = q·d + m.
func dequantQ5_1(dst []float32, blk []byte) {
	d, m, qh, qs := fp16(blk), fp16(blk[2:]), binary.LittleEndian.Uint32(blk[4:]), blk[8:24]
	for j, q := range qs {
		hi0 := byte(qh>>j) << 4 & 0x10
		hi1 := byte(qh>>(j+12)) & 0x10
		dst[j] = float32(float32(q&0xF|hi0)*d) + m
		dst[j+16] = float32(float32(q>>4|hi1)*d) + m
	}
}

// Q8_0: d (fp16), then 32 int8 values; value = q·d.
func dequantQ8_0(dst []float32, blk []byte) {
	d := fp16(blk)
	for j, q := range blk[2:Q8_0BlockBytes] {
		dst[j] = float32(int8(q)) * d
	}
}

// Q2_K: 16 bytes of sub-block scales (low nibble scale, high nibble min),
// 64 bytes of 2-bit values, then d and dmin (fp16). Sub-block i of 16
// values is dl·q − ml with dl = d·scale_i, ml = dmin·min_i.
func dequantQ2_K(dst []float32, blk []byte) {
	scales, qs := blk[:16], blk[16:80]
	d, dmin := fp16(blk[80:]), fp16(blk[82:])
	y, is := 0, 0
	for n := 0; n < QK; n += 128 {
		q := qs[n/4 : n/4+32]
		for shift := uint(0); shift < 8; shift += 2 {
			for half := 0; half < 2; half++ {
				sc := scales[is]
				is++
				dl, ml := d*float32(sc&0xF), dmin*float32(sc>>4)
				for l := range 16 {
					dst[y] = float32(dl*float32(q[16*half+l]>>shift&3)) - ml
					y++
				}
			}
		}
	}
}

// k4Scales unpacks the eight 6-bit scales and mins of a Q4_K or Q5_K
// super-block from its 12 bytes.
func k4Scales(s []byte) (sc, mn [8]uint8) {
	for j := range 4 {
		sc[j], mn[j] = s[j]&63, s[j+4]&63
		sc[j+4] = s[j+8]&0xF | s[j]>>6<<4
		mn[j+4] = s[j+8]>>4 | s[j+4]>>6<<4
	}
	return sc, mn
}

// Q3_K: 32 bytes of high bits (hmask), 64 of 2-bit low bits, 12 of 6-bit
// signed sub-block scales (biased by 32), then d (fp16). Value = d·(s−32)
// times the 3-bit q, where q is the low bits minus 4 unless the high bit
// is set.
func dequantQ3_K(dst []float32, blk []byte) {
	hm, qs, raw, dAll := blk[:32], blk[32:96], blk[96:108], fp16(blk[108:])
	var scales [16]int8
	a0, a1, tmp := binary.LittleEndian.Uint32(raw), binary.LittleEndian.Uint32(raw[4:]), binary.LittleEndian.Uint32(raw[8:])
	const k1, k2 = 0x03030303, 0x0f0f0f0f
	aux := [4]uint32{
		a0&k2 | (tmp>>0&k1)<<4,
		a1&k2 | (tmp>>2&k1)<<4,
		a0>>4&k2 | (tmp>>4&k1)<<4,
		a1>>4&k2 | (tmp>>6&k1)<<4,
	}
	for i, a := range aux {
		for b := range 4 {
			scales[4*i+b] = int8(byte(a>>(8*b))) - 32
		}
	}
	y, is := 0, 0
	m := byte(1)
	for n := 0; n < QK; n += 128 {
		q := qs[n/4 : n/4+32]
		for shift := uint(0); shift < 8; shift += 2 {
			for half := 0; half < 2; half++ {
				dl := dAll * float32(scales[is])
				is++
				for l := range 16 {
					i := 16*half + l
					v := int8(q[i] >> shift & 3)
					if hm[i]&m == 0 {
						v -= 4
					}
					dst[y] = dl * float32(v)
					y++
				}
			}
			m <<= 1
		}
	}
}

// Q4_K: d and dmin (fp16), 12 bytes of 6-bit scales and mins, then 128
// bytes of 4-bit values; sub-block i of 32 values is d·sc_i·q − dmin·m_i.
func dequantQ4_K(dst []float32, blk []byte) {
	d, dmin := fp16(blk), fp16(blk[2:])
	sc, mn := k4Scales(blk[4:16])
	qs := blk[16:144]
	for j := range 4 {
		q := qs[32*j : 32*j+32]
		d1, m1 := d*float32(sc[2*j]), dmin*float32(mn[2*j])
		d2, m2 := d*float32(sc[2*j+1]), dmin*float32(mn[2*j+1])
		out := dst[64*j : 64*j+64]
		for l, v := range q {
			out[l] = float32(d1*float32(v&0xF)) - m1
			out[l+32] = float32(d2*float32(v>>4)) - m2
		}
	}
}

// Q5_K: Q4_K with a fifth bit per value: d, dmin, scales, 32 bytes of high
// bits qh, then 128 bytes of low nibbles.
func dequantQ5_K(dst []float32, blk []byte) {
	d, dmin := fp16(blk), fp16(blk[2:])
	sc, mn := k4Scales(blk[4:16])
	qh, qs := blk[16:48], blk[48:176]
	for j := range 4 {
		q := qs[32*j : 32*j+32]
		u1, u2 := byte(1)<<(2*j), byte(2)<<(2*j)
		d1, m1 := d*float32(sc[2*j]), dmin*float32(mn[2*j])
		d2, m2 := d*float32(sc[2*j+1]), dmin*float32(mn[2*j+1])
		out := dst[64*j : 64*j+64]
		for l, v := range q {
			lo, hi := v&0xF, v>>4
			if qh[l]&u1 != 0 {
				lo += 16
			}
			if qh[l]&u2 != 0 {
				hi += 16
			}
			out[l] = float32(d1*float32(lo)) - m1
			out[l+32] = float32(d2*float32(hi)) - m2
		}
	}
}

// Q6_K: 128 bytes of low nibbles ql, 64 of high 2-bit pairs qh, 16 int8
// sub-block scales, then d (fp16); value = d·scale·(q − 32).
func dequantQ6_K(dst []float32, blk []byte) {
	ql, qh, sc, d := blk[:128], blk[128:192], blk[192:208], fp16(blk[208:])
	for n := range 2 {
		l0, h0, s0, y := ql[64*n:], qh[32*n:], sc[8*n:], dst[128*n:]
		for l := range 32 {
			is := l / 16
			q1 := int8(l0[l]&0xF|(h0[l]>>0&3)<<4) - 32
			q2 := int8(l0[l+32]&0xF|(h0[l]>>2&3)<<4) - 32
			q3 := int8(l0[l]>>4|(h0[l]>>4&3)<<4) - 32
			q4 := int8(l0[l+32]>>4|(h0[l]>>6&3)<<4) - 32
			y[l] = d * float32(int8(s0[is])) * float32(q1)
			y[l+32] = d * float32(int8(s0[is+2])) * float32(q2)
			y[l+64] = d * float32(int8(s0[is+4])) * float32(q3)
			y[l+96] = d * float32(int8(s0[is+6])) * float32(q4)
		}
	}
}

// iq4Values are the 16 levels of IQ4_NL and IQ4_XS, a non-linear 4-bit
// code.
var iq4Values = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// IQ4_NL: d (fp16), then 4-bit indices into iq4Values as Q4_0 lays them
// out; value = d·level.
func dequantIQ4_NL(dst []float32, blk []byte) {
	d := fp16(blk)
	for j, q := range blk[2:18] {
		dst[j] = d * float32(iq4Values[q&0xF])
		dst[j+16] = d * float32(iq4Values[q>>4])
	}
}

// IQ4_XS: d (fp16), the high 2 bits of eight 6-bit sub-block scales
// (a uint16), their low 4 bits (4 bytes), then IQ4_NL's indices for eight
// sub-blocks of 32; value = d·(scale − 32)·level.
func dequantIQ4_XS(dst []float32, blk []byte) {
	d, sh, sl, qs := fp16(blk), binary.LittleEndian.Uint16(blk[2:]), blk[4:8], blk[8:136]
	for ib := range 8 {
		ls := int(sl[ib/2]>>(4*(ib%2))&0xF) | int(sh>>(2*ib)&3)<<4
		dl := d * float32(ls-32)
		q, y := qs[16*ib:16*ib+16], dst[32*ib:]
		for j, v := range q {
			y[j] = dl * float32(iq4Values[v&0xF])
			y[j+16] = dl * float32(iq4Values[v>>4])
		}
	}
}
