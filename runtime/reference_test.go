package runtime

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model"
)

// refLogits is the float64 reference forward pass: the textbook transformer,
// written for obviousness, recomputing everything from scratch. It returns
// the logits of every position of ids; token t is at position t.
func refLogits(cfg model.Config, w *model.Weights, ids []int) [][]float64 {
	return refLogitsAttending(cfg, w, ids, func(t, j int) bool { return j <= t })
}

// refLogitsAttending is refLogits where the query at position t attends to
// the positions j for which attends(t, j) holds.
func refLogitsAttending(cfg model.Config, w *model.Weights, ids []int, attends func(t, j int) bool) [][]float64 {
	d, nh, ff := cfg.NEmbd, cfg.NHead, cfg.NInner
	hd := d / nh
	eps := float64(cfg.LayerNormEps)
	T := len(ids)
	x := make([][]float64, T)
	for t, id := range ids {
		x[t] = make([]float64, d)
		for i := 0; i < d; i++ {
			x[t][i] = float64(w.TokenEmbedding[id*d+i])
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
	for _, L := range w.Layers {
		pre := cfg.Arch.Norm == model.PreNorm
		in := x
		if pre {
			in = refLayerNorm(x, L.LN1Gain, L.LN1Bias, eps)
		}
		qkv := refLinear(in, L.QKV, L.QKVBias, 3*d)
		if cfg.Arch.Positions == model.RoPE {
			for t := range qkv {
				for h := 0; h < 2*nh; h++ { // every head of the query, then of the key
					refRotate(cfg, qkv[t][h*hd:(h+1)*hd], t)
				}
			}
		}
		att := make([][]float64, T)
		for t := 0; t < T; t++ {
			att[t] = make([]float64, d)
			var seen []int
			for j := 0; j < T; j++ {
				if attends(t, j) {
					seen = append(seen, j)
				}
			}
			for h := 0; h < nh; h++ {
				scores := make([]float64, len(seen))
				for s, j := range seen {
					for i := 0; i < hd; i++ {
						scores[s] += qkv[t][h*hd+i] * qkv[j][d+h*hd+i]
					}
					scores[s] /= math.Sqrt(float64(hd))
				}
				p := refSoftmax(scores)
				for s, j := range seen {
					for i := 0; i < hd; i++ {
						att[t][h*hd+i] += p[s] * qkv[j][2*d+h*hd+i]
					}
				}
			}
		}
		x = refAdd(x, refLinear(att, L.AttnOut, L.AttnOutBias, d))
		if !pre {
			x = refLayerNorm(x, L.LN1Gain, L.LN1Bias, eps)
		}
		in = x
		if pre {
			in = refLayerNorm(x, L.LN2Gain, L.LN2Bias, eps)
		}
		hidden := refLinear(in, L.FC, L.FCBias, ff)
		for _, row := range hidden {
			for i, v := range row {
				row[i] = 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
			}
		}
		x = refAdd(x, refLinear(hidden, L.FCOut, L.FCOutBias, d))
		if !pre {
			x = refLayerNorm(x, L.LN2Gain, L.LN2Bias, eps)
		}
	}
	if cfg.Arch.FinalNorm {
		x = refLayerNorm(x, w.FinalGain, w.FinalBias, eps)
	}
	out := w.TokenEmbedding
	if !cfg.Arch.TiedEmbeddings {
		out = w.Output
	}
	return refLinear(x, out, nil, cfg.VocabSize)
}

// refRotate applies RoPE at position t to one head: pair k of the first r
// elements (neighbours 2k, 2k+1 interleaved; k, k+r/2 rotate-half) turns by
// t·theta^(−2k/r).
func refRotate(cfg model.Config, head []float64, t int) {
	r, theta := cfg.RotaryDim, cfg.RoPETheta
	if r == 0 {
		r = len(head)
	}
	if theta == 0 {
		theta = 10000
	}
	for k := 0; k < r/2; k++ {
		a, b := k, k+r/2
		if cfg.Arch.RoPEStyle == model.Interleaved {
			a, b = 2*k, 2*k+1
		}
		angle := float64(t) * math.Pow(theta, -float64(2*k)/float64(r))
		c, s := math.Cos(angle), math.Sin(angle)
		head[a], head[b] = head[a]*c-head[b]*s, head[b]*c+head[a]*s
	}
}

// refLinear is y[t][j] = b[j] + Σ_i x[t][i]·W[j][i] with W stored [out][in].
func refLinear(x [][]float64, w, b []float32, out int) [][]float64 {
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
				s += v * float64(w[j*in+i])
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
		VocabSize: 211, NPositions: 48, NEmbd: 64, NLayer: 2, NHead: 4, NInner: 136,
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

// randomWeights fills every tensor with values from a fixed seed, large
// enough that attention is far from uniform and every sublayer matters.
func randomWeights(cfg model.Config, seed uint64) *model.Weights {
	rng := rand.New(rand.NewPCG(seed, 1))
	vec := func(n int, center, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(center + scale*(2*rng.Float64()-1))
		}
		return v
	}
	d, ff, v := cfg.NEmbd, cfg.NInner, cfg.VocabSize
	w := &model.Weights{TokenEmbedding: vec(v*d, 0, 0.5)}
	if cfg.Arch.Positions == model.LearnedPositions {
		w.PositionEmbedding = vec(cfg.NPositions*d, 0, 0.2)
	}
	w.FinalGain, w.FinalBias = vec(d, 1, 0.2), vec(d, 0, 0.1)
	if !cfg.Arch.TiedEmbeddings {
		w.Output = vec(v*d, 0, 0.5)
	}
	for l := 0; l < cfg.NLayer; l++ {
		w.Layers = append(w.Layers, model.Layer{
			LN1Gain: vec(d, 1, 0.2), LN1Bias: vec(d, 0, 0.1),
			QKV: vec(3*d*d, 0, 0.25), QKVBias: vec(3*d, 0, 0.1),
			AttnOut: vec(d*d, 0, 0.15), AttnOutBias: vec(d, 0, 0.05),
			LN2Gain: vec(d, 1, 0.2), LN2Bias: vec(d, 0, 0.1),
			FC: vec(ff*d, 0, 0.15), FCBias: vec(ff, 0, 0.1),
			FCOut: vec(d*ff, 0, 0.1), FCOutBias: vec(d, 0, 0.05),
		})
	}
	return w
}
