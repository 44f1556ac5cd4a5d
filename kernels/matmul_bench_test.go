package kernels

import (
	"fmt"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
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
// step; W is row-major and a GEMM packs it per call, as sgemm does.
func BenchmarkMatMul(b *testing.B) {
	benchProducts(b, func(w []float32, n, k int) (func(c, a, bias []float32, m int), int) {
		return func(c, a, bias []float32, m int) { MatMul(c, a, w, bias, m, k, n) }, 4 * n * k
	})
}

// prefillShapes are the products of a 512-token prefill besides
// benchShapes' 512×768×3072: GPT-2 124M's fused q/k/v, attention output
// and MLP down, and SmolLM2-135M's and Qwen2.5-0.5B's fused q/k/v with
// grouped kv heads, attention output, fused gate/up and down.
var prefillShapes = []mmShape{
	{512, 768, 2304}, {512, 768, 768}, {512, 3072, 768},
	{512, 576, 960}, {512, 576, 576}, {512, 576, 3072}, {512, 1536, 576},
	{512, 896, 1152}, {512, 896, 896}, {512, 896, 9728}, {512, 4864, 896},
}

// BenchmarkPanels is BenchmarkMatMul's products with W packed at load
// (kernels.Panels, what the runtime's fp32 linears hold): the decode shapes
// run the panel GEMV, the others the GEMM over the panels.
func BenchmarkPanels(b *testing.B) {
	benchProducts(b, func(w []float32, n, k int) (func(c, a, bias []float32, m int), int) {
		p := PackPanels(w, n, k)
		return func(c, a, bias []float32, m int) { p.MatMul(c, a, m, bias) }, p.Bytes()
	})
}

// benchProducts runs every benchShapes and prefillShapes product on one
// thread for every tier (the generic one only up to 2²⁸ multiply-adds:
// minutes per call, and nobody's baseline), through the product that
// prepare makes of W, which reports the bytes of W it reads.
func benchProducts(b *testing.B, prepare func(w []float32, n, k int) (product func(c, a, bias []float32, m int), bytes int)) {
	saved := active
	defer func() { active = saved }()
	oneThread(b)
	shapes := append(append([]mmShape(nil), benchShapes...), prefillShapes...)
	for _, tier := range tiers {
		for _, s := range shapes {
			if tier == genericImpl && s.m*s.k*s.n > 1<<28 {
				continue
			}
			b.Run(fmt.Sprintf("%s/%dx%dx%d", tier.name, s.m, s.k, s.n), func(b *testing.B) {
				active = tier
				a := testkit.RandF32(1, s.m*s.k, 1)
				product, bytes := prepare(testkit.RandF32(2, s.n*s.k, 1), s.n, s.k)
				bias := testkit.RandF32(3, s.n, 1)
				c := make([]float32, s.m*s.n)
				product(c, a, bias, s.m) // warm the scratch pools
				b.ResetTimer()
				for b.Loop() {
					product(c, a, bias, s.m)
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(s.m*s.k*s.n)/sec*1e-9, "GFLOP/s")
				if s.m == 1 {
					b.ReportMetric(float64(bytes)/sec*1e-9, "GB/s")
				}
			})
		}
	}
}
