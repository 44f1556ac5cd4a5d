package runtime

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/model/chat"
	"github.com/goformer/goformer/model/tokenizer"
)

// Embeddings selects how the token embedding matrix is kept in memory.
type Embeddings int

const (
	// Int8Embeddings keeps the token embeddings as int8 blocks of 32 values
	// with one scale each, plus what that rounding took from each row in
	// int8 again (2.25 bytes a value in all, against fp32's 4). One matrix
	// serves the input lookup and the output logits of a tied model: the
	// logits multiply the first layer by int16 activations (the bytes a
	// decode step reads: 1.125 a value), then recompute the highest few
	// and, when scoring a text, its next token from both layers. The
	// fixtures' log-probs land within 3e-4 of fp32 embeddings'
	// (TestTiedInt8Logits). The default.
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
	Embeddings  Embeddings  // how the token embeddings are kept (Int8Embeddings)
	Weights     Weights     // how fp32 linear layers are kept (F32Weights)
	Activations Activations // how quantized layers round their input (Int8Activations)
}

// Model is a loaded checkpoint: configuration, weights in run-time layout
// and tokenizer. It is immutable and safe for concurrent use by any number
// of sessions.
type Model struct {
	cfg    model.Config
	w      *model.Weights
	tokens tokenTable // input embedding
	head   tokenTable // output projection: tokens itself when tied
	layers []layerLinears
	// widestPart is the most output rows of a part of a stackedLinear (0
	// without one): the room a pass's scratch keeps for them.
	widestPart  int
	activations Activations // how the quantized linears round their input
	tok         *tokenizer.Tokenizer
	warnings    []string // Warnings
	release     func() error
	closed      atomic.Bool  // set by Close: sessions and batches then fail with ErrClosed
	arena       *weightArena // the huge-page block the streamed matrices were copied to, or nil

	// piecesText is the text of every token for GenerateText, built by
	// its first call.
	bosPrompt []int // [BOS]: what an empty prompt generates from; never written

	piecesOnce sync.Once
	piecesText []string

	chatOnce sync.Once // ChatTemplate parses the template once
	chat     *chat.Template
	chatErr  error

	sinFreqs  []float64 // sinusoidal positions: each feature's frequency
	ropeFreqs []float64 // RoPE: each rotary pair's frequency, scaled as the config says
}

// Config returns the model's configuration.
func (m *Model) Config() model.Config { return m.cfg }

// Close releases the model's memory maps. A GGUF file's block-quantized
// matrices may be used where they lie in the mapping (fp32 ones are packed
// into the kernels' panels at load; blocks are copied to huge pages where
// there are some, and Q4_0 and Q5_0 layers are interleaved where the tier
// prefers it), so from then on every Session and
// Batch of the model, and NewSession and NewBatch, fail with ErrClosed
// instead of reading it. Close must not run while a session's call is in
// progress.
func (m *Model) Close() error {
	m.closed.Store(true)
	if m.release == nil {
		return nil
	}
	err := m.release()
	m.release = nil
	return err
}

// checkOpen is ErrClosed once the model is closed.
func (m *Model) checkOpen() error {
	if m.closed.Load() {
		return ErrClosed
	}
	return nil
}

// newModel checks that the weights fit the configuration and prepares the
// linears and embedding tables.
func newModel(cfg model.Config, w *model.Weights, opts Options) (*Model, error) {
	if err := checkShapes(cfg, w); err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, w: w, bosPrompt: []int{cfg.BOS}, activations: opts.Activations}
	switch cfg.Arch.Positions {
	case model.SinusoidalPositions:
		m.sinFreqs = sinusoidFreqs(cfg.NEmbd)
	case model.RoPE:
		m.ropeFreqs = cfg.RoPEFrequencies()
	}
	m.layers = make([]layerLinears, len(w.Layers))
	for i := range w.Layers {
		var err error
		if m.layers[i], err = newLayerLinears(fmt.Sprintf("layer %d ", i), &w.Layers[i], cfg.Arch.MLP, opts); err != nil {
			return nil, err
		}
		for _, l := range []linear{m.layers[i].qkv, m.layers[i].up} {
			if st, ok := l.(*stackedLinear); ok {
				m.widestPart = max(m.widestPart, slices.Max(st.rows))
			}
		}
	}
	var err error
	if m.tokens, err = newTokenTable(w.TokenEmbedding, opts.Embeddings == F32Embeddings, opts.Activations); err != nil {
		return nil, fmt.Errorf("token embedding: %w", err)
	}
	if cfg.Arch.TiedEmbeddings {
		m.head = m.tokens
	} else if m.head, err = newTokenTable(w.Output, opts.Weights != Int8Weights, opts.Activations); err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	m.placeWeights()
	m.w = withoutMatrices(w)
	return m, nil
}

// newTokenTable keeps an embedding or output matrix as the checkpoint has
// it, except that an fp32 one becomes int8 unless keepF32 (or its rows do
// not split into blocks of 32); a block type's logits take the activations
// act.
func newTokenTable(w *model.Matrix, keepF32 bool, act Activations) (tokenTable, error) {
	switch {
	case w.Blocks != nil:
		return &quantTable{m: w.Blocks, twoPass: act == TwoPassActivations}, nil
	case w.Int8 != nil:
		return &quantTable{m: w.Int8}, nil
	case keepF32 || w.Cols%kernels.Q8Block != 0:
		return newF32Table(w.F32, w.Rows, w.Cols), nil
	}
	return newQ8Table(w.F32, w.Rows, w.Cols)
}

// withoutMatrices returns a copy of w without its matrices: the forward
// pass reads them only through the linears and token tables, which hold
// them in run-time form (int8, fused, or copied to huge pages), so the copy
// lets the loader's originals be freed. The biases, norms and positions
// stay.
func withoutMatrices(w *model.Weights) *model.Weights {
	c := *w
	c.Layers = slices.Clone(w.Layers)
	for i := range c.Layers {
		L := &c.Layers[i]
		L.Q, L.K, L.V, L.O, L.Gate, L.Up, L.Down = nil, nil, nil, nil, nil, nil, nil
	}
	c.TokenEmbedding, c.Output = nil, nil
	return &c
}

// checkShapes guards the forward pass: every slice it indexes has the length
// the configuration implies. Loaders check shapes tensor by tensor with
// better messages; this is the last line before a kernel panics.
func checkShapes(cfg model.Config, w *model.Weights) error {
	d, ff, v := cfg.NEmbd, cfg.NInner, cfg.VocabSize
	nh, nkv, hd := cfg.NHead, cfg.KVHeads(), 0
	if nh > 0 {
		hd = cfg.HeadDim()
	}
	if d <= 0 || nh <= 0 || hd <= 0 || nkv <= 0 || nh%nkv != 0 || (cfg.HeadSize == 0 && d%nh != 0) ||
		ff <= 0 || v <= 0 || cfg.NLayer <= 0 || cfg.NPositions <= 0 || cfg.SlidingWindow < 0 {
		return fmt.Errorf("impossible shape: n_embd %d, n_head %d, n_kv_head %d, head_dim %d, n_inner %d, vocab %d, n_layer %d, n_positions %d, sliding window %d",
			d, nh, nkv, hd, ff, v, cfg.NLayer, cfg.NPositions, cfg.SlidingWindow)
	}
	if err := checkPositions(cfg); err != nil {
		return err
	}
	qd, kvd := cfg.QueryDim(), cfg.KVDim()
	var errs []error
	vector := func(name string, s []float32, want int, optional bool) {
		if (s != nil || !optional) && len(s) != want {
			errs = append(errs, fmt.Errorf("weights: %s has %d values, want %d", name, len(s), want))
		}
	}
	matrix := func(name string, m *model.Matrix, rows, cols int) {
		if err := m.Check(rows, cols); err != nil {
			errs = append(errs, fmt.Errorf("weights: %s %w", name, err))
		}
	}
	norm := func(name string, n model.Norm) {
		vector(name+" gain", n.Gain, d, false)
		vector(name+" bias", n.Bias, d, cfg.Arch.NormKind == model.RMSNorm)
		if cfg.Arch.NormKind == model.RMSNorm && n.Bias != nil {
			errs = append(errs, fmt.Errorf("weights: %s has a bias, but an RMSNorm has none", name))
		}
	}
	matrix("token embedding", w.TokenEmbedding, v, d)
	if cfg.Arch.Positions == model.LearnedPositions {
		vector("position embedding", w.PositionEmbedding, cfg.NPositions*d, false)
	}
	if cfg.Arch.FinalNorm {
		norm("final norm", w.FinalNorm)
	}
	if !cfg.Arch.TiedEmbeddings {
		matrix("output", w.Output, v, d)
	}
	if len(w.Layers) != cfg.NLayer {
		return fmt.Errorf("weights: %d layers, config says %d", len(w.Layers), cfg.NLayer)
	}
	// GPT-2's biases are all there; a Llama's only where the checkpoint has them.
	optional := cfg.Arch.MLP == model.SwiGLUMLP
	for i := range w.Layers {
		l := &w.Layers[i]
		p := fmt.Sprintf("layer %d ", i)
		norm(p+"attention norm", l.AttnNorm)
		matrix(p+"query", l.Q, qd, d)
		matrix(p+"key", l.K, kvd, d)
		matrix(p+"value", l.V, kvd, d)
		matrix(p+"attention output", l.O, d, qd)
		vector(p+"query bias", l.QBias, qd, optional)
		vector(p+"key bias", l.KBias, kvd, optional)
		vector(p+"value bias", l.VBias, kvd, optional)
		vector(p+"attention output bias", l.OBias, d, optional)
		norm(p+"mlp norm", l.MLPNorm)
		if cfg.Arch.MLP == model.SwiGLUMLP {
			matrix(p+"gate", l.Gate, ff, d)
			vector(p+"gate bias", l.GateBias, ff, true)
		} else if l.Gate != nil {
			errs = append(errs, fmt.Errorf("weights: %s has a gate matrix, but a GELU MLP has none", p))
		}
		matrix(p+"up", l.Up, ff, d)
		matrix(p+"down", l.Down, d, ff)
		vector(p+"up bias", l.UpBias, ff, optional)
		vector(p+"down bias", l.DownBias, d, optional)
	}
	return errors.Join(errs...)
}

// checkPositions rejects a position kind the forward pass cannot run.
func checkPositions(cfg model.Config) error {
	switch cfg.Arch.Positions {
	case model.LearnedPositions, model.SinusoidalPositions:
		return nil
	case model.RoPE:
		if f := cfg.RoPEScaling.Divisors; f != nil && len(f) != cfg.RotaryDims()/2 {
			return fmt.Errorf("RoPE: %d frequency divisors for %d rotary pairs", len(f), cfg.RotaryDims()/2)
		}
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
