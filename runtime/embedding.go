package runtime

import "github.com/goformer/goformer/kernels"

// A tokenTable maps token ids to vectors and, for the output side of a tied
// model, scores a hidden state against every row.
type tokenTable interface {
	// lookup writes row id into dst (len d).
	lookup(dst []float32, id int)
	// scores writes dst[r*rows+v] = Σ_i h[r*d+i]·row_v[i] for each of the
	// t hidden states h[r*d:(r+1)*d] and every row v, using the calling
	// session's scratch (tables are shared between sessions). Each hidden
	// state's scores are the same whatever t and the other states are.
	scores(dst, h []float32, t int, sc *scratch)
	// rescore recomputes dst[id], which scores wrote for the state h, as
	// exactly as the table can: a teacher-forced log-prob rescores its
	// target token, which scores recomputed only if it ranked high.
	rescore(dst, h []float32, id int, sc *scratch)
	// bytes is what scoring every row reads: the table's weights, less an
	// int8 table's residual, read for a few rows only.
	bytes() int
}

// f32Table is an fp32 [rows][d] matrix packed into the GEMM's panels: the
// logits of a tied or untied fp32 head are a product like any linear's,
// and a lookup gathers a row from its panel.
type f32Table struct{ p *kernels.Panels }

func newF32Table(w []float32, rows, d int) *f32Table {
	return &f32Table{p: kernels.PackPanels(w, rows, d)}
}

func (t *f32Table) lookup(dst []float32, id int) { t.p.Row(id, dst) }

func (t *f32Table) scores(dst, h []float32, n int, _ *scratch) {
	t.p.MatMul(dst[:n*t.p.Rows], h[:n*t.p.Cols], n, nil)
}

// rescore has nothing to do: scores are already the fp32 rows'.
func (t *f32Table) rescore(dst, h []float32, id int, sc *scratch) {}

func (t *f32Table) bytes() int { return t.p.Bytes() }
