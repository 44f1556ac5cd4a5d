package kernels

// GELU applies GPT-2's gelu_new, the tanh approximation of GELU:
//
//	for i, v := range x {
//		out[i] = 0.5 * v * (1 + tanh(sqrt(2/π) * (v + 0.044715*v*v*v)))
//	}
//
// out must be as long as x and may be x.
func GELU(out, x []float32) {
	same("GELU", "out", len(out), "x", len(x))
	if len(x) == 0 {
		return
	}
	active.gelu(out, x)
}

// SwiGLU is the gated activation of Llama-family MLPs, SiLU(gate) times up:
//
//	for i := range out {
//		out[i] = gate[i] / (1 + exp(-gate[i])) * up[i]
//	}
//
// All three have one length; out may be gate or up. The SIMD tiers compute
// the loop as written, with their float32 exp, because that form stays
// finite for large |gate| (a form through e^gate/(1+e^gate) would give
// Inf/Inf): e^(-gate) overflows to +Inf below about -88.7, where out becomes
// ±0 (the exact value is below 3e-37·|up| there), and vanishes for large
// gate, leaving gate·up. gate = -Inf gives NaN, as the loop does.
func SwiGLU(out, gate, up []float32) {
	same("SwiGLU", "out", len(out), "gate", len(gate))
	same("SwiGLU", "out", len(out), "up", len(up))
	if len(out) == 0 {
		return
	}
	active.swiglu(out, gate, up)
}

// Add is the residual connection:
//
//	for i := range dst {
//		dst[i] = a[i] + b[i]
//	}
//
// All three have one length; dst may be a or b.
func Add(dst, a, b []float32) {
	same("Add", "dst", len(dst), "a", len(a))
	same("Add", "dst", len(dst), "b", len(b))
	if len(dst) == 0 {
		return
	}
	active.add(dst, a, b)
}

// Scale multiplies x by s in place:
//
//	for i := range x {
//		x[i] *= s
//	}
func Scale(x []float32, s float32) {
	if len(x) == 0 {
		return
	}
	active.scale(x, s)
}

// Dot returns the inner product, as attention scores a query against a key:
//
//	var s float32
//	for i := range a {
//		s += a[i] * b[i]
//	}
//	return s
func Dot(a, b []float32) float32 {
	same("Dot", "a", len(a), "b", len(b))
	if len(a) == 0 {
		return 0
	}
	return active.dot(a, b)
}

// Axpy adds a multiple of x to y, as attention sums values weighted by their
// probabilities:
//
//	for i := range x {
//		y[i] += alpha * x[i]
//	}
func Axpy(y []float32, alpha float32, x []float32) {
	same("Axpy", "y", len(y), "x", len(x))
	if len(x) == 0 {
		return
	}
	active.axpy(y, alpha, x)
}
