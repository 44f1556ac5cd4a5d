package runtime

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
)

// benchShapes are the models the runtime benchmarks run: the demo model's
// shape and GPT-2 124M's, with random weights (speed does not depend on
// their values).
var benchShapes = []struct {
	name string
	cfg  model.Config
}{
	{"demo", model.Config{VocabSize: 50257, NPositions: 256, NEmbd: 128, NLayer: 4, NHead: 4, NInner: 512, LayerNormEps: 1e-5, EOS: 50256, Arch: model.GPT2Arch}},
	{"gpt2-124m", model.Config{VocabSize: 50257, NPositions: 1024, NEmbd: 768, NLayer: 12, NHead: 12, NInner: 3072, LayerNormEps: 1e-5, EOS: 50256, Arch: model.GPT2Arch}},
}

// benchOptions are the weight layouts the benchmarks compare: the default
// (int8 tied embeddings, fp32 layers), all fp32, and all int8.
var benchOptions = []struct {
	name string
	opts Options
}{
	{"int8-emb", Options{}},
	{"f32", Options{Embeddings: F32Embeddings}},
	{"int8", Options{Weights: Int8Weights}},
}

func benchModels(b *testing.B, opts Options) []*Model {
	var ms []*Model
	for _, s := range benchShapes {
		m, err := newModel(s.cfg, randomWeights(s.cfg, 1), opts)
		if err != nil {
			b.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// BenchmarkDecode measures one decode step (all logits included) at
// position 128, the way llama-bench's tg measures it: no sampling.
func BenchmarkDecode(b *testing.B) {
	for _, o := range benchOptions {
		for i, m := range benchModels(b, o.opts) {
			b.Run(fmt.Sprintf("%s/%s", benchShapes[i].name, o.name), func(b *testing.B) {
				s, err := m.NewSession(SessionOptions{})
				if err != nil {
					b.Fatal(err)
				}
				prompt := randomIDs(1, 128, m.cfg.VocabSize)
				if _, err := s.Prefill(prompt); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					s.pos = 128
					if _, err := s.Decode(42); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
			})
		}
	}
}

// BenchmarkPrefill measures a batched pass over a prompt from an empty
// cache, logits for the last position only (llama-bench's pp).
func BenchmarkPrefill(b *testing.B) {
	for _, o := range benchOptions {
		for i, m := range benchModels(b, o.opts) {
			for _, n := range []int{128, 256} {
				b.Run(fmt.Sprintf("%s/%s/%d", benchShapes[i].name, o.name, n), func(b *testing.B) {
					s, err := m.NewSession(SessionOptions{Batch: n})
					if err != nil {
						b.Fatal(err)
					}
					prompt := randomIDs(2, n, m.cfg.VocabSize)
					b.ResetTimer()
					for range b.N {
						s.Reset()
						if _, err := s.Prefill(prompt); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "tokens/s")
				})
			}
		}
	}
}

// BenchmarkBatchDecode measures one decode pass of a batch whose sequences
// all sit at position 128 (all logits included, no sampling), on one thread
// and on two: aggregate tokens/s is sequences per pass over the time of a
// pass.
func BenchmarkBatchDecode(b *testing.B) {
	defer kernels.SetThreads(0)
	for _, emb := range []Embeddings{Int8Embeddings, F32Embeddings} {
		for i, m := range benchModels(b, Options{Embeddings: emb}) {
			for _, threads := range []int{1, 2} {
				for _, n := range []int{1, 4, 16} {
					b.Run(fmt.Sprintf("%s/%s/threads=%d/batch=%d", benchShapes[i].name, emb, threads, n), func(b *testing.B) {
						kernels.SetThreads(threads)
						bt, err := m.NewBatch(BatchOptions{Sequences: n, Capacity: 256})
						if err != nil {
							b.Fatal(err)
						}
						for k := range bt.slots {
							bt.start(k, k, randomIDs(uint64(k), 128, m.cfg.VocabSize))
						}
						for bt.slots[n-1].fed < 128 {
							bt.step()
						}
						b.ReportAllocs()
						b.ResetTimer()
						for range b.N {
							for k := range bt.slots {
								bt.slots[k].pos, bt.slots[k].next = 128, 42
							}
							bt.step()
						}
						b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "tokens/s")
					})
				}
			}
		}
	}
}
