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
