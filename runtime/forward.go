package runtime

import (
	"math"

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

// attention stores the keys and values of the t rows of s.qkv in their
// sequences' caches and computes causal multi-head attention for their
// queries into s.att. The query of a row at position p attends to its own
// sequence's cache only, at the positions KVCache.attended names: the sinks
// and the most recent ones up to p, its own included (every position from 0
// until the ring first wraps). Each row's key is stored just before its
// query attends, so a query never sees a later row of its own sequence, and
// a chunk longer than the ring's free space never overwrites a key that an
// earlier query of the same chunk needs.
//
// Heads are independent: each reads and writes only its own columns of the
// caches and of s.att, so they are split across the kernels' threads, each
// head computed exactly as on one thread.
func (s *pass) attention(l, t int) {
	s.attLayer, s.attRows = l, t
	if s.attentionMACs(t) < minParallelAttention {
		s.attendHeads(0, s.m.cfg.NHead)
		return
	}
	kernels.Parallel(s.m.cfg.NHead, s.attendHeads)
}

// minParallelAttention is the attention work, in multiply-adds, below which
// the heads stay on the calling goroutine: handing them to the pool costs a
// few microseconds. A variable so that tests can split small passes too.
var minParallelAttention = 1 << 15

// attentionMACs is the multiply-adds of attention over the first t rows:
// a dot product and an axpy of n_embd values per attended position.
func (s *pass) attentionMACs(t int) int {
	macs := 0
	for _, r := range s.rows[:t] {
		sinks, first := r.seq.cache.attended(r.pos)
		macs += 2 * (sinks + r.pos - first + 1) * s.m.cfg.NEmbd
	}
	return macs
}

// attendHeadRange is attention for heads [lo, hi) of every row of the
// pass in progress (s.attLayer, s.attRows), row after row.
func (s *pass) attendHeadRange(lo, hi int) {
	c := &s.m.cfg
	l, t := s.attLayer, s.attRows
	d, hd := c.NEmbd, c.HeadDim()
	scale := float32(1 / math.Sqrt(float64(hd)))
	cols := hd * lo
	width := hd * (hi - lo)
	for i := 0; i < t; i++ {
		cache, p := s.rows[i].seq.cache, s.rows[i].pos
		keys, values := cache.k[l], cache.v[l]
		row := s.qkv[i*3*d : (i+1)*3*d]
		cache.storeColumns(l, p, row[d+cols:d+cols+width], row[2*d+cols:2*d+cols+width], cols)
		sinks, first := cache.attended(p)
		n := sinks + p - first + 1
		// attendedPos maps score j to its position.
		attendedPos := func(j int) int {
			if j < sinks {
				return j
			}
			return first + j - sinks
		}
		for hh := lo; hh < hi; hh++ {
			scores := s.scores[hh*s.capacity : hh*s.capacity+n]
			q := row[hh*hd : (hh+1)*hd]
			for j := range scores {
				o := cache.slot(attendedPos(j)) + hh*hd
				scores[j] = kernels.Dot(q, keys[o:o+hd]) * scale
			}
			kernels.Softmax(scores)
			out := s.att[i*d+hh*hd : i*d+(hh+1)*hd]
			clear(out)
			for j, pj := range scores {
				o := cache.slot(attendedPos(j)) + hh*hd
				kernels.Axpy(out, pj, values[o:o+hd])
			}
		}
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
