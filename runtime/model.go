package runtime

import (
	"fmt"
	"math"
	"slices"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/model/tokenizer"
	"github.com/goformer/goformer/quant"
)

// Embeddings selects how the token embedding matrix is kept in memory.
type Embeddings int

const (
	// Int8Embeddings keeps the token embeddings as int8 blocks of 32 values
	// with one scale each: one matrix serves the input lookup and the output
	// logits of a tied model. The default.
	Int8Embeddings Embeddings = iota
	// F32Embeddings keeps them as loaded, in fp32, for comparison.
	F32Embeddings
)

func (e Embeddings) String() string {
	if e == F32Embeddings {
		return "f32"
	}
	return "int8"
}

// ParseEmbeddings reads "int8" or "f32".
func ParseEmbeddings(s string) (Embeddings, error) {
	switch s {
	case "int8":
		return Int8Embeddings, nil
	case "f32":
		return F32Embeddings, nil
	}
	return 0, fmt.Errorf("unknown embeddings %q (want int8 or f32)", s)
}

// Options configure Load.
type Options struct {
	Embeddings Embeddings
	Weights    Weights
	// Threads is the number of threads (goroutines, the caller's included)
	// the kernels and attention split large products across; 0 means
	// kernels.DefaultThreads(), the number of physical cores. The worker
	// pool is shared by the whole process, so this is process-wide: Load
	// calls kernels.SetThreads, and the last model loaded sets it for every
	// session and batch. The results do not depend on it, bit for bit.
	Threads int
}

// Model is a loaded checkpoint: configuration, weights in run-time layout
// and tokenizer. It is immutable and safe for concurrent use by any number
// of sessions.
type Model struct {
	cfg     model.Config
	w       *model.Weights
	tokens  tokenTable // input embedding
	head    tokenTable // output projection: tokens itself when tied
	layers  []layerLinears
	tok     *tokenizer.Tokenizer
	release func() error
	arena   *weightArena // the huge-page block the streamed matrices were copied to, or nil

	sinFreqs []float64 // sinusoidal positions: each feature's frequency
}

// Config returns the model's configuration.
func (m *Model) Config() model.Config { return m.cfg }

// Close releases the model's memory maps. Sessions must not be used after.
func (m *Model) Close() error {
	if m.release == nil {
		return nil
	}
	err := m.release()
	m.release = nil
	return err
}

// newModel checks that the weights fit the configuration and prepares the
// embedding tables.
func newModel(cfg model.Config, w *model.Weights, opts Options) (*Model, error) {
	if err := checkShapes(cfg, w); err != nil {
		return nil, err
	}
	if opts.Threads < 0 {
		return nil, fmt.Errorf("threads %d: want at least 1, or 0 for the default", opts.Threads)
	}
	m := &Model{cfg: cfg, w: w}
	if cfg.Arch.Positions == model.SinusoidalPositions {
		m.sinFreqs = sinusoidFreqs(cfg.NEmbd)
	}
	d, ff := cfg.NEmbd, cfg.NInner
	m.layers = make([]layerLinears, len(w.Layers))
	for i := range w.Layers {
		L := &w.Layers[i]
		p := fmt.Sprintf("layer %d ", i)
		var err error
		lin := func(name string, f32 []float32, q8 *quant.Matrix, out, in int) linear {
			var l linear
			if err == nil {
				l, err = newLinear(p+name, f32, q8, out, in, opts)
			}
			return l
		}
		m.layers[i] = layerLinears{
			qkv:     lin("qkv", L.QKV, L.QKVInt8, 3*d, d),
			attnOut: lin("attention output", L.AttnOut, L.AttnOutInt8, d, d),
			fc:      lin("fc", L.FC, L.FCInt8, ff, d),
			fcOut:   lin("fc out", L.FCOut, L.FCOutInt8, d, ff),
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case w.TokenEmbeddingInt8 != nil:
		// Stored as int8 blocks: used as they are, whatever opts asks.
		m.tokens = &q8Table{m: w.TokenEmbeddingInt8}
	case opts.Embeddings == F32Embeddings:
		m.tokens = &f32Table{w: w.TokenEmbedding, rows: cfg.VocabSize, d: d}
	case opts.Embeddings == Int8Embeddings:
		if d%32 != 0 {
			// Blocks of 32 cannot tile the rows: keep fp32.
			m.tokens = &f32Table{w: w.TokenEmbedding, rows: cfg.VocabSize, d: d}
			break
		}
		t, err := newQ8Table(w.TokenEmbedding, cfg.VocabSize, d)
		if err != nil {
			return nil, fmt.Errorf("token embedding: %w", err)
		}
		m.tokens = t
	default:
		return nil, fmt.Errorf("unknown embeddings %d", opts.Embeddings)
	}
	switch {
	case cfg.Arch.TiedEmbeddings:
		m.head = m.tokens
	case w.OutputInt8 != nil:
		m.head = &q8Table{m: w.OutputInt8}
	case opts.Weights == Int8Weights && d%kernels.Q8Block == 0:
		t, err := newQ8Table(w.Output, cfg.VocabSize, d)
		if err != nil {
			return nil, fmt.Errorf("output: %w", err)
		}
		m.head = t
	default:
		m.head = &f32Table{w: w.Output, rows: cfg.VocabSize, d: d}
	}
	m.placeWeights()
	m.w = withoutMatrices(w)
	kernels.SetThreads(opts.Threads)
	return m, nil
}

// withoutMatrices returns a copy of w without its matrices: the forward
// pass reads them only through the linears and token tables, which hold
// them in run-time form (int8, or copied to huge pages), so the copy lets
// the loader's originals be freed. The biases, norms and positions stay.
func withoutMatrices(w *model.Weights) *model.Weights {
	c := *w
	c.Layers = slices.Clone(w.Layers)
	for i := range c.Layers {
		L := &c.Layers[i]
		L.QKV, L.AttnOut, L.FC, L.FCOut = nil, nil, nil, nil
		L.QKVInt8, L.AttnOutInt8, L.FCInt8, L.FCOutInt8 = nil, nil, nil, nil
	}
	c.TokenEmbedding, c.Output = nil, nil
	c.TokenEmbeddingInt8, c.OutputInt8 = nil, nil
	return &c
}

// checkShapes guards the forward pass: every slice it indexes has the length
// the configuration implies. Loaders check shapes tensor by tensor with
// better messages; this is the last line before a kernel panics.
func checkShapes(cfg model.Config, w *model.Weights) error {
	d, ff, v := cfg.NEmbd, cfg.NInner, cfg.VocabSize
	if d <= 0 || cfg.NHead <= 0 || d%cfg.NHead != 0 || ff <= 0 || v <= 0 || cfg.NLayer <= 0 || cfg.NPositions <= 0 {
		return fmt.Errorf("impossible shape: n_embd %d, n_head %d, n_inner %d, vocab %d, n_layer %d, n_positions %d",
			d, cfg.NHead, ff, v, cfg.NLayer, cfg.NPositions)
	}
	if err := checkPositions(cfg); err != nil {
		return err
	}
	check := func(name string, s []float32, want int) error {
		if len(s) != want {
			return fmt.Errorf("weights: %s has %d values, want %d", name, len(s), want)
		}
		return nil
	}
	// A matrix may instead be int8 blocks of the same shape.
	checkMatrix := func(name string, f32 []float32, q8 *quant.Matrix, rows, cols int) error {
		if q8 == nil {
			return check(name, f32, rows*cols)
		}
		if f32 != nil || q8.Rows != rows || q8.Cols != cols || len(q8.Q) != rows*cols || len(q8.Scales) != rows*cols/kernels.Q8Block {
			return fmt.Errorf("weights: %s is a %d×%d int8 matrix, want %d×%d and no fp32 copy", name, q8.Rows, q8.Cols, rows, cols)
		}
		return nil
	}
	errs := []error{
		checkMatrix("token embedding", w.TokenEmbedding, w.TokenEmbeddingInt8, v, d),
	}
	if cfg.Arch.Positions == model.LearnedPositions {
		errs = append(errs, check("position embedding", w.PositionEmbedding, cfg.NPositions*d))
	}
	if cfg.Arch.FinalNorm {
		errs = append(errs, check("final norm gain", w.FinalGain, d), check("final norm bias", w.FinalBias, d))
	}
	if !cfg.Arch.TiedEmbeddings {
		errs = append(errs, checkMatrix("output", w.Output, w.OutputInt8, v, d))
	}
	if len(w.Layers) != cfg.NLayer {
		return fmt.Errorf("weights: %d layers, config says %d", len(w.Layers), cfg.NLayer)
	}
	for i, l := range w.Layers {
		p := fmt.Sprintf("layer %d ", i)
		errs = append(errs,
			check(p+"ln_1 gain", l.LN1Gain, d), check(p+"ln_1 bias", l.LN1Bias, d),
			checkMatrix(p+"qkv", l.QKV, l.QKVInt8, 3*d, d), check(p+"qkv bias", l.QKVBias, 3*d),
			checkMatrix(p+"attention output", l.AttnOut, l.AttnOutInt8, d, d), check(p+"attention output bias", l.AttnOutBias, d),
			check(p+"ln_2 gain", l.LN2Gain, d), check(p+"ln_2 bias", l.LN2Bias, d),
			checkMatrix(p+"fc", l.FC, l.FCInt8, ff, d), check(p+"fc bias", l.FCBias, ff),
			checkMatrix(p+"fc out", l.FCOut, l.FCOutInt8, d, ff), check(p+"fc out bias", l.FCOutBias, d))
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkPositions rejects a position kind the forward pass cannot run.
func checkPositions(cfg model.Config) error {
	switch cfg.Arch.Positions {
	case model.LearnedPositions, model.SinusoidalPositions:
		return nil
	case model.RoPE:
		hd, rd := cfg.HeadDim(), cfg.RotaryDims()
		if rd <= 0 || rd > hd || rd%2 != 0 {
			return fmt.Errorf("rotary dimension %d: want an even number in 2..%d (the head dimension)", rd, hd)
		}
		if th := cfg.RoPEBase(); !(th > 1) || math.IsInf(th, 0) {
			return fmt.Errorf("RoPE theta %g: want a finite base above 1", th)
		}
		if s := cfg.Arch.RoPEStyle; s != model.RotateHalf && s != model.Interleaved {
			return fmt.Errorf("unknown RoPE style %d", s)
		}
		return nil
	}
	return fmt.Errorf("unknown position kind %d", cfg.Arch.Positions)
}
