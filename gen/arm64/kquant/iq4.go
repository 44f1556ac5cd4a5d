package main

import . "github.com/goformer/goformer/gen/arm64"

// The IQ4 types: 4-bit indices into a table of 16 signed levels, laid out
// as Q4_0's nibbles; TBL turns the indices into the levels.

// iq4Levels are kernels.iq4Levels as bytes, levels 0-7 in the low word.
const iq4LevelsLo, iq4LevelsHi = 0xf6eaddcfbfad9881, 0x7159453526190d01

// iq4NL: d, then 16 bytes of indices; the code is the level.
var iq4NL = blockType{name: "IQ4_NL", meaning: "dotIQ4_NL", blockLen: 32, blockBytes: 18, setup: iq4Setup, body: func(f *File, p product) {
	legacy(f, p, false, func() {
		nibbles(f, 2)
		iq4Codes(f)
	})
}}

// iq4XS: d, the high bit pairs of eight 6-bit scales (a uint16), their low
// nibbles (4 bytes), then IQ4_NL's indices for eight sub-blocks of 32; the
// super-block is d·xs·Σ_s (ls_s − 32)·Σ level·x.
var iq4XS = blockType{name: "IQ4_XS", meaning: "dotIQ4_XS", blockLen: 256, blockBytes: 136, setup: iq4Setup, body: func(f *File, p product) {
	superScales(f, 0, -1)
	f.Op("ADD $32, %s, %s", rSum, rSum) // no sums
	f.Op("MOVHU 2(%s), %s", rW, rSc0)   // the high bit pairs
	f.Op("MOVWU 4(%s), %s", rW, rSc1)   // the low nibbles
	f.Op("MOVW ZR, %s", rSumi)
	f.Op("ADD $8, %s, %s", rW, rQ)
	for s := range 8 {
		f.Op("VLD1.P 16(%s), [V%d.B16]", rQ, vQ+2)
		f.Op("VAND V%d.B16, V%d.B16, V%d.B16", vNibble, vQ+2, vQ)
		f.Op("VUSHR $4, V%d.B16, V%d.B16", vQ+2, vQ+1)
		iq4Codes(f)
		f.Op("VLD1.P 32(%s), [V%d.B16, V%d.B16]", rX, vX, vX+1)
		dot32(f, p, vX)
		f.Op("UBFX $%d, %s, $4, %s", 4*s, rSc1, rT2)
		f.Op("UBFX $%d, %s, $2, %s", 2*s, rSc0, rT3)
		f.Op("ORRW %s<<4, %s, %s", rT3, rT2, rT2)
		f.Op("SUBW $32, %s, %s", rT2, rT2)
		f.Op("MADDW %s, %s, %s, %s", rT2, rSumi, rT1, rSumi)
	}
	addSuperBlock(f, false)
}}

// iq4Setup puts the levels in vLevels.
func iq4Setup(f *File) {
	f.Op("MOVD $0x%016x, %s", uint64(iq4LevelsLo), rT0)
	f.Op("VMOV %s, V%d.D[0]", rT0, vLevels)
	f.Op("MOVD $0x%016x, %s", uint64(iq4LevelsHi), rT0)
	f.Op("VMOV %s, V%d.D[1]", rT0, vLevels)
}

// iq4Codes replaces the indices in vQ, vQ+1 by their levels.
func iq4Codes(f *File) {
	for b := range V(2) {
		f.Op("VTBL V%d.B16, [V%d.B16], V%d.B16", vQ+b, vLevels, vQ+b)
	}
}
