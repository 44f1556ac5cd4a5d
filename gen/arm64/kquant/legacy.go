package main

import . "github.com/goformer/goformer/gen/arm64"

// The types of 32 values with one fp16 scale d at 0, and for the _1 types
// a min m at 2: Q4_0, Q4_1, Q5_0, Q5_1 and IQ4_NL.

// legacy is the body of a type of 32: the codes of 32 values as signed
// bytes in vQ, vQ+1 (codes sets them up), their product with the block's
// x, scaled by d·xs; withMin adds m·xs·Σx, x's sum.
func legacy(f *File, p product, withMin bool, codes func()) {
	f.Op("FMOVS.P 4(%s), F%d", rXS, fXS)
	half(f, 0, fD)
	f.Op("FMULS F%d, F%d, F%d", fXS, fD, fD)
	if withMin {
		half(f, 2, fDmin)
		f.Op("FMULS F%d, F%d, F%d", fXS, fDmin, fDmin)
		f.Op("MOVH.P 2(%s), %s", rSum, rT1)
		f.Op("SCVTFWS %s, F%d", rT1, fT)
		f.Op("FMULS F%d, F%d, F%d", fT, fDmin, fDmin) // m·xs·Σx
	} else {
		f.Op("ADD $2, %s, %s", rSum, rSum) // no sums
	}
	codes()
	f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rX, vX, vX+1)
	dot32(f, p, vX)
	f.Op("SCVTFWS %s, F%d", rT1, fT)
	f.Op("FMULS F%d, F%d, F%d", fT, fD, fD)
	if withMin {
		f.Op("FADDS F%d, F%d, F%d", fDmin, fD, fD)
	}
	f.Op("FADDS F%d, F%d, F%d", fD, fRow, fRow)
}

// q4_0: d, then 16 bytes of nibbles; the code is q − 8.
var q4_0 = blockType{name: "Q4_0", meaning: "dotQ4_0", blockLen: 32, blockBytes: 18, body: func(f *File, p product) {
	legacy(f, p, false, func() {
		nibbles(f, 2)
		for b := range V(2) {
			f.Op("VSUB V%d.B16, V%d.B16, V%d.B16", vEight, vQ+b, vQ+b)
		}
	})
}}

// q4_1: d, m, then Q4_0's nibbles; the code is q.
var q4_1 = blockType{name: "Q4_1", meaning: "dotQ4_1", blockLen: 32, blockBytes: 20, body: func(f *File, p product) {
	legacy(f, p, true, func() { nibbles(f, 4) })
}}

// q5_0: d, the fifth bits qh (bit j for value j), then the low nibbles;
// the code is (low | fifth << 4) − 16.
var q5_0 = blockType{name: "Q5_0", meaning: "dotQ5_0", blockLen: 32, blockBytes: 22, setup: q5Setup, body: func(f *File, p product) {
	legacy(f, p, false, func() { q5Codes(f, 2, true) })
}}

// q5_1: d, m, qh, then the low nibbles; the code is low | fifth << 4.
var q5_1 = blockType{name: "Q5_1", meaning: "dotQ5_1", blockLen: 32, blockBytes: 24, setup: q5Setup, body: func(f *File, p product) {
	legacy(f, p, true, func() { q5Codes(f, 4, false) })
}}

// q5Setup makes the constants of q5Codes: the spreads that copy qh's
// bytes 0-1 (and 2-3) eight times each, and each byte's bit.
func q5Setup(f *File) {
	f.Op("MOVD $0x0101010101010101, %s", rT0)
	f.Op("VMOV ZR, V%d.D[0]", vSpreadLo)
	f.Op("VMOV %s, V%d.D[1]", rT0, vSpreadLo)
	f.Op("MOVD $0x0202020202020202, %s", rT1)
	f.Op("VMOV %s, V%d.D[0]", rT1, vSpreadHi)
	f.Op("MOVD $0x0303030303030303, %s", rT1)
	f.Op("VMOV %s, V%d.D[1]", rT1, vSpreadHi)
	f.Op("MOVD $0x8040201008040201, %s", rT1)
	f.Op("VMOV %s, V%d.D[0]", rT1, vBits)
	f.Op("VMOV %s, V%d.D[1]", rT1, vBits)
}

// q5Codes leaves the 5-bit codes of a block whose qh (bit j for value j)
// is at qhOff(rW), its nibbles right after, in vQ, vQ+1, less 16 when
// centre.
func q5Codes(f *File, qhOff int, centre bool) {
	nibbles(f, qhOff+4)
	f.Op("MOVWU %d(%s), %s", qhOff, rW, rT0)
	f.Op("VMOV %s, V%d.S[0]", rT0, vQ+3)
	for b, spread := range []V{vSpreadLo, vSpreadHi} {
		q := vQ + V(b)
		f.Op("VTBL V%d.B16, [V%d.B16], V%d.B16", spread, vQ+3, vQ+2)
		f.Op("VCMTST V%d.B16, V%d.B16, V%d.B16", vBits, vQ+2, vQ+2)
		f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vSixteen, vQ+2, vQ+2)
		f.Op("VORR V%d.B16, V%d.B16, V%d.B16", vQ+2, q, q)
		if centre {
			f.Op("VSUB V%d.B16, V%d.B16, V%d.B16", vSixteen, q, q)
		}
	}
}
