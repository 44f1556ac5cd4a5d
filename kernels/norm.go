package kernels

// LayerNorm normalizes each row of x over the feature axis, d = len(gain)
// features to a row, and writes the result to out:
//
//	for r := 0; r < len(x); r += d {
//		mean := Σ x[r+i] / d
//		variance := Σ (x[r+i]-mean)² / d
//		for i := 0; i < d; i++ {
//			out[r+i] = (x[r+i]-mean) / sqrt(variance+eps) * gain[i] + bias[i]
//		}
//	}
//
// len(x) must be a multiple of d, out must be as long as x, and out may be x.
func LayerNorm(out, x, gain, bias []float32, eps float32) {
	checkRows("LayerNorm", out, x, gain)
	same("LayerNorm", "gain", len(gain), "bias", len(bias))
	if len(x) == 0 {
		return
	}
	active.layerNorm(out[:len(x)], x, gain, bias, eps)
}

// RMSNorm scales each row of x, d = len(gain) features to a row, by the
// inverse of its root mean square, and writes the result to out:
//
//	for r := 0; r < len(x); r += d {
//		ms := Σ x[r+i]² / d
//		for i := 0; i < d; i++ {
//			out[r+i] = x[r+i] / sqrt(ms+eps) * gain[i]
//		}
//	}
//
// len(x) must be a multiple of d, out must be as long as x, and out may be x.
func RMSNorm(out, x, gain []float32, eps float32) {
	checkRows("RMSNorm", out, x, gain)
	if len(x) == 0 {
		return
	}
	active.rmsNorm(out[:len(x)], x, gain, eps)
}

func checkRows(kernel string, out, x, gain []float32) {
	same(kernel, "out", len(out), "x", len(x))
	if len(gain) == 0 {
		if len(x) != 0 {
			panic("kernels." + kernel + ": len(gain) = 0 with a non-empty x")
		}
		return
	}
	if len(x)%len(gain) != 0 {
		panic("kernels." + kernel + ": len(x) is not a multiple of len(gain)")
	}
}
