package runtime

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newBatchTestModel is smallConfig with room for a 200-token prompt.
func newBatchTestModel(t *testing.T, cfg model.Config, seed uint64) *Model {
	cfg.NPositions = 256
	return newModelFrom(t, cfg, randomWeights(cfg, seed), Options{Embeddings: F32Embeddings})
}

// aloneLogits runs prompt through a fresh session, then decodes forced, and
// returns the logits after the prompt and after each forced token.
func aloneLogits(t *testing.T, m *Model, prompt, forced []int) [][]float32 {
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	logits, err := s.Prefill(prompt)
	require.NoError(t, err)
	out := [][]float32{append([]float32(nil), logits...)}
	for _, id := range forced {
		logits, err = s.Decode(id)
		require.NoError(t, err)
		out = append(out, append([]float32(nil), logits...))
	}
	return out
}

// poisonCaches fills every slot's cache with NaN, so that attending to any
// position a sequence has not written (padding, a previous occupant's keys)
// makes its logits NaN.
func poisonCaches(b *Batch) {
	for i := range b.slots {
		c := b.slots[i].cache
		for l := range c.k {
			for j := range c.k[l] {
				c.k[l][j], c.v[l][j] = float32(math.NaN()), float32(math.NaN())
			}
		}
	}
}

// batchLogits runs the prompts through b together, decoding the forced
// tokens of each (a sequence ends after its own), and returns the logits of
// each sequence at each step, as aloneLogits does.
func batchLogits(t *testing.T, b *Batch, prompts, forced [][]int) [][][]float32 {
	require.LessOrEqual(t, len(prompts), len(b.slots))
	b.free()
	got := make([][][]float32, len(prompts))
	for i, p := range prompts {
		b.start(i, i, p)
	}
	for b.busy() {
		b.step()
		for k, i := range b.ready {
			q := &b.slots[i]
			got[q.req] = append(got[q.req], append([]float32(nil), b.slotLogits(k)...))
			if q.made == len(forced[q.req]) {
				q.req = -1 // finished: its slot stays empty
				continue
			}
			q.next = forced[q.req][q.made]
			q.made++
		}
	}
	return got
}

func relErr32(got, want []float32) float64 {
	w := make([]float64, len(want))
	for i, v := range want {
		w[i] = float64(v)
	}
	return testkit.RelL2(got, w)
}

func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for at := 0; at <= len(p); at++ {
			q := append(append(append([]int{}, p[:at]...), n-1), p[at:]...)
			out = append(out, q)
		}
	}
	return out
}

// TestBatchLogitsMatchAlone: sequences of 1, 7, 64 and 200 tokens prefilled
// together in every order, then decoded in lockstep for different numbers
// of steps (so some finish while others go on), give at every step the
// logits each gives alone. Rows of 48 split the prompts across passes that
// also carry other sequences' decode rows. The caches start as NaN: a row
// that attended padding or unwritten positions would turn NaN.
//
// The subtests small/VARIANT do the same with three short sequences on the
// tier in use only: what the emulated tiers run (make test-arm64,
// test-haswell, test-purego), where the full sizes would take minutes.
func TestBatchLogitsMatchAlone(t *testing.T) {
	lengths := []int{1, 7, 64, 200}
	steps := []int{6, 1, 9, 3}
	check := func(t *testing.T, m *Model, orders [][]int, rows int) {
		prompts, forced := make([][]int, len(lengths)), make([][]int, len(lengths))
		alone := make([][][]float32, len(lengths))
		for i, n := range lengths {
			prompts[i] = randomIDs(uint64(10+i), n, m.cfg.VocabSize)
			forced[i] = randomIDs(uint64(20+i), steps[i], m.cfg.VocabSize)
			alone[i] = aloneLogits(t, m, prompts[i], forced[i])
		}
		b, err := m.NewBatch(BatchOptions{Sequences: len(lengths), Rows: rows})
		require.NoError(t, err)
		for _, order := range orders {
			ps, fs := make([][]int, len(order)), make([][]int, len(order))
			for k, i := range order {
				ps[k], fs[k] = prompts[i], forced[i]
			}
			poisonCaches(b)
			got := batchLogits(t, b, ps, fs)
			for k, i := range order {
				require.Len(t, got[k], steps[i]+1, "order %v: sequence of %d tokens", order, lengths[i])
				for step := range got[k] {
					e := relErr32(got[k][step], alone[i][step])
					require.LessOrEqual(t, e, logitsTol, "order %v rows %d: sequence of %d tokens, step %d", order, rows, lengths[i], step)
				}
			}
		}
	}
	t.Run("gpt2/every-order", func(t *testing.T) {
		orders := permutations(len(lengths))
		if raceEnabled { // the goroutines of a pass do not depend on its order
			orders = orders[:3]
		}
		forEachISA(t, func(t *testing.T) {
			check(t, newBatchTestModel(t, variants["gpt2"], 3), orders, 48)
		})
	})
	for name, cfg := range testVariants() {
		t.Run(name, func(t *testing.T) {
			m := newBatchTestModel(t, cfg, 3)
			check(t, m, [][]int{{3, 0, 2, 1}}, 48)
			check(t, m, [][]int{{1, 3, 0, 2}}, 256)
		})
	}
	// Rows of 8 still split the 13-token prompt across passes that carry
	// the others' decode rows.
	lengths, steps = []int{1, 5, 13}, []int{3, 1, 2}
	for name, cfg := range testVariants() {
		t.Run("small/"+name, func(t *testing.T) {
			check(t, newBatchTestModel(t, cfg, 3), [][]int{{2, 0, 1}}, 8)
		})
	}
}

// TestBatchNeighboursChangeNothing: a sequence's logits are bit for bit the
// same whatever its neighbours hold.
func TestBatchNeighboursChangeNothing(t *testing.T) {
	m := newBatchTestModel(t, variants["gpt2"], 5)
	b, err := m.NewBatch(BatchOptions{Sequences: 3, Rows: 40})
	require.NoError(t, err)
	target, forced := randomIDs(1, 30, m.cfg.VocabSize), randomIDs(2, 5, m.cfg.VocabSize)
	var first [][]float32
	for seed := range uint64(3) {
		ps := [][]int{randomIDs(100+seed, 50, m.cfg.VocabSize), target, randomIDs(200+seed, 11, m.cfg.VocabSize)}
		fs := [][]int{randomIDs(300+seed, 7, m.cfg.VocabSize), forced, randomIDs(400+seed, 2, m.cfg.VocabSize)}
		got := batchLogits(t, b, ps, fs)[1]
		if first == nil {
			first = got
			continue
		}
		assert.Equal(t, first, got, "neighbours of seed %d", seed)
	}
}

// TestBatchMaskPlantedNeighbour: a neighbour whose tokens, if attended,
// would change the target's logits far beyond the tolerance (the float64
// reference of the neighbour followed by the target shows by how much), and
// the batch still gives the target's logits alone.
func TestBatchMaskPlantedNeighbour(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		for _, name := range []string{"gpt2", "rope-neox"} {
			m := newBatchTestModel(t, variants[name], 8)
			target := randomIDs(1, 12, m.cfg.VocabSize)
			neighbour := randomIDs(2, 40, m.cfg.VocabSize)
			want := refLogits(m.cfg, weightsOf(t, m), target)[len(target)-1]

			// What the target would see attending the neighbour: the
			// neighbour's tokens before its own.
			joined := append(append([]int{}, neighbour...), target...)
			leaked := refLogitsAttending(m.cfg, weightsOf(t, m), joined, func(t, j int) bool { return j <= t })[len(joined)-1]
			var diff float64
			for i := range want {
				diff = math.Max(diff, math.Abs(leaked[i]-want[i]))
			}
			require.Greater(t, diff, 0.1, "%s: the planted neighbour must matter", name)

			// The neighbour first in the rows, then the target; and the
			// target decoding while the neighbour is still prefilling.
			for _, rows := range []int{64, 8} {
				b, err := m.NewBatch(BatchOptions{Sequences: 2, Rows: rows})
				require.NoError(t, err)
				poisonCaches(b)
				got := batchLogits(t, b, [][]int{neighbour, target[:len(target)-1]}, [][]int{nil, target[len(target)-1:]})
				assert.Less(t, testkit.RelL2(got[1][1], want), logitsTol, "%s rows %d", name, rows)
			}
		}
	})
}

// genAlone is what Session.Generate yields for one request.
func genAlone(t *testing.T, m *Model, req BatchRequest) ([]Token, error) {
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	var toks []Token
	for tok, err := range s.Generate(context.Background(), req.Prompt, req.GenerateOptions) {
		if err != nil {
			return toks, err
		}
		tok.TopLogprobs = append([]TokenLogprob(nil), tok.TopLogprobs...)
		toks = append(toks, tok)
	}
	return toks, nil
}

// genBatch runs reqs through b and collects each request's tokens and end.
func genBatch(t *testing.T, b *Batch, reqs []BatchRequest) ([][]Token, []error) {
	toks, errs := make([][]Token, len(reqs)), make([]error, len(reqs))
	done := make([]bool, len(reqs))
	for ev, err := range b.Generate(context.Background(), reqs) {
		require.NoError(t, err)
		require.False(t, done[ev.Seq], "event after the end of %d", ev.Seq)
		if ev.Done {
			done[ev.Seq], errs[ev.Seq] = true, ev.Err
			continue
		}
		ev.Token.TopLogprobs = append([]TokenLogprob(nil), ev.Token.TopLogprobs...)
		toks[ev.Seq] = append(toks[ev.Seq], ev.Token)
	}
	for i := range done {
		assert.True(t, done[i], "request %d never ended", i)
	}
	return toks, errs
}

func assertSameTokens(t *testing.T, want, got []Token, msg string) {
	require.Len(t, got, len(want), msg)
	for i := range want {
		require.Equal(t, want[i].ID, got[i].ID, "%s: token %d", msg, i)
		assert.InDelta(t, want[i].Logprob, got[i].Logprob, 1e-4, "%s: token %d", msg, i)
		require.Len(t, got[i].TopLogprobs, len(want[i].TopLogprobs))
		for j := range want[i].TopLogprobs {
			assert.Equal(t, want[i].TopLogprobs[j].ID, got[i].TopLogprobs[j].ID)
		}
	}
}

// TestBatchGenerateMatchesSessions: more requests than slots, greedy and
// sampled, some stopping at EOS or early, some failing at once: each
// sequence yields what Session.Generate yields alone, and the failures
// leave the others whole.
func TestBatchGenerateMatchesSessions(t *testing.T) {
	for _, name := range []string{"gpt2", "rope-gptj"} {
		m := newBatchTestModel(t, variants[name], 13)
		v := m.cfg.VocabSize
		sampled := SampleOptions{Temperature: 0.9, TopK: 30, TopP: 0.95}
		var reqs []BatchRequest
		for i := range 9 {
			opts := GenerateOptions{MaxTokens: 3 + 5*(i%3), IgnoreEOS: i%2 == 0, TopLogprobs: i % 3}
			if i%2 == 1 {
				opts.SampleOptions = sampled
				opts.Seed = uint64(i)
			}
			if i%4 == 3 {
				opts.MinP, opts.RepetitionPenalty, opts.PresencePenalty, opts.FrequencyPenalty = 0.05, 1.2, 0.4, 0.3
			}
			reqs = append(reqs, BatchRequest{Prompt: randomIDs(uint64(i), 1+17*i%50, v), GenerateOptions: opts})
		}
		// A greedy request that stops at the end-of-text token, found by
		// trying prompts.
		eos := -1
		for seed := range uint64(500) {
			req := BatchRequest{Prompt: randomIDs(1000+seed, 4, v), GenerateOptions: GenerateOptions{MaxTokens: 40}}
			if toks, err := genAlone(t, m, req); err == nil && len(toks) < 40 {
				reqs = append(reqs, req)
				eos = len(reqs) - 1
				break
			}
		}
		require.GreaterOrEqual(t, eos, 0, "no prompt whose greedy continuation ends at EOS")
		bad := map[int]error{}
		reqs = append(reqs, BatchRequest{Prompt: nil, GenerateOptions: GenerateOptions{MaxTokens: 2}})
		// An empty prompt starts from BOS, as alone.
		reqs = append(reqs, BatchRequest{Prompt: randomIDs(7, 300, v), GenerateOptions: GenerateOptions{MaxTokens: 2}})
		if m.limit(newKVCache(1, 256, 0, 1)) != math.MaxInt {
			bad[len(reqs)-1] = ErrContextFull
		}
		reqs = append(reqs, BatchRequest{Prompt: []int{1, v}, GenerateOptions: GenerateOptions{MaxTokens: 2}})
		bad[len(reqs)-1] = ErrBadToken
		// Generation into the end of the learned positions: ErrContextFull
		// after 6 tokens, as alone.
		reqs = append(reqs, BatchRequest{Prompt: randomIDs(9, 250, v), GenerateOptions: GenerateOptions{MaxTokens: 20, IgnoreEOS: true}})

		for _, slots := range []int{1, 3, 16} {
			b, err := m.NewBatch(BatchOptions{Sequences: slots, Rows: max(slots, 32)})
			require.NoError(t, err)
			poisonCaches(b)
			got, errs := genBatch(t, b, reqs)
			for i, req := range reqs {
				msg := fmt.Sprintf("%s, %d slots, request %d", name, slots, i)
				if want, ok := bad[i]; ok {
					assert.ErrorIs(t, errs[i], want, msg)
					assert.Empty(t, got[i], msg)
					continue
				}
				want, wantErr := genAlone(t, m, req)
				assertSameTokens(t, want, got[i], msg)
				if wantErr != nil {
					require.ErrorIs(t, wantErr, ErrContextFull)
					assert.ErrorIs(t, errs[i], ErrContextFull, msg)
				} else {
					assert.NoError(t, errs[i], msg)
				}
			}
		}
	}
}

// TestBatchScoreMatchesSessions: texts scored together equal Session.Score
// alone; bad texts get their error and leave the others whole.
func TestBatchScoreMatchesSessions(t *testing.T) {
	m := newBatchTestModel(t, variants["gpt2"], 17)
	v := m.cfg.VocabSize
	texts := [][]int{randomIDs(1, 40, v), {3}, randomIDs(2, 2, v), randomIDs(3, 256, v), randomIDs(4, 257, v), {1, -1}, randomIDs(5, 77, v)}
	b, err := m.NewBatch(BatchOptions{Sequences: 3, Rows: 64})
	require.NoError(t, err)
	poisonCaches(b)
	res, err := b.Score(context.Background(), texts)
	require.NoError(t, err)
	require.Len(t, res, len(texts))
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	for i, ids := range texts {
		want, wantErr := s.Score(context.Background(), ids)
		if wantErr != nil {
			assert.Error(t, res[i].Err, "text %d", i)
			continue
		}
		require.NoError(t, res[i].Err, "text %d", i)
		assert.Equal(t, want.Tokens, res[i].Tokens)
		assert.InDelta(t, want.LogLikelihood, res[i].LogLikelihood, 1e-5*math.Abs(want.LogLikelihood), "text %d", i)
		assert.InDelta(t, want.Perplexity, res[i].Perplexity, 1e-5*want.Perplexity, "text %d", i)
	}
	assert.ErrorIs(t, res[4].Err, ErrContextFull)
	assert.ErrorIs(t, res[5].Err, ErrBadToken)
}

// TestBatchDecodeAllocatesNothing: a decode pass of four sequences, logits
// and sampling included.
func TestBatchDecodeAllocatesNothing(t *testing.T) {
	for _, name := range []string{"gpt2", "llama-gqa2"} {
		t.Run(name, func(t *testing.T) { testBatchDecodeAllocatesNothing(t, variants[name]) })
	}
}

func testBatchDecodeAllocatesNothing(t *testing.T, cfg model.Config) {
	m := newBatchTestModel(t, cfg, 1)
	b, err := m.NewBatch(BatchOptions{Sequences: 4})
	require.NoError(t, err)
	for i := range b.slots {
		b.start(i, i, randomIDs(uint64(i), 5+i, m.cfg.VocabSize))
	}
	b.step()
	opts := GenerateOptions{TopLogprobs: 3, SampleOptions: SampleOptions{Temperature: 0.8, TopK: 10}}
	allocs := testing.AllocsPerRun(20, func() {
		for i := range b.slots {
			b.slots[i].pos = 8
			b.slots[i].next = 9
		}
		b.step()
		for k, i := range b.ready {
			b.slots[i].sampler.token(m.sampleable(b.slotLogits(k)), &opts)
		}
	})
	assert.Len(t, b.ready, 4)
	if !raceEnabled {
		assert.Zero(t, allocs)
	}
}

func TestBatchOptions(t *testing.T) {
	m := newTestModel(t, variants["gpt2"], 1)
	_, err := m.NewBatch(BatchOptions{Sequences: 8, Rows: 4})
	assert.ErrorContains(t, err, "rows 4")
	_, err = m.NewBatch(BatchOptions{Capacity: 49})
	assert.ErrorContains(t, err, "capacity 49")
	_, err = m.NewBatch(BatchOptions{Sequences: -1})
	assert.Error(t, err)
}

// TestNegativeMaxTokens: MaxTokens < 0 is an error naming the field, the
// same in a session and in a batch, where it fails that request alone.
func TestNegativeMaxTokens(t *testing.T) {
	m := newBatchTestModel(t, variants["gpt2"], 1)
	opts := GenerateOptions{MaxTokens: -1, IgnoreEOS: true}
	toks, err := genAlone(t, m, BatchRequest{Prompt: []int{1, 2}, GenerateOptions: opts})
	assert.Empty(t, toks)
	require.ErrorIs(t, err, ErrBadOptions)
	assert.Contains(t, err.Error(), "MaxTokens is -1")

	b, err := m.NewBatch(BatchOptions{Sequences: 2})
	require.NoError(t, err)
	ok := GenerateOptions{MaxTokens: 3, IgnoreEOS: true}
	got, errs := genBatch(t, b, []BatchRequest{{Prompt: []int{1, 2}, GenerateOptions: opts}, {Prompt: []int{3}, GenerateOptions: ok}})
	assert.Empty(t, got[0])
	require.ErrorIs(t, errs[0], ErrBadOptions)
	assert.Contains(t, errs[0].Error(), "MaxTokens is -1")
	assert.NoError(t, errs[1])
	assert.Len(t, got[1], 3)
}

// TestBatchJoinStepLeave: sequences that join while others run, and one
// that leaves halfway, through Join, Step and Leave: every sequence that
// runs to its end yields what it yields alone, a left slot takes the next
// sequence, a full batch and a bad request take no slot, and a decode Step
// allocates nothing.
func TestBatchJoinStepLeave(t *testing.T) {
	m := newBatchTestModel(t, variants["gpt2"], 41)
	v := m.cfg.VocabSize
	opts := GenerateOptions{MaxTokens: 12, IgnoreEOS: true, TopLogprobs: 2}
	sampled := opts
	sampled.SampleOptions = SampleOptions{Temperature: 0.8, TopK: 20, Seed: 9, RepetitionPenalty: 1.3}
	reqs := []BatchRequest{
		{Prompt: randomIDs(1, 70, v), GenerateOptions: opts},
		{Prompt: randomIDs(2, 5, v), GenerateOptions: sampled},
		{Prompt: randomIDs(3, 30, v), GenerateOptions: opts}, // leaves after 4 tokens
		{Prompt: randomIDs(4, 9, v), GenerateOptions: opts},
	}
	b, err := m.NewBatch(BatchOptions{Sequences: 2, Rows: 32})
	require.NoError(t, err)
	poisonCaches(b)
	events, err := b.Step()
	require.NoError(t, err)
	assert.Empty(t, events, "nothing in flight")

	got := make([][]Token, len(reqs))
	ended := make([]bool, len(reqs))
	owner := map[int]int{} // slot → request
	join := func(r int) {
		slot, err := b.Join(reqs[r])
		require.NoError(t, err)
		_, taken := owner[slot]
		require.False(t, taken, "slot %d given twice", slot)
		owner[slot] = r
	}
	join(0)
	join(2)
	_, err = b.Join(reqs[1])
	require.ErrorIs(t, err, ErrBatchFull)
	_, err = b.Join(BatchRequest{Prompt: []int{v}})
	require.ErrorIs(t, err, ErrBadToken)
	next := []int{1, 3}
	for steps := 0; len(owner) > 0 || len(next) > 0; steps++ {
		require.Less(t, steps, 200)
		for b.Free() > 0 && len(next) > 0 {
			join(next[0])
			next = next[1:]
		}
		events, err := b.Step()
		require.NoError(t, err)
		for _, ev := range events {
			r, ok := owner[ev.Seq]
			require.True(t, ok, "event for free slot %d", ev.Seq)
			if ev.Done {
				require.NoError(t, ev.Err)
				ended[r] = true
				delete(owner, ev.Seq)
				continue
			}
			ev.Token.TopLogprobs = slices.Clone(ev.Token.TopLogprobs)
			got[r] = append(got[r], ev.Token)
			if r == 2 && len(got[r]) == 4 {
				st := b.Leave(ev.Seq)
				assert.Equal(t, 30, st.PromptTokens)
				delete(owner, ev.Seq)
			}
		}
	}
	for r, req := range reqs {
		want, err := genAlone(t, m, req)
		require.NoError(t, err)
		if r == 2 {
			assert.False(t, ended[r])
			want = want[:4]
		} else {
			assert.True(t, ended[r], "request %d", r)
		}
		assertSameTokens(t, want, got[r], fmt.Sprintf("request %d", r))
	}

	// A decode step through the public API.
	long := GenerateOptions{IgnoreEOS: true, TopLogprobs: 3, SampleOptions: SampleOptions{Temperature: 1, MinP: 0.01, PresencePenalty: 0.5}}
	for i := range 2 {
		_, err := b.Join(BatchRequest{Prompt: randomIDs(uint64(50+i), 3, v), GenerateOptions: long})
		require.NoError(t, err)
	}
	_, err = b.Step()
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(10, func() {
		events, err := b.Step()
		if err != nil || len(events) != 2 {
			t.Fatalf("step: %v events, %v", len(events), err)
		}
	})
	if !raceEnabled {
		assert.Zero(t, allocs)
	}
}
