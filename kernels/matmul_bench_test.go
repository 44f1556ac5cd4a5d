package kernels

import (
	"fmt"
	"github.com/goformer/goformer/internal/testkit"
	"testing"
)

// benchShapes are GPT-2 124M's matmuls: decode (M = 1: attn_qkv, ffn_up and
// the tied 50257-way logits), batched decode (M = 4 and 16 sequences: the
// multi-row GEMV) and prefill at several prompt lengths.
var benchShapes = []mmShape{
	{1, 768, 2304}, {1, 768, 3072}, {1, 768, 50257},
	{4, 768, 2304}, {16, 768, 2304}, {16, 768, 3072}, {16, 3072, 768},
	{7, 768, 3072}, {64, 3072, 768}, {128, 768, 2304}, {512, 768, 3072},
}

// BenchmarkMatMul reports GFLOP/s (2·M·K·N per call) on one thread for every
// tier, and for M = 1 the GB/s of weights streamed, which bounds a decode
// step.
func BenchmarkMatMul(b *testing.B) {
	saved := active
	defer func() { active = saved }()
	oneThread(b)
	for _, tier := range tiers {
		for _, s := range benchShapes {
			if tier == genericImpl && s.m*s.k*s.n > 1<<28 {
				continue // minutes per call, and nobody's baseline
			}
			b.Run(fmt.Sprintf("%s/%dx%dx%d", tier.name, s.m, s.k, s.n), func(b *testing.B) {
				active = tier
				a := testkit.RandF32(1, s.m*s.k, 1)
				w := testkit.RandF32(2, s.n*s.k, 1)
				bias := testkit.RandF32(3, s.n, 1)
				c := make([]float32, s.m*s.n)
				MatMul(c, a, w, bias, s.m, s.k, s.n) // warm the scratch pools
				b.ResetTimer()
				for b.Loop() {
					MatMul(c, a, w, bias, s.m, s.k, s.n)
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(s.m*s.k*s.n)/sec*1e-9, "GFLOP/s")
				if s.m == 1 {
					b.ReportMetric(4*float64(s.k*s.n)/sec*1e-9, "GB/s")
				}
			})
		}
	}
}
