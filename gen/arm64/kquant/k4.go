package main

import . "github.com/goformer/goformer/gen/arm64"

// The K-quants with eight sub-blocks of 32, each with a 6-bit scale and
// min (Q4_K, Q5_K): d and dmin (fp16), 12 bytes of scales and mins, then
// the codes; the super-block is d·xs·Σ_s sc_s·Σ q·x − dmin·xs·Σ_s mn_s·Σx.

// q4K: 128 bytes of nibbles after the scales; bytes 32j.. hold values
// 64j.. (low, scale 2j) and 64j+32.. (high, 2j+1).
var q4K = blockType{name: "Q4_K", meaning: "dotQ4_K", blockLen: 256, blockBytes: 144, body: func(f *File, p product) {
	kScalesMins(f)
	kCodes(f, p, 16, nil)
}}

// q5K: Q4_K with a fifth bit per value from the 32 bytes qh before the
// nibbles: bit 2j of qh[l] for value 64j+l, bit 2j+1 for 64j+32+l.
var q5K = blockType{name: "Q5_K", meaning: "dotQ5_K", blockLen: 256, blockBytes: 176, body: func(f *File, p product) {
	const qh, tmp = 24, 20 // V24-V25: qh; V20: scratch
	kScalesMins(f)
	f.Op("ADD $16, %s, %s", rW, rT4)
	f.Op("VLD1 (%s), [V%d.B16, V%d.B16]", rT4, qh, qh+1)
	kCodes(f, p, 48, func(bit int) {
		for b := range V(2) {
			bitTo(f, qh+b, tmp, bit, 4)
			f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vSixteen, tmp, tmp)
			f.Op("VORR V%d.B16, V%d.B16, V%d.B16", tmp, vQ+b, vQ+b)
		}
	})
}}

// kScalesMins reads a super-block's xs, d and dmin, leaves its scales as
// bytes in rSc0 (sub-blocks 0-3) and rSc1 (4-7), and dmin·xs·Σ mins in
// fDmin.
func kScalesMins(f *File) {
	superScales(f, 0, 2)
	// The scales and mins as four words of bytes (U0..U2 the 12 bytes):
	// sc0-3 = U0 & 63, sc4-7 = U2 & 15 | (U0 >> 6 & 3) << 4,
	// mn0-3 = U1 & 63, mn4-7 = U2 >> 4 & 15 | (U1 >> 6 & 3) << 4.
	f.Op("MOVWU 4(%s), %s", rW, rT0)
	f.Op("MOVWU 8(%s), %s", rW, rT1)
	f.Op("MOVWU 12(%s), %s", rW, rT2)
	f.Op("ANDW $0x3f3f3f3f, %s, %s", rT0, rSc0)
	f.Op("ANDW $0x3f3f3f3f, %s, %s", rT1, rMn0)
	f.Op("LSRW $6, %s, %s", rT0, rT3)
	f.Op("ANDW $0x03030303, %s, %s", rT3, rT3)
	f.Op("ANDW $0x0f0f0f0f, %s, %s", rT2, rSc1)
	f.Op("ORRW %s<<4, %s, %s", rT3, rSc1, rSc1)
	f.Op("LSRW $6, %s, %s", rT1, rT3)
	f.Op("ANDW $0x03030303, %s, %s", rT3, rT3)
	f.Op("LSRW $4, %s, %s", rT2, rMn1)
	f.Op("ANDW $0x0f0f0f0f, %s, %s", rMn1, rMn1)
	f.Op("ORRW %s<<4, %s, %s", rT3, rMn1, rMn1)
	// Σ mn_s·(xsum[2s] + xsum[2s+1]): pairwise sums of the 16 sums, times
	// the mins widened to int16, added across.
	f.Op("VLD1.P 32(%s), [V8.H8, V9.H8]", rSum)
	f.Op("VADDP V9.H8, V8.H8, V10.H8")
	f.Op("VMOV %s, V11.S[0]", rMn0)
	f.Op("VMOV %s, V11.S[1]", rMn1)
	f.Op("VUXTL V11.B8, V11.H8")
	f.Inst(SMull(H4, 8, 10, 11))
	f.Inst(SMlal(H8, 8, 10, 11))
	scaleMins(f, 8)
}

// kCodes adds the super-block to F0 from the scales and the scaled mins
// kScalesMins left and the nibbles at qsOff(rW), laid out as Q4_K's; when
// fifth is not nil, fifth(s) completes the codes of sub-block s (0..7) in
// vQ, vQ+1.
func kCodes(f *File, p product, qsOff int, fifth func(s int)) {
	f.Op("MOVW ZR, %s", rSumi)
	f.Op("ADD $%d, %s, %s", qsOff, rW, rQ)
	for j := range 4 {
		f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rQ, vQ+2, vQ+3)
		f.Op("VLD1.P 64(%s), [V%d.B16, V%d.B16, V%d.B16, V%d.B16]", rX, vX, vX+1, vX+2, vX+3)
		sc := rSc0
		if j >= 2 {
			sc = rSc1
		}
		for h := range 2 {
			if h == 0 {
				f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vNibble, vQ+2, vQ)
				f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vNibble, vQ+3, vQ+1)
			} else {
				f.Op("VUSHR $4, V%d.B16, V%d.B16", vQ+2, vQ)
				f.Op("VUSHR $4, V%d.B16, V%d.B16", vQ+3, vQ+1)
			}
			if fifth != nil {
				fifth(2*j + h)
			}
			dot32(f, p, vX+V(2*h))
			f.Op("UBFX $%d, %s, $8, %s", 8*((2*j+h)%4), sc, rT2)
			f.Op("MADDW %s, %s, %s, %s", rT2, rSumi, rT1, rSumi)
		}
	}
	addSuperBlock(f, true)
}
