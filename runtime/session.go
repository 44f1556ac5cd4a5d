package runtime

import (
	"fmt"
	"math"

	"github.com/goformer/goformer/model"
)

// SessionOptions configure NewSession. The zero value is a session as long
// as the model's context, prefilling up to 256 tokens per batched pass.
type SessionOptions struct {
	// Capacity is the number of positions the KV cache holds: the default
	// is the model's n_positions, which is also the maximum for learned
	// positions. Memory is fixed at Capacity whatever the sequence length.
	Capacity int
	// Batch is the most tokens one forward pass takes; longer prompts are
	// prefilled in chunks of this size. Larger batches make prefill a
	// bigger GEMM and cost Batch·(4·d + d_ff)·4 bytes of activations.
	Batch int
	// Keep is the number of first tokens a full session never drops
	// (n_keep): with RoPE they stay in the cache as attention sinks while
	// the rest of it slides; with ContextShift they survive every shift.
	Keep int
	// ContextShift lets a session with absolute positions (learned or
	// sinusoidal) go on when it is full: it keeps the first Keep tokens and
	// the most recent half of the others, runs them again at positions
	// 0, 1, ... and continues. Without it a full session fails with
	// ErrContextFull. RoPE sessions never fill: their cache slides.
	ContextShift bool
}

// Session is one sequence being generated or scored: its KV cache, its
// position, and every buffer the forward pass and the sampler touch,
// allocated once here.
type Session struct {
	sequence
	pass
	batch int   // the most tokens one forward pass takes
	shift bool  // SessionOptions.ContextShift
	kept  []int // [capacity]: the tokens a shift runs again

	logits  []float32 // [vocab]
	sampler sampler
	stats   Stats
}

// NewSession allocates a session on m.
func (m *Model) NewSession(opts SessionOptions) (*Session, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	c := m.cfg
	capacity, err := m.capacity(opts.Capacity)
	if err != nil {
		return nil, err
	}
	// The ring keeps at least one recent slot; a shift drops at least one token.
	maxKeep := capacity - 1
	if opts.ContextShift {
		if capacity < 2 {
			return nil, fmt.Errorf("session capacity %d: a context shift needs at least 2 positions", capacity)
		}
		maxKeep = capacity - 2
	}
	if opts.Keep < 0 || opts.Keep > maxKeep {
		return nil, fmt.Errorf("session keep %d: want 0..%d with capacity %d", opts.Keep, maxKeep, capacity)
	}
	if err := m.checkSinks(opts.Keep); err != nil {
		return nil, err
	}
	batch := opts.Batch
	if batch == 0 {
		batch = 256
	}
	batch = max(1, min(batch, capacity))
	s := &Session{
		sequence: newSequence(&c, capacity, opts.Keep),
		batch:    batch,
		shift:    opts.ContextShift,
		kept:     make([]int, capacity),
		logits:   make([]float32, c.VocabSize),
	}
	s.pass.init(m, batch, capacity)
	s.reserveHead(1)
	s.sampler.init(c.VocabSize)
	return s, nil
}

// capacity is the number of positions a sequence's cache holds when the
// options ask for n: 0 is the model's n_positions, at most
// model.DefaultContext for RoPE, whose trained context can be far longer
// than a session needs; a sliding-window model keeps no more than its
// window, which the ring then slides over.
func (m *Model) capacity(n int) (int, error) {
	c := &m.cfg
	if n == 0 {
		n = c.NPositions
		if c.Arch.Positions == model.RoPE {
			n = min(n, model.DefaultContext)
		}
	}
	if c.SlidingWindow > 0 && n > c.SlidingWindow {
		n = c.SlidingWindow
	}
	if n < 1 || (c.Arch.Positions == model.LearnedPositions && n > c.NPositions) {
		max := "any"
		if c.Arch.Positions == model.LearnedPositions {
			max = fmt.Sprintf("%d (the model's learned positions)", c.NPositions)
		}
		return 0, fmt.Errorf("session capacity %d: want 1..%s", n, max)
	}
	return n, nil
}

// checkSinks refuses attention sinks on a sliding-window model: they would
// make it attend positions its window excludes.
func (m *Model) checkSinks(keep int) error {
	if keep > 0 && m.cfg.SlidingWindow > 0 {
		return fmt.Errorf("keep %d: the model attends a sliding window of %d positions, which attention sinks would change", keep, m.cfg.SlidingWindow)
	}
	return nil
}

// Pos is the number of tokens the session has processed.
func (s *Session) Pos() int { return s.pos }

// Room is the number of tokens the session can still take before
// ErrContextFull: math.MaxInt for a session that slides (RoPE) or shifts
// its context. A caller can refuse, or stop reading, a prompt that cannot
// fit before tokenizing all of it.
func (s *Session) Room() int {
	if s.endless() {
		return math.MaxInt
	}
	return s.limit() - s.pos
}

// Reset empties the session for a new sequence, keeping its memory.
func (s *Session) Reset() { s.pos = 0 }

// Rewind keeps the first n tokens the session holds and forgets the rest,
// so that a Generate with Continue goes on from position n: a chat that
// re-renders its conversation prefills only what differs from the tokens
// it already ran. It needs the cache to still hold those positions: once
// a RoPE session has slid (processed more tokens than its capacity), any
// n but 0 and Pos() is ErrEvicted. After a context shift
// (SessionOptions.ContextShift) the first tokens are the ones the shift
// kept (Stats.ContextShifts says when it happened).
func (s *Session) Rewind(n int) error {
	switch {
	case n < 0 || n > s.pos:
		return fmt.Errorf("rewind to %d tokens: the session holds %d", n, s.pos)
	case n != 0 && n != s.pos && s.pos > s.cache.capacity:
		return fmt.Errorf("rewind to %d tokens of %d: the cache holds the last %d: %w", n, s.pos, s.cache.capacity, ErrEvicted)
	}
	s.pos = n
	return nil
}

// limit is the number of positions this session can process before it is
// full: the cache's capacity (no more than the learned positions) for
// absolute positions; none for RoPE, whose cache slides.
func (s *Session) limit() int { return s.m.limit(s.cache) }

// limit is the number of positions a sequence with this cache can process
// before it is full: see Session.limit.
func (m *Model) limit(cache *kvCache) int {
	switch m.cfg.Arch.Positions {
	case model.RoPE:
		return math.MaxInt
	case model.LearnedPositions:
		return min(cache.capacity, m.cfg.NPositions)
	}
	return cache.capacity
}

// endless reports whether the session goes on past its limit: it slides
// (RoPE) or shifts its context.
func (s *Session) endless() bool { return s.shift || s.limit() == math.MaxInt }

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
	s.run(ids)
	s.lastLogits()
	return s.logits, nil
}

// Decode runs one token and returns the logits that predict the next.
func (s *Session) Decode(id int) ([]float32, error) {
	one := [1]int{id}
	if err := s.admit(one[:]); err != nil {
		return nil, err
	}
	s.run(one[:])
	s.lastLogits()
	return s.logits, nil
}

// run feeds admitted ids through the model in forward passes of at most
// s.batch tokens, shifting the context whenever it is full.
func (s *Session) run(ids []int) {
	for len(ids) > 0 {
		room := s.limit() - s.pos
		if room == 0 {
			s.shiftContext()
			continue
		}
		n := min(len(ids), s.batch, room)
		s.forward(ids[:n])
		ids = ids[n:]
	}
}

// admit checks that the model is open and that ids are in the vocabulary
// and fit in the context, so the forward pass never reads a released
// mapping or indexes out of range.
func (s *Session) admit(ids []int) error {
	if err := s.m.checkOpen(); err != nil {
		return err
	}
	if err := s.m.checkTokens(ids); err != nil {
		return err
	}
	if !s.endless() && s.pos+len(ids) > s.limit() {
		return s.full(len(ids))
	}
	return nil
}

// checkTokens reports the first id outside the vocabulary.
func (m *Model) checkTokens(ids []int) error {
	for i, id := range ids {
		if id < 0 || id >= m.cfg.VocabSize {
			return fmt.Errorf("token %d is %d, vocabulary has %d: %w", i, id, m.cfg.VocabSize, ErrBadToken)
		}
	}
	return nil
}

// forward runs ids (at most s.batch) at the session's next positions.
func (s *Session) forward(ids []int) {
	for i := range ids {
		s.rows[i] = tokenRow{seq: &s.sequence, pos: s.pos + i}
	}
	s.pass.forward(ids)
}

// full is the error for n tokens that do not fit.
func (s *Session) full(n int) error {
	return fmt.Errorf("%d tokens after %d: the context holds %d positions (%s positions, no context shift): %w",
		n, s.pos, s.limit(), s.m.cfg.Arch.Positions, ErrContextFull)
}
