package runtime

import (
	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model"
)

// forward runs the tokens ids (len(ids) ≤ len(s.rows)) through every
// block, token i as row s.rows[i]: the rows of each sequence are
// consecutive positions from its pos, in order, and may be interleaved with
// other sequences' rows. It stores keys and values in each row's own
// sequence cache, moves each sequence past its rows, and leaves the final
// hidden states (after the final norm, when the architecture has one) in
// s.h. The caller has admitted ids.
func (s *pass) forward(ids []int) {
	c := &s.m.cfg
	w := s.m.w
	d, t := c.NEmbd, len(ids)
	x := s.x[:t*d]

	for i, id := range ids {
		r := s.rows[i]
		row := x[i*d : (i+1)*d]
		s.m.tokens.lookup(row, id)
		s.addPosition(row, r.pos)
		r.seq.ids[r.seq.cache.index(r.pos)] = id
	}
	if c.Arch.Positions == model.RoPE {
		s.ropeTables(t)
	}

	for l := range w.Layers {
		s.block(l, t)
	}

	h := s.h[:t*d]
	if c.Arch.FinalNorm {
		s.norm(h, x, w.FinalNorm)
	} else {
		copy(h, x)
	}
	for _, r := range s.rows[:t] {
		r.seq.pos = r.pos + 1
	}
	s.n = t
}

// block is one transformer block over the t tokens in s.x:
//
//	pre-norm:  x = x + Attn(Norm1(x));  x = x + MLP(Norm2(x))
//	post-norm: x = Norm1(x + Attn(x));  x = Norm2(x + MLP(x))
//
// with the norms and the MLP of the architecture.
func (s *pass) block(l, t int) {
	c := &s.m.cfg
	L := &s.m.w.Layers[l]
	W := &s.m.layers[l]
	d, ff := c.NEmbd, c.NInner
	x, h := s.x[:t*d], s.h[:t*d]
	pre := c.Arch.Norm == model.PreNorm

	in := x
	if pre {
		s.norm(h, x, L.AttnNorm)
		in = h
	}
	qkv := s.qkv[:t*s.qkvWidth]
	W.qkv.apply(qkv, in, W.qkvBias, t, &s.sc)
	s.rotate(qkv, t)
	s.attention(l, t)
	proj := s.proj[:t*d]
	W.out.apply(proj, s.att[:t*c.QueryDim()], L.OBias, t, &s.sc)
	kernels.Add(x, x, proj)
	if !pre {
		s.norm(x, x, L.AttnNorm)
	}

	in = x
	if pre {
		s.norm(h, x, L.MLPNorm)
		in = h
	}
	hidden := s.ff[:t*ff]
	if c.Arch.MLP == model.SwiGLUMLP {
		gateUp := s.up[:t*2*ff]
		W.up.apply(gateUp, in, W.upBias, t, &s.sc)
		for i := range t {
			row := gateUp[i*2*ff : (i+1)*2*ff]
			kernels.SwiGLU(hidden[i*ff:(i+1)*ff], row[:ff], row[ff:])
		}
	} else {
		W.up.apply(hidden, in, W.upBias, t, &s.sc)
		kernels.GELU(hidden, hidden)
	}
	W.down.apply(proj, hidden, L.DownBias, t, &s.sc)
	kernels.Add(x, x, proj)
	if !pre {
		s.norm(x, x, L.MLPNorm)
	}
}

// norm applies the architecture's norm to each row of x, over the feature
// axis.
func (s *pass) norm(out, x []float32, n model.Norm) {
	c := &s.m.cfg
	if c.Arch.NormKind == model.RMSNorm {
		kernels.RMSNorm(out, x, n.Gain, c.LayerNormEps)
		return
	}
	kernels.LayerNorm(out, x, n.Gain, n.Bias, c.LayerNormEps)
}

// lastLogits scores the last token of the last forward pass against the
// vocabulary into s.logits.
func (s *Session) lastLogits() { s.rowLogits(s.n - 1) }

// rowLogits scores row r of the last forward pass into s.logits.
func (s *Session) rowLogits(r int) {
	d := s.m.cfg.NEmbd
	s.m.head.scores(s.logits, s.h[r*d:(r+1)*d], 1, &s.sc)
}

// targetLogits scores row r as rowLogits does for teacher forcing: the
// token y the row is scored on is rescored too (tokenTable.rescore).
func (s *Session) targetLogits(r, y int) {
	s.rowLogits(r)
	d := s.m.cfg.NEmbd
	s.m.head.rescore(s.logits, s.h[r*d:(r+1)*d], y, &s.sc)
}
