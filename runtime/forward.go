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
		kernels.LayerNorm(h, x, w.FinalGain, w.FinalBias, c.LayerNormEps)
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
//	pre-norm:  x = x + Attn(LN1(x));  x = x + MLP(LN2(x))
//	post-norm: x = LN1(x + Attn(x));  x = LN2(x + MLP(x))
func (s *pass) block(l, t int) {
	c := &s.m.cfg
	L := &s.m.w.Layers[l]
	W := &s.m.layers[l]
	d, ff := c.NEmbd, c.NInner
	x, h := s.x[:t*d], s.h[:t*d]
	pre := c.Arch.Norm == model.PreNorm

	in := x
	if pre {
		kernels.LayerNorm(h, x, L.LN1Gain, L.LN1Bias, c.LayerNormEps)
		in = h
	}
	qkv := s.qkv[:t*3*d]
	W.qkv.apply(qkv, in, L.QKVBias, t, s.q8)
	s.rotate(qkv, t)
	s.attention(l, t)
	proj := s.proj[:t*d]
	W.attnOut.apply(proj, s.att[:t*d], L.AttnOutBias, t, s.q8)
	kernels.Add(x, x, proj)
	if !pre {
		kernels.LayerNorm(x, x, L.LN1Gain, L.LN1Bias, c.LayerNormEps)
	}

	in = x
	if pre {
		kernels.LayerNorm(h, x, L.LN2Gain, L.LN2Bias, c.LayerNormEps)
		in = h
	}
	hidden := s.ff[:t*ff]
	W.fc.apply(hidden, in, L.FCBias, t, s.q8)
	kernels.GELU(hidden, hidden)
	W.fcOut.apply(proj, hidden, L.FCOutBias, t, s.q8)
	kernels.Add(x, x, proj)
	if !pre {
		kernels.LayerNorm(x, x, L.LN2Gain, L.LN2Bias, c.LayerNormEps)
	}
}

// lastLogits scores the last token of the last forward pass against the
// vocabulary into s.logits.
func (s *Session) lastLogits() { s.rowLogits(s.n - 1) }

// rowLogits scores row r of the last forward pass into s.logits.
func (s *Session) rowLogits(r int) {
	d := s.m.cfg.NEmbd
	s.m.head.scores(s.logits, s.h[r*d:(r+1)*d], 1, s.q8)
}
