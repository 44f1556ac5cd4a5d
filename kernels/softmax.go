package kernels

// Softmax replaces x by its softmax, subtracting the maximum first so that no
// exponential overflows:
//
//	m := max(x...)
//	var sum float32
//	for i := range x {
//		x[i] = exp(x[i] - m)
//		sum += x[i]
//	}
//	for i := range x {
//		x[i] /= sum
//	}
//
// The SIMD tiers compute exp with a polynomial whose error against math.Exp
// is stated in softmax_test.go. An empty x is left alone.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	active.softmax(x)
}

// Exp is the exponential Softmax uses, exposed so it can be measured and
// reused (a sigmoid or SiLU needs it too):
//
//	for i, v := range x {
//		dst[i] = exp(v)
//	}
//
// dst must be as long as x and may be x. Inputs below about -87.3 give 0 or
// a subnormal; inputs above about 88.7 give +Inf.
func Exp(dst, x []float32) {
	same("Exp", "dst", len(dst), "x", len(x))
	if len(x) == 0 {
		return
	}
	active.exp(dst, x)
}
