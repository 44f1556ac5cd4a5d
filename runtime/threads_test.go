package runtime

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/model/demo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// threadsConfig is smallConfig widened until the kernels split their
// products across the pool (a GEMV of d_ff×d_model = 2^18 multiply-adds).
func threadsConfig(cfg model.Config) model.Config {
	cfg.VocabSize, cfg.NPositions, cfg.NEmbd, cfg.NInner = 300, 96, 256, 1024
	return cfg
}

// withThreads runs f with the kernels on n threads and attention split
// however small the pass, then restores the defaults. With n > 1 it runs f
// again until the kernels' workers have run pieces of its work
// (kernels.WorkerPieces; usually the first time), so that a test comparing
// thread counts compares a real split: no deadline, a pool whose workers
// never join hangs until go test's -timeout.
func withThreads(t *testing.T, n int, f func()) {
	t.Helper()
	saved := minParallelAttention
	defer func() { minParallelAttention = saved; kernels.SetThreads(0) }()
	minParallelAttention = 0
	kernels.SetThreads(n)
	require.Equal(t, n, kernels.Threads())
	for before := kernels.WorkerPieces(); ; {
		f()
		if n == 1 || kernels.WorkerPieces() > before {
			return
		}
	}
}

// sessionLogits prefills prompt in one pass (or in passes of the session's
// capacity, when that is smaller) and decodes forced after it, returning
// every row's logits of the last prefill pass, then the logits after each
// forced token.
func sessionLogits(t *testing.T, m *Model, prompt, forced []int) [][]float32 {
	t.Helper()
	s, err := m.NewSession(SessionOptions{Batch: len(prompt)})
	require.NoError(t, err)
	_, err = s.Prefill(prompt)
	require.NoError(t, err)
	var out [][]float32
	for r := range s.n {
		s.rowLogits(r)
		out = append(out, append([]float32(nil), s.logits...))
	}
	for _, id := range forced {
		logits, err := s.Decode(id)
		require.NoError(t, err)
		out = append(out, append([]float32(nil), logits...))
	}
	return out
}

// raggedBatchLogits runs three sequences of ragged prompts through one batch,
// then forces four decode passes, and returns the logits of every pass in
// order of b.ready.
func raggedBatchLogits(t *testing.T, m *Model) [][]float32 {
	t.Helper()
	b, err := m.NewBatch(BatchOptions{Sequences: 3, Rows: 24})
	require.NoError(t, err)
	for i, n := range []int{20, 33, 7} {
		b.start(i, i, randomIDs(uint64(40+i), n, m.cfg.VocabSize))
	}
	var out [][]float32
	for pass := 0; pass < 12; pass++ {
		for i := range b.slots {
			b.slots[i].next = (7*pass + i) % m.cfg.VocabSize
		}
		b.step()
		for k := range b.ready {
			out = append(out, append([]float32(nil), b.slotLogits(k)...))
		}
	}
	require.NotEmpty(t, out)
	return out
}

// TestThreadsChangeNothing: with the matrix products and attention split
// across two threads, every logit of a session's prefill and decode and of
// a batch's passes equals the one-thread logit bit for bit, for fp32 and
// int8 weights, on every ISA tier. The split is the runtime's, the same on
// every tier; the pure-Go tier, 30 times slower, runs the shapes whose
// goroutines differ (raceVariants): the -short ones took 28 of the test's
// 32 seconds there, and the split they check is the same on every tier.
func TestThreadsChangeNothing(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		vs := testVariants()
		if kernels.ISA() == "generic" && len(vs) > len(raceVariants) {
			vs = variantsNamed(raceVariants)
		}
		for name, vc := range vs {
			for _, wt := range []Weights{F32Weights, Int8Weights} {
				t.Run(fmt.Sprintf("%s/%s", name, wt), func(t *testing.T) {
					cfg := threadsConfig(vc)
					m, err := newModel(cfg, randomWeights(cfg, 5), Options{Weights: wt})
					require.NoError(t, err)
					prompt, forced := randomIDs(6, 40, cfg.VocabSize), randomIDs(7, 5, cfg.VocabSize)
					var session, batch [2][][]float32
					for i, n := range []int{1, 2} {
						withThreads(t, n, func() {
							session[i] = sessionLogits(t, m, prompt, forced)
							batch[i] = raggedBatchLogits(t, m)
						})
					}
					assert.Equal(t, session[0], session[1], "session")
					assert.Equal(t, batch[0], batch[1], "batch")
				})
			}
		}
	})
}

// TestPrefillMatchesDecode: with fp32 weights (kernels.Panels: the panel
// GEMM against the panel GEMV) and with int8 weights (the int8 GEMM
// against the int8 GEMV), with the int8 and the fp32 token table, a prompt
// prefilled in one pass and the same prompt decoded token by token give
// the same logits bit for bit, row by row, on one thread and on two; for
// a GPT-2 and a Llama-shaped model.
func TestPrefillMatchesDecode(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		for _, name := range []string{"gpt2", "llama-gqa4-head-dim"} {
			for _, opts := range []Options{{Weights: Int8Weights}, {Weights: F32Weights}, {Weights: F32Weights, Embeddings: F32Embeddings}} {
				t.Run(fmt.Sprintf("%s/%s/%s", name, opts.Weights, opts.Embeddings), func(t *testing.T) {
					cfg := threadsConfig(variants[name])
					m, err := newModel(cfg, randomWeights(cfg, 8), opts)
					require.NoError(t, err)
					ids := randomIDs(9, 37, cfg.VocabSize)
					for _, n := range []int{1, 2} {
						withThreads(t, n, func() {
							prefill := sessionLogits(t, m, ids, nil)
							decode := sessionLogits(t, m, ids[:1], ids[1:])
							require.Len(t, decode, len(prefill))
							for r := range prefill {
								assert.Equal(t, prefill[r], decode[r], "threads %d, row %d", n, r)
							}
						})
					}
				})
			}
		}
	})
}

// TestLoadLeavesThreads: the thread count is the process's setting,
// kernels.SetThreads; loading a model leaves it as it was.
func TestLoadLeavesThreads(t *testing.T) {
	defer kernels.SetThreads(0)
	kernels.SetThreads(3)
	cfg := variants["gpt2"]
	_, err := newModel(cfg, randomWeights(cfg, 1), Options{})
	require.NoError(t, err)
	_, err = LoadFS(demo.FS, Options{})
	require.NoError(t, err)
	assert.Equal(t, 3, kernels.Threads())
}

// TestParallelDecodeAllocatesNothing: on two threads, with the products and
// attention handed to the pool, a session's decode step and a batch's
// decode pass allocate nothing.
func TestParallelDecodeAllocatesNothing(t *testing.T) {
	cfg := threadsConfig(variants["gpt2"])
	for _, wt := range []Weights{F32Weights, Int8Weights} {
		m, err := newModel(cfg, randomWeights(cfg, 2), Options{Weights: wt})
		require.NoError(t, err)
		withThreads(t, 2, func() {
			session, batch := decodeAllocs(t, m, 4)
			assert.Zero(t, session, "session, %s weights", wt)
			if !raceEnabled {
				assert.Zero(t, batch, "batch, %s weights", wt)
			}
		})
	}
}

// decodeAllocs counts the allocations of a session's decode step and of
// the decode pass of a batch of sequences sequences on m, each after a
// pass that sized everything.
func decodeAllocs(t *testing.T, m *Model, sequences int) (session, batch float64) {
	t.Helper()
	vocab := m.cfg.VocabSize
	s, err := m.NewSession(SessionOptions{})
	require.NoError(t, err)
	_, err = s.Prefill(randomIDs(3, 30, vocab))
	require.NoError(t, err)
	session = testing.AllocsPerRun(20, func() {
		if _, err := s.Decode(5); err != nil {
			panic(err)
		}
		s.pos-- // stay in range: the same position again
	})
	b, err := m.NewBatch(BatchOptions{Sequences: sequences})
	require.NoError(t, err)
	for i := range b.slots {
		b.start(i, i, randomIDs(uint64(i), 5+i, vocab))
	}
	b.step()
	batch = testing.AllocsPerRun(20, func() {
		for i := range b.slots {
			b.slots[i].pos, b.slots[i].next = 8, 9
		}
		b.step()
	})
	assert.Len(t, b.ready, sequences)
	return session, batch
}
