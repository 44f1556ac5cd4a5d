package runtime

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
)

// benchShapes are the models the runtime benchmarks run, with random
// weights (speed does not depend on their values): the demo model's shape,
// GPT-2 124M's, and two Llama-family shapes as
// ../shared/peers/make_random_llama.py makes them, with GPT-2's
// vocabulary: SmolLM2-135M (GQA 9/3) and Qwen2.5-0.5B (GQA 14/2, q/k/v
// biases). prefill lists the prompt lengths BenchmarkPrefill measures.
var benchShapes = []struct {
	name    string
	cfg     model.Config
	prefill []int
}{
	{"demo", model.Config{VocabSize: 50257, NPositions: 256, NEmbd: 128, NLayer: 4, NHead: 4, NInner: 512, LayerNormEps: 1e-5, EOS: 50256, Arch: model.GPT2Arch}, []int{128, 256}},
	{"gpt2-124m", model.Config{VocabSize: 50257, NPositions: 1024, NEmbd: 768, NLayer: 12, NHead: 12, NInner: 3072, LayerNormEps: 1e-5, EOS: 50256, Arch: model.GPT2Arch}, []int{128, 256}},
	{"smollm2-135m", llamaShape("llama", 576, 30, 9, 3, 1536, 1e5, 1e-5), []int{128, 512}},
	{"qwen2.5-0.5b", llamaShape("qwen2", 896, 24, 14, 2, 4864, 1e6, 1e-6), []int{128, 512}},
}

// llamaShape is a tied Llama-family config with head_dim d/heads and an
// 8192-position context, as make_random_llama.py writes it.
func llamaShape(modelType string, d, layers, heads, kvHeads, ff int, theta float64, eps float32) model.Config {
	arch := model.LlamaArch
	arch.TiedEmbeddings = true
	return model.Config{ModelType: modelType, VocabSize: 50257, NPositions: 8192, NEmbd: d, NLayer: layers, NHead: heads, NKVHead: kvHeads,
		NInner: ff, LayerNormEps: eps, RoPETheta: theta, BOS: 50256, EOS: 50256, Arch: arch}
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

// lastBenchModel is the model benchModel built last: a benchmark function
// runs several times (b.N grows) and the Llama shapes take seconds to
// build, while keeping every model would hold gigabytes.
var lastBenchModel struct {
	shape int
	opts  Options
	m     *Model
}

// benchModel is benchShapes[shape] with opts, built when a benchmark that
// the -bench pattern selects first asks for it.
func benchModel(b *testing.B, shape int, opts Options) *Model {
	if l := &lastBenchModel; l.m != nil && l.shape == shape && l.opts == opts {
		return l.m
	}
	lastBenchModel.m = nil // let the collector have it before the next one is built
	cfg := benchShapes[shape].cfg
	m, err := newModel(cfg, randomWeights(cfg, 1), opts)
	if err != nil {
		b.Fatal(err)
	}
	lastBenchModel.shape, lastBenchModel.opts, lastBenchModel.m = shape, opts, m
	return m
}

// BenchmarkDecode measures one decode step (all logits included) at
// position 128, the way llama-bench's tg measures it: no sampling.
func BenchmarkDecode(b *testing.B) {
	for _, o := range benchOptions {
		for i := range benchShapes {
			b.Run(fmt.Sprintf("%s/%s", benchShapes[i].name, o.name), func(b *testing.B) {
				m := benchModel(b, i, o.opts)
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
		for i := range benchShapes {
			for _, n := range benchShapes[i].prefill {
				b.Run(fmt.Sprintf("%s/%s/%d", benchShapes[i].name, o.name, n), func(b *testing.B) {
					m := benchModel(b, i, o.opts)
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
		for i := range benchShapes {
			for _, threads := range []int{1, 2} {
				for _, n := range []int{1, 4, 16} {
					b.Run(fmt.Sprintf("%s/%s/threads=%d/batch=%d", benchShapes[i].name, emb, threads, n), func(b *testing.B) {
						m := benchModel(b, i, Options{Embeddings: emb})
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
