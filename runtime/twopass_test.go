package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model"
)

// TestTwoPassActivationsFidelity measures both activation options against
// the float64 forward pass over each file's weights as ggml dequantizes
// them, on llama-quantize's files of llama-mini and gpt2-mini: every
// teacher-forced log-prob of every prompt. Int8 activations are llama.cpp's
// rounding (TestLlamaCppAgreementQuantized); two passes must land at least
// ten times nearer. It needs llama-quantize and skips in -short mode.
//
// Measured (max / rms |Δ log p|):
//
//	                   int8             int8x2
//	llama-mini Q4_0    0.061  / 0.014   0.00018 / 4.9e-5
//	llama-mini Q4_K_M  0.092  / 0.018   0.00032 / 5.8e-5
//	llama-mini Q6_K    0.071  / 0.018   0.00037 / 5.7e-5
//	llama-mini Q8_0    0.036  / 0.0057  0.00015 / 3.3e-5
//	gpt2-mini Q4_K_M   0.011  / 0.0017  0.00011 / 2.6e-5
//
// The block-type output head takes the same activations: with int8 ones
// there, two passes everywhere else leave llama-mini Q4_0 at 0.048 / 0.012.
func TestTwoPassActivationsFidelity(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the float64 comparison of every quantized file in -short mode")
	}
	skipUnderRace(t)
	type file struct{ fixture, typ string }
	files := []file{{"llama-mini", "Q4_0"}, {"llama-mini", "Q4_K_M"}, {"llama-mini", "Q6_K"}, {"llama-mini", "Q8_0"}, {"gpt2-mini", "Q4_K_M"}}
	for _, c := range files {
		t.Run(c.fixture+"/"+c.typ, func(t *testing.T) {
			path := quantizedGGUF(t, c.fixture, c.typ)
			one, ref := loadNamedFixture(t, c.fixture, Options{}, path)
			two, _ := loadNamedFixture(t, c.fixture, Options{Activations: TwoPassActivations}, path)
			ck, err := model.Load(path)
			require.NoError(t, err)
			defer ck.Close()
			head := refMatrix(refHead(ck.Config, &ck.Weights))
			s, err := one.NewSession(SessionOptions{})
			require.NoError(t, err)
			var worst, rms [2]float64
			steps := 0
			for _, p := range ref.Prompts {
				ids := p.TokenIDs
				hidden := refHidden(ck.Config, &ck.Weights, ids, func(t, j int) bool { return j <= t })
				refRows := refLogitsOf(hidden[:len(ids)-1], head)
				for k, m := range []*Model{one, two} {
					rows := sessionLogits(t, m, ids, nil)
					for r := range len(ids) - 1 {
						y := ids[r+1]
						d := float64(rows[r][y]) - s.sampler.logSumExp(rows[r]) - refLogprob(refRows[r], y)
						worst[k] = max(worst[k], math.Abs(d))
						rms[k] += d * d
					}
				}
				steps += len(ids) - 1
			}
			for k := range rms {
				rms[k] = math.Sqrt(rms[k] / float64(steps))
			}
			t.Logf("%s %s, %d teacher-forced steps: |Δ log p| against float64, max / rms: int8 %.3g / %.3g, int8x2 %.3g / %.3g (%.0f× / %.0f× nearer)",
				c.fixture, c.typ, steps, worst[0], rms[0], worst[1], rms[1], worst[0]/worst[1], rms[0]/rms[1])
			assert.LessOrEqual(t, worst[1], worst[0]/10, "two passes: max")
			assert.LessOrEqual(t, rms[1], rms[0]/10, "two passes: rms")
		})
	}
}
