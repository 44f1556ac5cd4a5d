package main

import . "github.com/goformer/goformer/gen/arm64"

// The vectorized exp shared by Exp, Softmax, GELU and SwiGLU. It is Cephes' expf:
// x = n·ln2 + r with n = round(x·log2e) and |r| ≤ ln2/2, ln2 split in two
// (expC1 + expC2) so that n·expC1 is exact; e^r by a degree-7 polynomial
// whose six upper coefficients are fitted; then e^r·2ⁿ built from exponent
// bits. 2ⁿ is applied as 2^(n>>1)·2^(n−n>>1), so neither factor leaves the
// normal range: results between 2^-149 and 2^-126 come out as subnormals
// rather than garbage, and x = -Inf, clamped to expLo, gives exactly 0.
const (
	expHi    = 100  // every x above about 88.72 overflows to +Inf
	expLo    = -110 // every x below about -103.97 underflows to 0
	expLog2e = 1.44269504088896341
	expC1    = 0.693359375
	expC2    = -2.12194440e-4
)

var expPoly = [6]float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}

// Registers holding exp's constants while a kernel runs; a kernel using exp
// keeps clear of V16-V28.
const (
	vExpHi V = 16 + iota
	vExpLo
	vLog2e
	vC1
	vC2
	vP0 // vP0..vP5: expPoly
	_
	_
	_
	_
	vP5
	vOne // 1.0
	v127 // the integer 127, the exponent bias
)

// loadExpConstants fills V16-V28, through the general register tmp.
func loadExpConstants(f *File, tmp string) {
	f.Broadcast(vExpHi, expHi, tmp)
	f.Broadcast(vExpLo, expLo, tmp)
	f.Broadcast(vLog2e, expLog2e, tmp)
	f.Broadcast(vC1, expC1, tmp)
	f.Broadcast(vC2, expC2, tmp)
	for i, c := range expPoly {
		f.Broadcast(vP0+V(i), c, tmp)
	}
	f.Broadcast(vOne, 1, tmp)
	f.BroadcastInt(v127, 127, tmp)
}

// expSteps returns the instructions replacing every lane of x by its
// exponential, one closure per instruction so that File.Interleave can run
// several of them side by side. t0, t1 and t2 are scratch.
func expSteps(f *File, x, t0, t1, t2 V) []func() {
	op := func(format string, args ...any) func() { return func() { f.Op(format, args...) } }
	in := func(i Inst) func() { return func() { f.Inst(i) } }
	mov := func(dst, src V) func() { return op("VORR %s, %s, %s", src.B16(), src.B16(), dst.B16()) }
	fmla := func(acc, a, b V) func() { return op("VFMLA %s, %s, %s", b.S4(), a.S4(), acc.S4()) } // acc += a*b
	fmls := func(acc, a, b V) func() { return op("VFMLS %s, %s, %s", b.S4(), a.S4(), acc.S4()) } // acc -= a*b
	return []func(){
		in(FMin(S4, x, x, vExpHi)),
		in(FMax(S4, x, x, vExpLo)), // FMAX, not FMAXNM: a NaN stays NaN
		in(FMul(S4, t0, x, vLog2e)),
		in(FCvtNS(S4, t0, t0)), // n, an integer
		in(SCvtF(S4, t1, t0)),
		fmls(x, t1, vC1),
		fmls(x, t1, vC2), // x is now r
		mov(t1, vP0+1),
		fmla(t1, x, vP0),
		mov(t2, vP0+2),
		fmla(t2, x, t1),
		mov(t1, vP0+3),
		fmla(t1, x, t2),
		mov(t2, vP0+4),
		fmla(t2, x, t1),
		mov(t1, vP5),
		fmla(t1, x, t2), // t1 = P(r)
		in(FMul(S4, t2, x, x)),
		fmla(x, t2, t1), // r + r²·P(r)
		in(FAdd(S4, x, x, vOne)),
		in(SShr(S4, t1, t0, 1)), // n₁ = n>>1
		op("VSUB %s, %s, %s", t1.S4(), t0.S4(), t0.S4()), // n₂ = n - n₁
		op("VADD %s, %s, %s", v127.S4(), t1.S4(), t1.S4()),
		op("VSHL $23, %s, %s", t1.S4(), t1.S4()), // 2^n₁
		op("VADD %s, %s, %s", v127.S4(), t0.S4(), t0.S4()),
		op("VSHL $23, %s, %s", t0.S4(), t0.S4()), // 2^n₂
		in(FMul(S4, x, x, t1)),
		in(FMul(S4, x, x, t0)),
	}
}
