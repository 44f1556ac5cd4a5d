package runtime

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
)

// refLogits is the float64 reference forward pass: the textbook transformer,
// written for obviousness, recomputing everything from scratch. It returns
// the logits of every position of ids; token t is at position t. A
// sliding-window model attends its window only.
func refLogits(cfg model.Config, w *model.Weights, ids []int) [][]float64 {
	return refLogitsAttending(cfg, w, ids, func(t, j int) bool {
		return j <= t && (cfg.SlidingWindow == 0 || t-j < cfg.SlidingWindow)
	})
}

// refLogitsAttending is refLogits where the query at position t attends to
// the positions j for which attends(t, j) holds.
func refLogitsAttending(cfg model.Config, w *model.Weights, ids []int, attends func(t, j int) bool) [][]float64 {
	return refLinear(refHidden(cfg, w, ids, attends), refHead(cfg, w), nil)
}

// refHead is the matrix the logits are read through.
func refHead(cfg model.Config, w *model.Weights) *model.Matrix {
	if cfg.Arch.TiedEmbeddings {
		return w.TokenEmbedding
	}
	return w.Output
}

// refHidden is refLogitsAttending's final hidden states, before the head.
func refHidden(cfg model.Config, w *model.Weights, ids []int, attends func(t, j int) bool) [][]float64 {
	d, nh, nkv := cfg.NEmbd, cfg.NHead, cfg.NHead
	if cfg.NKVHead != 0 {
		nkv = cfg.NKVHead
	}
	hd := d / nh
	if cfg.HeadSize != 0 {
		hd = cfg.HeadSize
	}
	group := nh / nkv // query head h reads kv head h / group
	eps := float64(cfg.LayerNormEps)
	T := len(ids)
	emb := refMatrix(w.TokenEmbedding)
	x := make([][]float64, T)
	for t, id := range ids {
		x[t] = make([]float64, d)
		for i := 0; i < d; i++ {
			x[t][i] = emb[id*d+i]
			switch cfg.Arch.Positions {
			case model.LearnedPositions:
				x[t][i] += float64(w.PositionEmbedding[t*d+i])
			case model.SinusoidalPositions:
				// PE(t, 2k) = sin(t/10000^(2k/d)), PE(t, 2k+1) = cos(same).
				angle := float64(t) / math.Pow(10000, float64(2*(i/2))/float64(d))
				if i%2 == 0 {
					x[t][i] += math.Sin(angle)
				} else {
					x[t][i] += math.Cos(angle)
				}
			}
		}
	}
	norm := func(x [][]float64, n model.Norm) [][]float64 {
		if cfg.Arch.NormKind == model.RMSNorm {
			return refRMSNorm(x, n.Gain, eps)
		}
		return refLayerNorm(x, n.Gain, n.Bias, eps)
	}
	for _, L := range w.Layers {
		pre := cfg.Arch.Norm == model.PreNorm
		in := x
		if pre {
			in = norm(x, L.AttnNorm)
		}
		q, k, v := refLinear(in, L.Q, L.QBias), refLinear(in, L.K, L.KBias), refLinear(in, L.V, L.VBias)
		if cfg.Arch.Positions == model.RoPE {
			for t := range q {
				for h := 0; h < nh; h++ {
					refRotate(cfg, q[t][h*hd:(h+1)*hd], t)
				}
				for g := 0; g < nkv; g++ {
					refRotate(cfg, k[t][g*hd:(g+1)*hd], t)
				}
			}
		}
		att := make([][]float64, T)
		for t := 0; t < T; t++ {
			att[t] = make([]float64, nh*hd)
			var seen []int
			for j := 0; j < T; j++ {
				if attends(t, j) {
					seen = append(seen, j)
				}
			}
			for h := 0; h < nh; h++ {
				g := h / group
				scores := make([]float64, len(seen))
				for s, j := range seen {
					for i := 0; i < hd; i++ {
						scores[s] += q[t][h*hd+i] * k[j][g*hd+i]
					}
					scores[s] /= math.Sqrt(float64(hd))
				}
				p := refSoftmax(scores)
				for s, j := range seen {
					for i := 0; i < hd; i++ {
						att[t][h*hd+i] += p[s] * v[j][g*hd+i]
					}
				}
			}
		}
		x = refAdd(x, refLinear(att, L.O, L.OBias))
		if !pre {
			x = norm(x, L.AttnNorm)
		}
		in = x
		if pre {
			in = norm(x, L.MLPNorm)
		}
		var hidden [][]float64
		if cfg.Arch.MLP == model.SwiGLUMLP {
			gate, up := refLinear(in, L.Gate, L.GateBias), refLinear(in, L.Up, L.UpBias)
			for t, row := range gate {
				for i, g := range row {
					row[i] = g / (1 + math.Exp(-g)) * up[t][i]
				}
			}
			hidden = gate
		} else {
			hidden = refLinear(in, L.Up, L.UpBias)
			for _, row := range hidden {
				for i, v := range row {
					row[i] = 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
				}
			}
		}
		x = refAdd(x, refLinear(hidden, L.Down, L.DownBias))
		if !pre {
			x = norm(x, L.MLPNorm)
		}
	}
	if cfg.Arch.FinalNorm {
		x = norm(x, w.FinalNorm)
	}
	return x
}

// refRotate applies RoPE at position t to one head: pair k of the first r
// elements (neighbours 2k, 2k+1 interleaved; k, k+r/2 rotate-half) turns by
// t·refRoPEFreq(k).
func refRotate(cfg model.Config, head []float64, t int) {
	r := cfg.RotaryDim
	if r == 0 {
		r = len(head)
	}
	for k := 0; k < r/2; k++ {
		a, b := k, k+r/2
		if cfg.Arch.RoPEStyle == model.Interleaved {
			a, b = 2*k, 2*k+1
		}
		angle := float64(t) * refRoPEFreq(cfg, k, r)
		c, s := math.Cos(angle), math.Sin(angle)
		head[a], head[b] = head[a]*c-head[b]*s, head[b]*c+head[a]*s
	}
}

// refRoPEFreq is pair k's frequency, θ^(−2k/r) scaled as Hugging Face's
// rope_init functions scale it: linear divides by the factor; llama3 keeps
// wavelengths below original/high_freq_factor, divides those above
// original/low_freq_factor by the factor and blends between.
func refRoPEFreq(cfg model.Config, k, r int) float64 {
	theta := cfg.RoPETheta
	if theta == 0 {
		theta = 10000
	}
	f := 1 / math.Pow(theta, float64(2*k)/float64(r))
	sc := cfg.RoPEScaling
	switch {
	case sc.Divisors != nil:
		return f / sc.Divisors[k]
	case sc.Type == "linear":
		return f / sc.Factor
	case sc.Type == "llama3":
		wavelen := 2 * math.Pi / f
		lowWavelen := float64(sc.OriginalContext) / sc.LowFreqFactor
		highWavelen := float64(sc.OriginalContext) / sc.HighFreqFactor
		if wavelen < highWavelen {
			return f
		}
		if wavelen > lowWavelen {
			return f / sc.Factor
		}
		smooth := (float64(sc.OriginalContext)/wavelen - sc.LowFreqFactor) / (sc.HighFreqFactor - sc.LowFreqFactor)
		return (1-smooth)*f/sc.Factor + smooth*f
	}
	return f
}

// refMatrix returns m's values in float64, dequantizing int8 and GGUF
// blocks.
func refMatrix(m *model.Matrix) []float64 {
	out := make([]float64, m.Rows*m.Cols)
	if b := m.Blocks; b != nil {
		row := make([]float32, m.Cols)
		for r := range m.Rows {
			b.Row(r, row) // ggml's dequantization, bit for bit
			for i, v := range row {
				out[r*m.Cols+i] = float64(v)
			}
		}
		return out
	}
	if q := m.Int8; q != nil {
		for i, v := range q.Q {
			out[i] = float64(q.Scales[i/kernels.Q8Block]) * float64(v)
		}
		return out
	}
	for i, v := range m.F32 {
		out[i] = float64(v)
	}
	return out
}

// refLinear is y[t][j] = b[j] + Σ_i x[t][i]·W[j][i] with W stored [out][in].
func refLinear(x [][]float64, m *model.Matrix, b []float32) [][]float64 {
	w, out := refMatrix(m), m.Rows
	y := make([][]float64, len(x))
	for t, row := range x {
		in := len(row)
		y[t] = make([]float64, out)
		for j := 0; j < out; j++ {
			var s float64
			if b != nil {
				s = float64(b[j])
			}
			for i, v := range row {
				s += v * w[j*in+i]
			}
			y[t][j] = s
		}
	}
	return y
}

// refLayerNorm normalizes each position over its features.
func refLayerNorm(x [][]float64, g, b []float32, eps float64) [][]float64 {
	y := make([][]float64, len(x))
	for t, row := range x {
		var mean, variance float64
		for _, v := range row {
			mean += v
		}
		mean /= float64(len(row))
		for _, v := range row {
			variance += (v - mean) * (v - mean)
		}
		variance /= float64(len(row))
		y[t] = make([]float64, len(row))
		for i, v := range row {
			y[t][i] = (v-mean)/math.Sqrt(variance+eps)*float64(g[i]) + float64(b[i])
		}
	}
	return y
}

// refRMSNorm scales each position by the inverse root mean square of its
// features.
func refRMSNorm(x [][]float64, g []float32, eps float64) [][]float64 {
	y := make([][]float64, len(x))
	for t, row := range x {
		var ms float64
		for _, v := range row {
			ms += v * v
		}
		ms /= float64(len(row))
		y[t] = make([]float64, len(row))
		for i, v := range row {
			y[t][i] = v / math.Sqrt(ms+eps) * float64(g[i])
		}
	}
	return y
}

func refSoftmax(x []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, v)
	}
	p := make([]float64, len(x))
	var sum float64
	for i, v := range x {
		p[i] = math.Exp(v - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

func refAdd(a, b [][]float64) [][]float64 {
	y := make([][]float64, len(a))
	for t := range a {
		y[t] = make([]float64, len(a[t]))
		for i := range a[t] {
			y[t][i] = a[t][i] + b[t][i]
		}
	}
	return y
}

// refLogSoftmax returns log p(id) from logits.
func refLogprob(logits []float64, id int) float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(v - mx)
	}
	return logits[id] - mx - math.Log(sum)
}

// builtFrom remembers the weights each test model was built from: a Model
// keeps no matrices in model.Weights form (withoutMatrices), and the float64
// references need them.
var builtFrom sync.Map // *Model → *model.Weights

// newModelFrom is newModel for tests that compare against the float64
// reference of the same weights (weightsOf).
func newModelFrom(t *testing.T, cfg model.Config, w *model.Weights, opts Options) *Model {
	t.Helper()
	m, err := newModel(cfg, w, opts)
	require.NoError(t, err)
	builtFrom.Store(m, w)
	return m
}

// weightsOf returns the weights m was built from by newModelFrom.
func weightsOf(t *testing.T, m *Model) *model.Weights {
	t.Helper()
	w, ok := builtFrom.Load(m)
	require.True(t, ok, "the model was not built by newModelFrom")
	return w.(*model.Weights)
}

// smallConfig is a random model small enough for the float64 reference but
// with ragged sizes: d_ff is not 4·d, the vocabulary is odd.
// With RoPE, the interleaved (GPT-J) style rotates half of each head, as
// GPT-J does, and the base is small enough that every pair turns visibly
// within a few positions.
func smallConfig(arch model.Arch) model.Config {
	c := model.Config{
		ModelType: "gpt2", VocabSize: 211, NPositions: 48, NEmbd: 64, NLayer: 2, NHead: 4, NInner: 136,
		LayerNormEps: 1e-5, Activation: "gelu_new", BOS: 210, EOS: 210, Arch: arch,
	}
	if arch.Positions == model.RoPE {
		c.RoPETheta = 500
		if arch.RoPEStyle == model.Interleaved {
			c.RotaryDim = c.HeadDim() / 2
		}
	}
	return c
}

// llamaConfig is smallConfig for the Llama family: RMSNorm, SwiGLU, RoPE
// (rotate-half, base 500), n_kv_head key/value heads, heads of headSize (0:
// d/n_head), untied unless edit says otherwise.
func llamaConfig(nHead, nKV, headSize int, edit func(*model.Config)) model.Config {
	c := model.Config{
		ModelType: "llama", VocabSize: 211, NPositions: 48, NEmbd: 64, NLayer: 2, NHead: nHead, NKVHead: nKV,
		HeadSize: headSize, NInner: 136, LayerNormEps: 1e-5, BOS: 210, EOS: 210, Arch: model.LlamaArch, RoPETheta: 500,
	}
	if edit != nil {
		edit(&c)
	}
	return c
}

// randomWeights fills every tensor with values from a fixed seed, large
// enough that attention is far from uniform and every sublayer matters.
// GPT-2 gets every bias; a Llama the ones its config names (q, k and v for
// Qwen2).
func randomWeights(cfg model.Config, seed uint64) *model.Weights {
	rng := rand.New(rand.NewPCG(seed, 1))
	vec := func(n int, center, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(center + scale*(2*rng.Float64()-1))
		}
		return v
	}
	mat := func(rows, cols int, scale float64) *model.Matrix {
		return model.F32Matrix(vec(rows*cols, 0, scale), rows, cols)
	}
	d, ff, v := cfg.NEmbd, cfg.NInner, cfg.VocabSize
	qd, kvd := cfg.QueryDim(), cfg.KVDim()
	rms := cfg.Arch.NormKind == model.RMSNorm
	norm := func() model.Norm {
		if rms {
			return model.Norm{Gain: vec(d, 1, 0.2)}
		}
		return model.Norm{Gain: vec(d, 1, 0.2), Bias: vec(d, 0, 0.1)}
	}
	bias := func(on bool, n int, scale float64) []float32 {
		if !on {
			return nil
		}
		return vec(n, 0, scale)
	}
	w := &model.Weights{TokenEmbedding: mat(v, d, 0.5)}
	if cfg.Arch.Positions == model.LearnedPositions {
		w.PositionEmbedding = vec(cfg.NPositions*d, 0, 0.2)
	}
	w.FinalNorm = norm()
	if !cfg.Arch.TiedEmbeddings {
		w.Output = mat(v, d, 0.5)
	}
	gpt2 := cfg.Arch.MLP == model.GELUMLP
	qkvBias := gpt2 || cfg.ModelType == "qwen2" || cfg.AttentionBias
	for l := 0; l < cfg.NLayer; l++ {
		var L model.Layer
		L.AttnNorm = norm()
		if gpt2 {
			// One draw for the fused matrix, as GPT-2 stores it.
			qkv := mat(3*d, d, 0.25)
			L.Q, L.K, L.V = qkv.RowRange(0, d), qkv.RowRange(d, 2*d), qkv.RowRange(2*d, 3*d)
			b := vec(3*d, 0, 0.1)
			L.QBias, L.KBias, L.VBias = b[:d:d], b[d:2*d:2*d], b[2*d:]
		} else {
			L.Q, L.K, L.V = mat(qd, d, 0.25), mat(kvd, d, 0.25), mat(kvd, d, 0.25)
			L.QBias, L.KBias, L.VBias = bias(qkvBias, qd, 0.1), bias(qkvBias, kvd, 0.1), bias(qkvBias, kvd, 0.1)
		}
		L.O, L.OBias = mat(d, qd, 0.15), bias(gpt2 || cfg.AttentionBias, d, 0.05)
		L.MLPNorm = norm()
		if !gpt2 {
			L.Gate, L.GateBias = mat(ff, d, 0.3), bias(cfg.MLPBias, ff, 0.1)
		}
		L.Up, L.UpBias = mat(ff, d, 0.15), bias(gpt2 || cfg.MLPBias, ff, 0.1)
		L.Down, L.DownBias = mat(d, ff, 0.1), bias(gpt2 || cfg.MLPBias, d, 0.05)
		w.Layers = append(w.Layers, L)
	}
	return w
}

// randomFloats is n values uniform in [-1, 1) from a fixed seed.
func randomFloats(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(2*rng.Float64() - 1)
	}
	return v
}

// skipUnderRace skips a test of numerics against a reference (fixtures,
// perplexity) in the race detector's run, which is there for the
// concurrency of sessions, batches and the pool and would spend minutes on
// them; the native and -short runs keep them.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("skipping under the race detector: this test checks arithmetic or loading, not goroutines (the batch, threads and pool tests do)")
	}
}
