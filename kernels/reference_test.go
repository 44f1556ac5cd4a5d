package kernels

import "math"

// The float64 references below are written for obviousness, not speed: each
// is the textbook formula, computed in float64 from the float32 inputs.

func matMul64(a, w, bias []float32, m, k, n int) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			if bias != nil {
				s = float64(bias[j])
			}
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(w[j*k+p])
			}
			c[i*n+j] = s
		}
	}
	return c
}

func softmax64(x []float32) []float64 {
	out := make([]float64, len(x))
	if len(x) == 0 {
		return out
	}
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for i, v := range x {
		out[i] = math.Exp(float64(v) - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

func layerNorm64(x, gain, bias []float32, eps float32) []float64 {
	d := len(gain)
	out := make([]float64, len(x))
	for r := 0; r < len(x); r += d {
		var mean, variance float64
		for i := 0; i < d; i++ {
			mean += float64(x[r+i])
		}
		mean /= float64(d)
		for i := 0; i < d; i++ {
			dv := float64(x[r+i]) - mean
			variance += dv * dv
		}
		variance /= float64(d)
		for i := 0; i < d; i++ {
			out[r+i] = (float64(x[r+i])-mean)/math.Sqrt(variance+float64(eps))*float64(gain[i]) + float64(bias[i])
		}
	}
	return out
}

func rmsNorm64(x, gain []float32, eps float32) []float64 {
	d := len(gain)
	out := make([]float64, len(x))
	for r := 0; r < len(x); r += d {
		var ss float64
		for i := 0; i < d; i++ {
			ss += float64(x[r+i]) * float64(x[r+i])
		}
		inv := 1 / math.Sqrt(ss/float64(d)+float64(eps))
		for i := 0; i < d; i++ {
			out[r+i] = float64(x[r+i]) * inv * float64(gain[i])
		}
	}
	return out
}

func gelu64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		f := float64(v)
		out[i] = 0.5 * f * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(f+0.044715*f*f*f)))
	}
	return out
}

func swiglu64(gate, up []float32) []float64 {
	out := make([]float64, len(gate))
	for i, g := range gate {
		f := float64(g)
		out[i] = f / (1 + math.Exp(-f)) * float64(up[i])
	}
	return out
}
