package runtime

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/model"
)

// BenchmarkContextShift measures one context shift of a full session at
// the model's n_positions, keeping nothing pinned: the re-encoding of the
// most recent half (128 tokens on the demo model, 512 on GPT-2 124M). RoPE
// shapes slide instead of shifting, and are left out.
func BenchmarkContextShift(b *testing.B) {
	for i := range benchShapes {
		if benchShapes[i].cfg.Arch.Positions == model.RoPE {
			continue
		}
		b.Run(benchShapes[i].name, func(b *testing.B) {
			m := benchModel(b, i, Options{})
			s, err := m.NewSession(SessionOptions{ContextShift: true})
			if err != nil {
				b.Fatal(err)
			}
			full := s.limit()
			if _, err := s.Prefill(randomIDs(3, full, m.cfg.VocabSize)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				s.pos = full
				s.shiftContext()
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/shift")
		})
	}
}

// BenchmarkLongGeneration decodes ten times a session's capacity of 32 on
// the demo model's shape, sliding (RoPE, 4 sinks) or shifting its context
// (learned positions, 4 kept): one op is 320 steps, and -benchmem shows
// that none of them allocates.
func BenchmarkLongGeneration(b *testing.B) {
	const capacity = 32
	for _, positions := range []model.PositionKind{model.RoPE, model.LearnedPositions} {
		cfg := benchShapes[0].cfg
		cfg.Arch.Positions = positions
		m, err := newModel(cfg, randomWeights(cfg, 1), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("demo/%s", positions), func(b *testing.B) {
			s, err := m.NewSession(SessionOptions{Capacity: capacity, Keep: 4, ContextShift: true})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Prefill(randomIDs(4, 8, cfg.VocabSize)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				for i := range 10 * capacity {
					if _, err := s.Decode(i); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*10*capacity)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
