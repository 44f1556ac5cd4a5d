package kernels

import "math"

// genericImpl is the pure-Go tier. Its functions are the definitions of the
// kernels: every SIMD tier is tested against them and against float64
// references, and they are what runs under the purego build tag.
var genericImpl = &impl{
	name:      "generic",
	gemv:      gemvGeneric,
	gemm:      gemmGeneric,
	gemmAlign: 1,

	panelWidth: 8,
	panelGemm:  panelGemmGeneric,

	softmax:   softmaxGeneric,
	exp:       expGeneric,
	layerNorm: layerNormGeneric,
	rmsNorm:   rmsNormGeneric,
	gelu:      geluGeneric,
	swiglu:    swigluGeneric,
	add:       addGeneric,
	scale:     scaleGeneric,
	dot:       dotGeneric,
	axpy:      axpyGeneric,

	ropeHalf:        ropeHalfGeneric,
	ropeInterleaved: ropeInterleavedGeneric,

	types: genericTypes(),
}

// genericTypes is the generic tier's kernels of every quantized type.
func genericTypes() [numWeightTypes]typeKernels {
	var ts [numWeightTypes]typeKernels
	ts[Q8_0] = typeKernels{quantize: q8QuantizeGeneric, matVec: q8MatVecGeneric[int8], matVec16: q8MatVecGeneric[int16]}
	ts[Q8_K] = typeKernels{quantizeQ8K: q8KQuantizeGeneric}
	for t, dot := range blockDots {
		ts[t] = typeKernels{blockMatVec: blockMatVecGeneric(t, dot)}
	}
	for _, t := range []WeightType{Q4_0x8, Q5_0x8} {
		ts[t] = typeKernels{blockMatVec: interleavedGeneric(t, ts[t.Plain()].blockMatVec)}
	}
	return ts
}

func gemvGeneric(y, x, w, bias []float32, k, n int) {
	for j := 0; j < n; j++ {
		var s float32
		if bias != nil {
			s = bias[j]
		}
		y[j] = s + dotGeneric(x[:k], w[j*k:j*k+k])
	}
}

func gemmGeneric(c, a, w, bias []float32, m, k, n, j0, j1 int) {
	if bias != nil {
		bias = bias[j0:j1]
	}
	for i := 0; i < m; i++ {
		gemvGeneric(c[i*n+j0:i*n+j1], a[i*k:i*k+k], w[j0*k:j1*k], bias, k, j1-j0)
	}
}

func softmaxGeneric(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		mx = max(mx, v)
	}
	var sum float64 // a float64 sum keeps 50,257 terms exact enough
	for i, v := range x {
		e := float32(math.Exp(float64(v - mx)))
		x[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

func expGeneric(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(math.Exp(float64(v)))
	}
}

func layerNormGeneric(out, x, gain, bias []float32, eps float32) {
	d := len(gain)
	for r := 0; r+d <= len(x); r += d {
		row, o := x[r:r+d], out[r:r+d]
		var mean float32
		for _, v := range row {
			mean += v
		}
		mean /= float32(d)
		var variance float32
		for _, v := range row {
			variance += (v - mean) * (v - mean)
		}
		variance /= float32(d)
		inv := 1 / float32(math.Sqrt(float64(variance+eps)))
		for i, v := range row {
			o[i] = (v-mean)*inv*gain[i] + bias[i]
		}
	}
}

func rmsNormGeneric(out, x, gain []float32, eps float32) {
	d := len(gain)
	for r := 0; r+d <= len(x); r += d {
		row, o := x[r:r+d], out[r:r+d]
		var ss float32
		for _, v := range row {
			ss += v * v
		}
		inv := 1 / float32(math.Sqrt(float64(ss/float32(d)+eps)))
		for i, v := range row {
			o[i] = v * inv * gain[i]
		}
	}
}

// geluC is sqrt(2/π), the constant of GELU's tanh approximation.
const geluC = 0.7978845608028654

func geluGeneric(out, x []float32) {
	for i, v := range x {
		t := math.Tanh(geluC * (float64(v) + 0.044715*float64(v)*float64(v)*float64(v)))
		out[i] = float32(0.5 * float64(v) * (1 + t))
	}
}

// swigluGeneric rounds once, from float64: exp(-g) overflows float64 only
// for g below about -709, where g/Inf is the right -0.
func swigluGeneric(out, gate, up []float32) {
	for i, g := range gate {
		out[i] = float32(float64(g) / (1 + math.Exp(-float64(g))) * float64(up[i]))
	}
}

func addGeneric(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func scaleGeneric(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

func dotGeneric(a, b []float32) float32 {
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpyGeneric(y []float32, alpha float32, x []float32) {
	for i, v := range x {
		y[i] += alpha * v
	}
}
