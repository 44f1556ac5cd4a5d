package main

import . "github.com/goformer/goformer/gen/arm64"

// The K-quants with sixteen groups of 16 values, each with its own integer
// scale (Q2_K, Q3_K, Q6_K). Their bodies leave the scales as sixteen
// signed bytes in V26 and the codes of 32 values at a time in vQ, vQ+1;
// groups adds the two groups' scaled sums to rSumi.

const vGroupScales V = 26

// q2K: 16 bytes of 4-bit scales (low nibble) and mins (high), 64 of 2-bit
// codes, d and dmin. Quarter j of half n (values 128n+32j..) has bit pair
// j of qs[32n..]; the super-block is d·xs·Σ_g sc_g·Σ q·x − dmin·xs·Σ_g
// m_g·Σx.
var q2K = blockType{name: "Q2_K", meaning: "dotQ2_K", blockLen: 256, blockBytes: 84, setup: lowBitSetup, body: func(f *File, p product) {
	superScales(f, 80, 82)
	f.Op("VLD1 (%s), [V%d.B16]", rW, vGroupScales)
	// Σ m_g·xsum[g]: the mins widened to int16 (V11 groups 0-7, V10
	// 8-15), times the sums, added across.
	f.Op("VUSHR $4, V%d.B16, V10.B16", vGroupScales)
	f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vNibble, vGroupScales, vGroupScales)
	f.Op("VLD1.P 32(%s), [V8.H8, V9.H8]", rSum)
	f.Inst(SXtl(B8, 11, 10))
	f.Inst(SXtl(B16, 10, 10))
	f.Inst(SMull(H4, 12, 8, 11))
	f.Inst(SMlal(H8, 12, 8, 11))
	f.Inst(SMlal(H4, 12, 9, 10))
	f.Inst(SMlal(H8, 12, 9, 10))
	scaleMins(f, 12)

	f.Op("MOVW ZR, %s", rSumi)
	f.Op("ADD $16, %s, %s", rW, rQ)
	const qs = 20 // V20-V21: qs of a half
	for n := range 2 {
		f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rQ, qs, qs+1)
		for j := range 4 {
			for b := range V(2) {
				lowPair(f, qs+b, vQ+b, j)
			}
			groups(f, p, 8*n+2*j)
		}
	}
	addSuperBlock(f, true)
}}

// q3K: 32 bytes of high bits hm, 64 of 2-bit low bits qs, 12 of 6-bit
// scales (biased by 32), d. Quarter j of half n has bit pair j of
// qs[32n..] and bit 4n+j of hm; the code low + 4·high − 4 is a signed
// byte.
var q3K = blockType{name: "Q3_K", meaning: "dotQ3_K", blockLen: 256, blockBytes: 110, setup: lowBitSetup, body: func(f *File, p product) {
	superScales(f, 108, -1)
	f.Op("ADD $32, %s, %s", rSum, rSum) // the codes are centred: no sums
	// The scales as four words of bytes (A0, A1, T the three words):
	// sc0-3 = A0 & 15 | (T & 3) << 4, sc4-7 = A1 & 15 | (T >> 2 & 3) << 4,
	// sc8-11 = A0 >> 4 & 15 | (T >> 4 & 3) << 4,
	// sc12-15 = A1 >> 4 & 15 | (T >> 6 & 3) << 4; then less 32.
	f.Op("MOVWU 96(%s), %s", rW, rT0)
	f.Op("MOVWU 100(%s), %s", rW, rT1)
	f.Op("MOVWU 104(%s), %s", rW, rT2)
	for i, word := range []string{rSc0, rSc1, rMn0, rMn1} {
		a := []string{rT0, rT1}[i%2]
		if i < 2 {
			f.Op("ANDW $0x0f0f0f0f, %s, %s", a, word)
		} else {
			f.Op("LSRW $4, %s, %s", a, word)
			f.Op("ANDW $0x0f0f0f0f, %s, %s", word, word)
		}
		if i == 0 {
			f.Op("ANDW $0x03030303, %s, %s", rT2, rT3)
		} else {
			f.Op("LSRW $%d, %s, %s", 2*i, rT2, rT3)
			f.Op("ANDW $0x03030303, %s, %s", rT3, rT3)
		}
		f.Op("ORRW %s<<4, %s, %s", rT3, word, word)
		f.Op("VMOV %s, V%d.S[%d]", word, vGroupScales, i)
	}
	f.Op("VSUB V%d.B16, V%d.B16, V%d.B16", vThirty2, vGroupScales, vGroupScales)

	f.Op("MOVW ZR, %s", rSumi)
	const qs, hm = 20, 24 // V20-V21: qs of a half; V24-V25: hm
	f.Op("VLD1 (%s), [V%d.B16, V%d.B16]", rW, hm, hm+1)
	f.Op("ADD $32, %s, %s", rW, rQ)
	for n := range 2 {
		f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rQ, qs, qs+1)
		for j := range 4 {
			for b := range V(2) {
				lowPair(f, qs+b, vQ+b, j)
				bitTo(f, hm+b, vQ+2, 4*n+j, 2)
				f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vFour, vQ+2, vQ+2)
				f.Op("VORR V%d.B16, V%d.B16, V%d.B16", vQ+2, vQ+b, vQ+b)
				f.Op("VSUB V%d.B16, V%d.B16, V%d.B16", vFour, vQ+b, vQ+b)
			}
			groups(f, p, 8*n+2*j)
		}
	}
	addSuperBlock(f, false)
}}

// lowBitSetup makes Q2_K's and Q3_K's constants: 3 and 4 in every byte.
func lowBitSetup(f *File) {
	f.Op("VMOVI $3, V%d.B16", vThree)
	f.Op("VMOVI $4, V%d.B16", vFour)
}

// lowPair leaves bit pair j of every byte of src in dst, as 0..3.
func lowPair(f *File, src, dst V, j int) {
	if j == 0 {
		f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vThree, src, dst)
		return
	}
	f.Op("VUSHR $%d, V%d.B16, V%d.B16", 2*j, src, dst)
	f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vThree, dst, dst)
}

// groups loads the next 32 values of x and adds sc_g·Σ q·x over groups
// first and first+1 (codes in vQ and vQ+1) to rSumi.
func groups(f *File, p product, first int) {
	f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rX, vX, vX+1)
	for g := range 2 {
		dotGroup(f, p, vQ+V(g), vX+V(g))
		f.Op("VMOV V%d.B[%d], %s", vGroupScales, first+g, rT2)
		f.Op("SXTBW %s, %s", rT2, rT2)
		f.Op("MADDW %s, %s, %s, %s", rT2, rSumi, rT1, rSumi)
	}
}

// q6K: 128 bytes of low nibbles ql, 64 of high bit pairs qh, 16 int8
// scales of 16 values, d. Quarter i of half h (values 128h+32i..) has the
// low nibbles of ql[64h+32(i%2)..] (high nibbles for i ≥ 2) and bit pair i
// of qh[32h..]; the code q − 32 is a signed byte.
var q6K = blockType{name: "Q6_K", meaning: "dotQ6_K", blockLen: 256, blockBytes: 210, body: func(f *File, p product) {
	superScales(f, 208, -1)
	f.Op("ADD $32, %s, %s", rSum, rSum) // Q6_K needs no sums
	f.Op("MOVW ZR, %s", rSumi)
	f.Op("ADD $192, %s, %s", rW, rQ)
	f.Op("VLD1 (%s), [V%d.B16]", rQ, vGroupScales)
	f.Op("MOVD %s, %s", rW, rQ)
	const ql, qh = 20, 24 // V20-V23: ql of a half; V24-V25: its qh
	for h := range 2 {
		f.Op("VLD1.P 64(%s), [V%d.B16, V%d.B16, V%d.B16, V%d.B16]", rQ, ql, ql+1, ql+2, ql+3)
		f.Op("ADD $%d, %s, %s", 128+32*h, rW, rT4)
		f.Op("VLD1 (%s), [V%d.B16, V%d.B16]", rT4, qh, qh+1)
		for i := range 4 {
			lo := V(ql + 2*(i%2))
			for b := range V(2) {
				if i < 2 {
					f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vNibble, lo+b, vQ+b)
				} else {
					f.Op("VUSHR $4, V%d.B16, V%d.B16", lo+b, vQ+b)
				}
				bitTo(f, qh+b, vQ+2, 2*i, 4) // bit pair i into bits 4-5
				f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vHigh, vQ+2, vQ+2)
				f.Op("VORR V%d.B16, V%d.B16, V%d.B16", vQ+2, vQ+b, vQ+b)
				f.Op("VSUB V%d.B16, V%d.B16, V%d.B16", vThirty2, vQ+b, vQ+b)
			}
			groups(f, p, 8*h+2*i)
		}
	}
	addSuperBlock(f, false)
}}
