package runtime

import (
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
	"github.com/stretchr/testify/require"
)

// BenchmarkTiedLogits times a decode step's output projection on GPT-2-124M's
// int8 token table (50257×768) and Qwen2.5-0.5B's (151936×896), one
// thread: the int16-activation GEMV alone ("plain") and with its residual
// ("rescored": the highest scores found and recomputed), in GB/s of the int8
// table read, and the rescoring alone ("rescoring").
func BenchmarkTiedLogits(b *testing.B) {
	kernels.SetThreads(1)
	defer kernels.SetThreads(0)
	for _, shape := range []struct {
		name    string
		rows, d int
	}{{"gpt2-124m", 50257, 768}, {"qwen2.5-0.5b", 151936, 896}} {
		w := testkit.RandF32(1, shape.rows*shape.d, 0.1)
		table, err := newQ8Table(w, shape.rows, shape.d)
		require.NoError(b, err)
		h := testkit.RandF32(2, shape.d, 1)
		sc := newScratch(1, shape.d, 0)
		sc.q.Reserve16(1, shape.d)
		dst := make([]float32, shape.rows)
		for _, v := range []struct {
			name string
			t    *quantTable
		}{{"plain", &quantTable{m: table.m}}, {"rescored", table}} {
			b.Run(shape.name+"/"+v.name, func(b *testing.B) {
				for b.Loop() {
					v.t.scores(dst, h, 1, &sc)
				}
				b.ReportMetric(float64(table.bytes())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
		// The rescoring alone: the candidates found, eight rows rebuilt
		// from both layers and scored.
		b.Run(shape.name+"/rescoring", func(b *testing.B) {
			for b.Loop() {
				table.rescoreHighest(dst, h, 1, &sc)
			}
		})
	}
}

// BenchmarkHighest times the candidate search alone over GPT-2's vocabulary
// of random scores, in ns a value.
func BenchmarkHighest(b *testing.B) {
	s := testkit.RandF32(3, 50257, 10)
	var top [rescored]int32
	for b.Loop() {
		highest(top[:], s)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s)), "ns/value")
}
