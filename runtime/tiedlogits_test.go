package runtime

import (
	"math"
	"sort"
	"testing"

	"github.com/goformer/goformer/internal/testkit"
	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/quant"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logSumExp64 is log Σ exp(l) over one row of logits, through
// kernels.Exp (within 2 ulp) into buf and summed in float64: the test
// measures log p to 1e-4, and a float64 exp per logit cost seconds.
func logSumExp64(l, buf []float32) float64 {
	mx := l[0]
	for _, v := range l {
		mx = max(mx, v)
	}
	for i, v := range l {
		buf[i] = v - mx
	}
	kernels.Exp(buf[:len(l)], buf[:len(l)])
	var s float64
	for _, e := range buf[:len(l)] {
		s += float64(e)
	}
	return float64(mx) + math.Log(s)
}

func argmax32(l []float32) int {
	best := 0
	for i, v := range l {
		if v > l[best] {
			best = i
		}
	}
	return best
}

// TestTiedInt8Logits measures what an int8 token table's logits (the
// default output projection of a tied model: int8 rows against int16
// activations, the highest scores and a teacher-forced target rescored from
// the rows' residual) move on every prompt of at least 8 tokens of
// gpt2-mini (tied) and llama-mini (its untied head made an int8 table, as
// --weights int8 does), against the fp32 table scoring the same final
// hidden states. Targets (issue 16): perplexity within 0.5% on every
// prompt; max |Δ log p| ≤ 5e-3 on every teacher-forced position and top-1
// agreement ≥ 99%.
//
// Before the residual, int16 activations met the first target (0.27% at
// worst) but not the others: the rows' own rounding moved log p by up to
// 1.3e-2 (gpt2-mini) and 2.0e-2 (llama-mini) and flipped 6 of llama-mini's
// 307 argmaxes (near-ties). The test also asserts the int8 product itself
// against the int8 rows at exact activations, which the activation format
// controls, and that Session.Score of the default model stays as near the
// fp32-embeddings model's.
func TestTiedInt8Logits(t *testing.T) {
	skipUnderRace(t)
	for _, name := range []string{"gpt2-mini", "llama-mini"} {
		t.Run(name, func(t *testing.T) {
			m, ref := loadNamedFixture(t, name, Options{})
			f32m, _ := loadNamedFixture(t, name, Options{Embeddings: F32Embeddings})
			exact, ok := f32m.head.(*f32Table)
			require.True(t, ok, "the fp32 model's head is an fp32 table")
			table, ok := m.head.(*quantTable)
			if !ok {
				// An untied fp32 head: the int8 table --weights int8 makes.
				var err error
				w := make([]float32, exact.p.Rows*exact.p.Cols)
				for v := range exact.p.Rows {
					exact.p.Row(v, w[v*exact.p.Cols:(v+1)*exact.p.Cols])
				}
				table, err = newQ8Table(w, exact.p.Rows, exact.p.Cols)
				require.NoError(t, err)
			}
			require.NotNil(t, table.residual, "goformer's own int8 table keeps its residual")
			q := table.m.(*quant.Matrix)
			rows, d := q.Rows, q.Cols
			// The int8 rows dequantized: what exact activations would score.
			dq := make([]float32, rows*d)
			for v := range rows {
				q.Row(v, dq[v*d:(v+1)*d])
			}
			deq := newF32Table(dq, rows, d)
			plain := &quantTable{m: q} // the same rows without their residual

			var worstPP, worstScorePP, worstRowsLP, worstExactLP, worstScoreLP float64
			var agreeRows, agreeExact, positions int
			for _, p := range ref.Prompts {
				n := len(p.TokenIDs)
				if n < 8 {
					continue
				}
				s, err := m.NewSession(SessionOptions{Batch: n})
				require.NoError(t, err)
				_, err = s.Prefill(p.TokenIDs)
				require.NoError(t, err)
				h := s.h[:(n-1)*d]
				got := make([]float32, (n-1)*rows)
				table.scores(got, h, n-1, &s.sc)         // the GEMM: a prefill's rows
				one := make([]float32, rows)             // then logSumExp64's buffer
				table.scores(one, h[(n-2)*d:], 1, &s.sc) // the GEMV: a decode
				require.Equal(t, got[(n-2)*rows:], one, "%s: the GEMM's last row equals the GEMV", p.Name)
				raw := make([]float32, len(got))
				plain.scores(raw, h, n-1, &s.sc)
				want, best := make([]float32, len(got)), make([]float32, len(got))
				exact.scores(want, h, n-1, nil)
				deq.scores(best, h, n-1, nil)

				var llGot, llWant float64
				for r := range n - 1 {
					g, w, b, a := got[r*rows:(r+1)*rows], want[r*rows:(r+1)*rows], best[r*rows:(r+1)*rows], raw[r*rows:(r+1)*rows]
					y := p.TokenIDs[r+1]
					table.rescore(g, h[r*d:(r+1)*d], y, &s.sc) // as Score does
					lg := float64(g[y]) - logSumExp64(g, one)
					lw := float64(w[y]) - logSumExp64(w, one)
					la := float64(a[y]) - logSumExp64(a, one)
					lb := float64(b[y]) - logSumExp64(b, one)
					llGot += lg
					llWant += lw
					worstRowsLP = max(worstRowsLP, math.Abs(la-lb))
					worstExactLP = max(worstExactLP, math.Abs(lg-lw))
					if argmax32(a) == argmax32(b) {
						agreeRows++
					}
					if argmax32(g) == argmax32(w) {
						agreeExact++
					}
					positions++
				}
				pp := math.Exp(-(llGot-llWant)/float64(n-1)) - 1
				worstPP = max(worstPP, math.Abs(pp))
				assert.Less(t, math.Abs(pp), 0.005, "%s %s (%d tokens): perplexity delta %+.3f%%", name, p.Name, n, 100*pp)

				// End to end: the default model's Score (int8 lookup and
				// logits, both with the residual) against fp32 embeddings.
				sg, err := s.Score(t.Context(), p.TokenIDs)
				require.NoError(t, err)
				fs, err := f32m.NewSession(SessionOptions{Batch: n})
				require.NoError(t, err)
				sw, err := fs.Score(t.Context(), p.TokenIDs)
				require.NoError(t, err)
				for i := range sg.TokenLogprobs {
					worstScoreLP = max(worstScoreLP, math.Abs(sg.TokenLogprobs[i]-sw.TokenLogprobs[i]))
				}
				worstScorePP = max(worstScorePP, math.Abs(sg.Perplexity/sw.Perplexity-1))
			}
			t.Logf("%s: against the fp32 rows: worst prompt perplexity delta %.3f%%, max |Δ log p| %.2g, top-1 agreement %d/%d; "+
				"the int8 product without the residual against the int8 rows at exact activations: max |Δ log p| %.2g, top-1 %d/%d; "+
				"Session.Score against fp32 embeddings: worst perplexity delta %.3f%%, max |Δ log p| %.2g",
				name, 100*worstPP, worstExactLP, agreeExact, positions, worstRowsLP, agreeRows, positions, 100*worstScorePP, worstScoreLP)
			assert.LessOrEqual(t, worstExactLP, 5e-3, "max |Δ log p| against the fp32 rows")
			assert.GreaterOrEqual(t, float64(agreeExact), 0.99*float64(positions), "top-1 agreement with the fp32 rows")
			assert.LessOrEqual(t, worstRowsLP, 5e-3, "max |Δ log p| of the int16-activation product against the int8 rows")
			assert.GreaterOrEqual(t, float64(agreeRows), 0.99*float64(positions), "top-1 agreement with the int8 rows")
			assert.Less(t, worstScorePP, 0.005, "Session.Score's perplexity against fp32 embeddings")
			assert.LessOrEqual(t, worstScoreLP, 5e-3, "Session.Score's log-probs against fp32 embeddings")
		})
	}
}

// TestHighest checks the candidates scores rescores against a sort: the
// largest values, largest first, lower index first on ties, NaNs passed
// over, and fewer than asked for when the row is short.
func TestHighest(t *testing.T) {
	s := testkit.RandF32(5, 1000, 1)
	s[17], s[400], s[998] = 9, 9, 9 // a tie for first
	s[3] = float32(math.NaN())
	var top [rescored]int32
	require.Equal(t, rescored, highest(top[:], s))
	order := make([]int, 0, len(s))
	for i, v := range s {
		if v == v {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return s[order[a]] > s[order[b]] })
	for k, v := range top {
		assert.Equal(t, order[k], int(v), "place %d", k)
	}
	short := []float32{1, float32(math.NaN()), 3, 2}
	assert.Equal(t, 3, highest(top[:], short))
	assert.Equal(t, []int32{2, 3, 0}, top[:3])
}
