package runtime

import (
	"context"
	"math"
	goruntime "runtime"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ropeVariants = []string{"rope-neox", "rope-gptj", "llama-gqa2", "llama3-rope", "llama-gqa4-head-dim"}

// TestRoPESlidingMatchesReference: a RoPE session smaller than the sequence
// slides. The query at position t must attend to exactly the first keep
// positions and the last capacity−keep ones up to t, as a reference that
// enumerates those positions computes, through 1, 2 and 10 wraps of the
// ring. One prompt chunk crosses the wrap, longer than the ring's free
// space.
func TestRoPESlidingMatchesReference(t *testing.T) {
	skipUnderRace(t)
	const capacity = 8
	forEachISA(t, func(t *testing.T) {
		for _, name := range ropeVariants {
			m := newTestModel(t, variants[name], 21)
			for _, keep := range []int{0, 2} {
				for _, batch := range []int{256, 3} {
					window := capacity - keep
					ids := randomIDs(6, capacity+10*window, m.cfg.VocabSize)
					want := refLogitsAttending(m.cfg, weightsOf(t, m), ids, func(t, j int) bool {
						return j <= t && (j < keep || j > t-window)
					})
					s, err := m.NewSession(SessionOptions{Capacity: capacity, Keep: keep, Batch: batch})
					require.NoError(t, err)
					logits, err := s.Prefill(ids[:5])
					require.NoError(t, err)
					require.Less(t, testkit.RelL2(logits, want[4]), logitsTol)
					const chunk = 11 // crosses the first wrap at position capacity
					logits, err = s.Prefill(ids[5 : 5+chunk])
					require.NoError(t, err)
					require.Less(t, testkit.RelL2(logits, want[5+chunk-1]), logitsTol, "%s keep %d batch %d: the chunk across the wrap", name, keep, batch)
					for p := 5 + chunk; p < len(ids); p++ {
						logits, err = s.Decode(ids[p])
						require.NoError(t, err)
						if e := testkit.RelL2(logits, want[p]); e > logitsTol {
							t.Fatalf("%s keep %d batch %d: position %d (%d wraps): relative error %.3g", name, keep, batch, p, (p-keep)/window, e)
						}
					}
					assert.Equal(t, 10, (len(ids)-1-keep)/window, "the last position is on the ring's 10th wrap: every wrap up to it was checked")
				}
			}
		}
	})
}

// TestRoPESlidingDiffersFromFullAttention: past the capacity the window
// really drops positions, or the test above could not see a window that
// never slides.
func TestRoPESlidingDiffersFromFullAttention(t *testing.T) {
	m := newTestModel(t, variants["rope-neox"], 21)
	ids := randomIDs(6, 20, m.cfg.VocabSize)
	full := refLogits(m.cfg, weightsOf(t, m), ids)[19]
	slid := refLogitsAttending(m.cfg, weightsOf(t, m), ids, func(t, j int) bool { return j <= t && (j < 2 || j > t-6) })[19]
	var diff float64
	for i := range full {
		diff = max(diff, full[i]-slid[i], slid[i]-full[i])
	}
	assert.Greater(t, diff, 0.1)
}

// shiftedTokens is what a session with ContextShift holds after each token
// of ids: when capacity tokens are held and one more comes, the first keep
// stay, the (held−keep)/2 after them go, and the rest stay.
func shiftedTokens(ids []int, capacity, keep int) [][]int {
	var held []int
	var out [][]int
	for _, id := range ids {
		if len(held) == capacity {
			discard := (capacity - keep) / 2
			held = append(append([]int{}, held[:keep]...), held[keep+discard:]...)
		}
		held = append(held, id)
		out = append(out, append([]int{}, held...))
	}
	return out
}

// TestContextShift: with absolute positions and ContextShift, a full
// session keeps going; after every shift its logits are those of a fresh
// session fed the kept tokens (bit for bit) and of the float64 reference
// over them.
func TestContextShift(t *testing.T) {
	skipUnderRace(t)
	const capacity, keep = 16, 3
	forEachISA(t, func(t *testing.T) {
		for _, name := range []string{"gpt2", "sinusoidal"} {
			m := newTestModel(t, variants[name], 31)
			for _, batch := range []int{256, 4} {
				ids := randomIDs(8, 60, m.cfg.VocabSize)
				held := shiftedTokens(ids, capacity, keep)
				s, err := m.NewSession(SessionOptions{Capacity: capacity, Keep: keep, ContextShift: true, Batch: batch})
				require.NoError(t, err)
				fresh, err := m.NewSession(SessionOptions{Capacity: capacity, Batch: batch})
				require.NoError(t, err)
				_, err = s.Prefill(ids[:10])
				require.NoError(t, err)
				shifts := 0
				for p := 10; p < len(ids); p++ {
					logits, err := s.Decode(ids[p])
					require.NoError(t, err)
					if len(held[p]) > len(held[p-1]) {
						continue // no shift at this step
					}
					shifts++
					assert.Equal(t, len(held[p]), s.Pos(), "%s: tokens held after the shift at %d", name, p)
					fresh.Reset()
					_, err = fresh.Prefill(held[p][:len(held[p])-1])
					require.NoError(t, err)
					want, err := fresh.Decode(ids[p])
					require.NoError(t, err)
					require.Equal(t, want, logits, "%s batch %d: logits after the shift at token %d", name, batch, p)
					ref := refLogits(m.cfg, weightsOf(t, m), held[p])
					require.Less(t, testkit.RelL2(logits, ref[len(ref)-1]), logitsTol)
				}
				assert.Equal(t, 8, shifts, "60 tokens through 16 slots: the first shift at token 16, then every 6 (3 kept, 6 dropped, 7 recent kept)")
			}
		}
	})
}

// TestPositionLimits: what each position kind does at the end of its
// session's capacity.
func TestPositionLimits(t *testing.T) {
	ctx := context.Background()
	generate := func(s *Session, n int) (int, error) {
		var got int
		for _, err := range s.Generate(ctx, randomIDs(3, 5, 211), GenerateOptions{MaxTokens: n, IgnoreEOS: true}) {
			if err != nil {
				return got, err
			}
			got++
		}
		return got, nil
	}
	for _, name := range []string{"gpt2", "sinusoidal", "rope-neox"} {
		m := newTestModel(t, variants[name], 41)
		s, err := m.NewSession(SessionOptions{Capacity: 16})
		require.NoError(t, err)
		n, err := generate(s, 160)
		if m.cfg.Arch.Positions == model.RoPE {
			require.NoError(t, err, name)
			assert.Equal(t, 160, n, "%s: a RoPE session slides", name)
		} else {
			require.ErrorIs(t, err, ErrContextFull, name)
			assert.ErrorContains(t, err, "holds 16 positions", name)
			assert.ErrorContains(t, err, "no context shift", name)
			assert.Equal(t, 12, n, "%s: 5 prompt tokens + 11 decoded fill 16 positions, and the 12th is sampled", name)
		}

		s, err = m.NewSession(SessionOptions{Capacity: 16, Keep: 4, ContextShift: true})
		require.NoError(t, err)
		n, err = generate(s, 160)
		require.NoError(t, err, name)
		assert.Equal(t, 160, n, name)
		if m.cfg.Arch.Positions != model.RoPE {
			assert.Positive(t, s.Stats().ContextShifts, name)
		}
	}

	// A prompt longer than the context is shifted through as well.
	m := newTestModel(t, variants["gpt2"], 41)
	s, err := m.NewSession(SessionOptions{Capacity: 16, ContextShift: true, Batch: 5})
	require.NoError(t, err)
	ids := randomIDs(9, 40, 211)
	logits, err := s.Prefill(ids)
	require.NoError(t, err)
	held := shiftedTokens(ids, 16, 0)
	want := refLogits(m.cfg, weightsOf(t, m), held[len(ids)-1])
	assert.Less(t, testkit.RelL2(logits, want[len(want)-1]), logitsTol)

	// Scoring never shifts: with absolute positions a text must fit.
	_, err = s.Score(context.Background(), ids)
	assert.ErrorIs(t, err, ErrContextFull)
	assert.ErrorContains(t, err, "holds 16 positions")
	// With RoPE it is scored through the window.
	rm := newTestModel(t, variants["rope-gptj"], 41)
	rs, err := rm.NewSession(SessionOptions{Capacity: 16, Keep: 2, Batch: 7})
	require.NoError(t, err)
	sc, err := rs.Score(context.Background(), ids)
	require.NoError(t, err)
	ref := refLogitsAttending(rm.cfg, weightsOf(t, rm), ids, func(t, j int) bool { return j <= t && (j < 2 || j > t-14) })
	var ll float64
	for p := 0; p+1 < len(ids); p++ {
		ll += refLogprob(ref[p], ids[p+1])
	}
	assert.InDelta(t, ll, sc.LogLikelihood, 1e-4*math.Abs(ll))

	_, err = m.NewSession(SessionOptions{Capacity: 16, Keep: 15, ContextShift: true})
	assert.ErrorContains(t, err, "session keep 15: want 0..14")
	_, err = m.NewSession(SessionOptions{Capacity: 1, ContextShift: true})
	assert.ErrorContains(t, err, "session capacity 1: a context shift needs at least 2 positions")
	_, err = m.NewSession(SessionOptions{Capacity: 16, Keep: 16})
	assert.ErrorContains(t, err, "session keep 16: want 0..15")
	// Sinusoidal and RoPE sessions may be longer than n_positions.
	for _, name := range []string{"sinusoidal", "rope-gptj"} {
		_, err = newTestModel(t, variants[name], 1).NewSession(SessionOptions{Capacity: 100})
		assert.NoError(t, err, name)
	}
}

// TestLongGenerationFixedMemory: decoding ten times the capacity, through
// the ring's wraps (RoPE) or context shifts (learned positions), allocates
// nothing and leaves the heap as it was.
func TestLongGenerationFixedMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("skipping under -race: the race detector empties sync.Pool on purpose, so pooled GEMM buffers are reallocated")
	}
	for _, name := range []string{"rope-neox", "gpt2"} {
		m := newTestModel(t, variants[name], 51)
		s, err := m.NewSession(SessionOptions{Capacity: 16, Keep: 2, ContextShift: true})
		require.NoError(t, err)
		_, err = s.Prefill([]int{1, 2, 3})
		require.NoError(t, err)
		decode := func() {
			for i := range 160 {
				if _, err := s.Decode(i % 211); err != nil {
					panic(err)
				}
			}
		}
		decode() // warm up
		var before, after goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		allocs := testing.AllocsPerRun(3, decode)
		goruntime.GC()
		goruntime.ReadMemStats(&after)
		assert.Zero(t, allocs, "%s: allocations in 160 decode steps", name)
		assert.Less(t, int64(after.HeapInuse)-int64(before.HeapInuse), int64(64<<10), "%s: heap growth over 640 steps", name)
	}
}

// TestDefaultCapacity: a RoPE model's default session holds at most
// model.DefaultContext positions however long its trained context (Llama
// 3.2's 128k would be gigabytes of KV cache per session), more when asked;
// a sliding-window model never holds more than its window, and refuses
// attention sinks that would see past it.
func TestDefaultCapacity(t *testing.T) {
	cfg := variants["llama-gqa2"]
	cfg.NPositions = 131072
	m := newTestModel(t, cfg, 1)
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	assert.Equal(t, model.DefaultContext, s.cache.capacity)
	assert.Equal(t, cfg.KVDim(), s.cache.width, "a slot holds n_kv_head·head_dim keys (and values), not n_head·head_dim")
	assert.Len(t, s.cache.k[0], cfg.KVDim()*model.DefaultContext)
	s, err = m.NewSession(SessionOptions{Capacity: 10000})
	require.NoError(t, err)
	assert.Equal(t, 10000, s.cache.capacity)

	w := newTestModel(t, variants["mistral-window"], 1)
	s, err = w.NewSession(SessionOptions{Capacity: 40})
	require.NoError(t, err)
	assert.Equal(t, 11, s.cache.capacity)
	_, err = w.NewSession(SessionOptions{Keep: 2})
	assert.ErrorContains(t, err, "keep 2: the model attends a sliding window of 11 positions")
	_, err = w.NewBatch(BatchOptions{Keep: 2})
	assert.ErrorContains(t, err, "sliding window")
}
