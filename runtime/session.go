package runtime

import (
	"fmt"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/quant"
)

// SessionOptions configure NewSession. The zero value is a session as long
// as the model's context, prefilling up to 256 tokens per batched pass.
type SessionOptions struct {
	// Capacity is the number of positions the KV cache holds (the default
	// and the maximum, for learned positions, is the model's n_positions).
	Capacity int
	// Batch is the most tokens one forward pass takes; longer prompts are
	// prefilled in chunks of this size. Larger batches make prefill a
	// bigger GEMM and cost Batch·(4·d + d_ff)·4 bytes of activations.
	Batch int
}

// Session is one sequence being generated or scored: its KV cache, its
// position, and every buffer the forward pass and the sampler touch,
// allocated once here.
type Session struct {
	m     *Model
	cache *KVCache
	pos   int // tokens processed so far
	batch int // the most tokens one forward pass takes
	rows  int // tokens the last forward pass ran: their hidden states are in h

	// Activations for up to batch tokens, row-major [token][feature].
	x, h, att, proj []float32      // [batch][d]
	qkv             []float32      // [batch][3d]
	ff              []float32      // [batch][d_ff]
	scores          []float32      // [capacity]: one query's attention weights
	logits          []float32      // [vocab]
	q8              *quant.Scratch // an activation row quantized for int8 matrices
	sampler         sampler
	stats           Stats
}

// NewSession allocates a session on m.
func (m *Model) NewSession(opts SessionOptions) (*Session, error) {
	c := m.cfg
	capacity := opts.Capacity
	if capacity == 0 {
		capacity = c.NPositions
	}
	if capacity < 1 || (c.Arch.Positions == model.LearnedPositions && capacity > c.NPositions) {
		return nil, fmt.Errorf("session capacity %d: want 1..%d (the model's learned positions)", capacity, c.NPositions)
	}
	batch := opts.Batch
	if batch == 0 {
		batch = 256
	}
	batch = max(1, min(batch, capacity))
	d := c.NEmbd
	s := &Session{
		m:      m,
		cache:  newKVCache(c.NLayer, capacity, d),
		batch:  batch,
		x:      make([]float32, batch*d),
		h:      make([]float32, batch*d),
		att:    make([]float32, batch*d),
		proj:   make([]float32, batch*d),
		qkv:    make([]float32, batch*3*d),
		ff:     make([]float32, batch*c.NInner),
		scores: make([]float32, capacity),
		logits: make([]float32, c.VocabSize),
		q8:     quant.NewScratch(max(d, c.NInner)),
	}
	s.sampler.init(c.VocabSize)
	return s, nil
}

// Pos is the number of tokens the session has processed.
func (s *Session) Pos() int { return s.pos }

// Reset empties the session for a new sequence, keeping its memory.
func (s *Session) Reset() { s.pos = 0 }

// limit is the number of positions this session can process in total.
func (s *Session) limit() int { return min(s.cache.capacity, s.m.cfg.NPositions) }

// Prefill runs ids through the model after what the session already holds,
// in batched passes, and returns the logits that predict the next token. The
// slice is the session's own and is overwritten by the next call.
func (s *Session) Prefill(ids []int) ([]float32, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("prefill: no tokens")
	}
	if err := s.admit(ids); err != nil {
		return nil, err
	}
	for start := 0; start < len(ids); start += s.batch {
		s.forward(ids[start:min(start+s.batch, len(ids))])
	}
	s.lastLogits()
	return s.logits, nil
}

// Decode runs one token and returns the logits that predict the next.
func (s *Session) Decode(id int) ([]float32, error) {
	one := [1]int{id}
	if err := s.admit(one[:]); err != nil {
		return nil, err
	}
	s.forward(one[:])
	s.lastLogits()
	return s.logits, nil
}

// admit checks that ids are in the vocabulary and fit in the context, so
// the forward pass never indexes out of range.
func (s *Session) admit(ids []int) error {
	for i, id := range ids {
		if id < 0 || id >= s.m.cfg.VocabSize {
			return fmt.Errorf("token %d is %d, vocabulary has %d: %w", i, id, s.m.cfg.VocabSize, ErrBadToken)
		}
	}
	if s.pos+len(ids) > s.limit() {
		return fmt.Errorf("%d tokens after %d: the context holds %d positions: %w", len(ids), s.pos, s.limit(), ErrContextFull)
	}
	return nil
}
