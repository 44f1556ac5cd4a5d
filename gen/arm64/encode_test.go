package arm64

import "testing"

// TestEncodings checks the encoder against encodings from outside this
// package: those verified under qemu in /work/shared/TOOLCHAIN.md, and the
// reference encodings in the //TODO lines of Go's
// src/cmd/asm/internal/asm/testdata/arm64enc.s (written there as the bytes
// in memory order; here as the 32-bit word).
func TestEncodings(t *testing.T) {
	for _, c := range []struct {
		in   Inst
		want uint32
		asm  string
	}{
		// TOOLCHAIN.md, checked under qemu.
		{FAdd(S4, 0, 0, 0), 0x4e20d400, "fadd v0.4s, v0.4s, v0.4s"},
		{FAdd(S4, 3, 1, 2), 0x4e20d400 | 2<<16 | 1<<5 | 3, "fadd v3.4s, v1.4s, v2.4s"},
		{FAddP(S4, 7, 8, 9), 0x6e20d400 | 9<<16 | 8<<5 | 7, "faddp v7.4s, v8.4s, v9.4s"},
		{FAddPS(4, 5), 0x7e30d800 | 5<<5 | 4, "faddp s4, v5.2s"},
		{FMax(S4, 31, 30, 29), 0x4e20f400 | 29<<16 | 30<<5 | 31, "fmax v31.4s, v30.4s, v29.4s"},
		{FMaxV(1, 2), 0x6e30f800 | 2<<5 | 1, "fmaxv s1, v2.4s"},
		{FMul(S4, 10, 11, 12), 0x6e20dc00 | 12<<16 | 11<<5 | 10, "fmul v10.4s, v11.4s, v12.4s"},

		// The dotprod forms, which neither the Go assembler nor its
		// disassembler knows: these words were run under qemu-aarch64
		// (default CPU) against int32 sums computed in Go, and raise
		// SIGILL on QEMU_CPU=cortex-a53 as a core without dotprod must.
		{SDot(2, 0, 1), 0x4e819402, "sdot v2.4s, v0.16b, v1.16b"},
		{SDotElem(3, 0, 1, 2), 0x4f81e803, "sdot v3.4s, v0.16b, v1.4b[2]"},
		{UDot(4, 0, 1), 0x6e819404, "udot v4.4s, v0.16b, v1.16b"},

		// arm64enc.s.
		{FAbs(S4, 24, 5), 0x4ea0f8b8, "fabs v24.4s, v5.4s"},
		{FAdd(D2, 21, 10, 21), 0x4e75d555, "fadd v21.2d, v10.2d, v21.2d"},
		{FAddP(S4, 11, 3, 30), 0x6e3ed46b, "faddp v11.4s, v3.4s, v30.4s"},
		{FCmGE(S2, 2, 31, 8), 0x2e28e7e2, "fcmge v2.2s, v31.2s, v8.2s"},
		{FCmGT(D2, 23, 15, 26), 0x6efae5f7, "fcmgt v23.2d, v15.2d, v26.2d"},
		{FCvtNS(S2, 12, 11), 0x0e21a96c, "fcvtns v12.2s, v11.2s"},
		{FCvtMS(D2, 2, 5), 0x4e61b8a2, "fcvtms v2.2d, v5.2d"},
		{FCvtAS(D2, 27, 21), 0x4e61cabb, "fcvtas v27.2d, v21.2d"},
		{FCvtZS(S2, 4, 2), 0x0ea1b844, "fcvtzs v4.2s, v2.2s"},
		{FDiv(D2, 27, 1, 6), 0x6e66fc3b, "fdiv v27.2d, v1.2d, v6.2d"},
		{FMax(D2, 14, 27, 23), 0x4e77f76e, "fmax v14.2d, v27.2d, v23.2d"},
		{FMaxNM(D2, 27, 12, 3), 0x4e63c59b, "fmaxnm v27.2d, v12.2d, v3.2d"},
		{FMaxNMV(15, 14), 0x6e30c9cf, "fmaxnmv s15, v14.4s"},
		{FMaxV(14, 13), 0x6e30f9ae, "fmaxv s14, v13.4s"},
		{FMin(D2, 7, 30, 19), 0x4ef3f7c7, "fmin v7.2d, v30.2d, v19.2d"},
		{FMinNM(S4, 1, 5, 21), 0x4eb5c4a1, "fminnm v1.4s, v5.4s, v21.4s"},
		{FMinV(9, 11), 0x6eb0f969, "fminv s9, v11.4s"},
		{FMla(S2, 14, 20, 29), 0x0e3dce8e, "fmla v14.2s, v20.2s, v29.2s"},
		{FMla(S4, 1, 12, 1), 0x4e21cd81, "fmla v1.4s, v12.4s, v1.4s"},
		{FMls(S4, 1, 12, 1), 0x4ea1cd81, "fmls v1.4s, v12.4s, v1.4s"},
		{FMul(D2, 25, 17, 21), 0x6e75de39, "fmul v25.2d, v17.2d, v21.2d"},
		{FNeg(S2, 12, 18), 0x2ea0fa4c, "fneg v12.2s, v18.2s"},
		{FRecpE(S2, 28, 0), 0x0ea1d81c, "frecpe v28.2s, v0.2s"},
		{FSqrt(D2, 21, 2), 0x6ee1f855, "fsqrt v21.2d, v2.2d"},
		{SCvtF(S2, 17, 7), 0x0e21d8f1, "scvtf v17.2s, v7.2s"},
		// By element: arm64enc.s has the .2s forms; Q (bit 30) makes .4s.
		{FMlaElem(30, 2, 28, 2), 0x0f9c185e | 1<<30, "fmla v30.4s, v2.4s, v28.s[2]"},
		{FMulElem(2, 26, 26, 2), 0x0f9a9b42 | 1<<30, "fmul v2.4s, v26.4s, v26.s[2]"},

		// arm64.s, instructions the Go assembler does accept (their
		// encodings check the integer and bitwise helpers).
		{Add(S4, 9, 5, 16), 0x4eb084a9, "add v9.4s, v5.4s, v16.4s"},
		{Sub(B8, 30, 30, 2), 0x2e2287de, "sub v30.8b, v30.8b, v2.8b"},
		{Orr(3, 4, 5), 0x4ea51c83, "orr v3.16b, v4.16b, v5.16b"},
		{Eor(0, 1, 0), 0x6e201c20, "eor v0.16b, v1.16b, v0.16b"},
		{Shl(S4, 2, 1, 24), 0x4f385422, "shl v2.4s, v1.4s, #24"},
		{Shl(D2, 2, 1, 56), 0x4f785422, "shl v2.2d, v1.2d, #56"},
		{Shl(B8, 2, 1, 2), 0x0f0a5422, "shl v2.8b, v1.8b, #2"},
		// sshr differs from ushr (arm64.s: VUSHR $24, V1.S4, V2.S4 is
		// 0x6f280422) only in the U bit, 29.
		{SShr(S4, 2, 1, 24), 0x6f280422 &^ (1 << 29), "sshr v2.4s, v1.4s, #24"},
		{SShr(H8, 2, 1, 8), 0x6f180422 &^ (1 << 29), "sshr v2.8h, v1.8h, #8"},
	} {
		if c.in.Enc != c.want || c.in.Asm != c.asm {
			t.Errorf("%s: got %#08x %q, want %#08x %q", c.asm, c.in.Enc, c.in.Asm, c.want, c.asm)
		}
	}
}
