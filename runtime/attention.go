package runtime

import (
	"math"

	"github.com/goformer/goformer/kernels"
)

// attention stores the keys and values of the t rows of s.qkv in their
// sequences' caches and computes causal multi-head attention for their
// queries into s.att. The query of a row at position p attends to its own
// sequence's cache only, at the positions KVCache.attended names: the sinks
// and the most recent ones up to p, its own included (every position from 0
// until the ring first wraps).
//
// Consecutive rows of one sequence whose positions stay below the cache's
// capacity (the ring has not wrapped) are attended as blocks of queries
// (attendBlock): their keys are stored first, then each block is two
// matrix products. Any other row stores its key just before its query
// attends (attendRow), so a query never sees a later row of its own
// sequence, and a chunk longer than the ring's free space never overwrites
// a key that an earlier query of the same chunk needs. Both ways compute
// every score and output element with the same arithmetic
// (kernels.AxpyRows), so a token's attention does not depend on how many
// rows its pass has.
//
// Heads are independent: each reads and writes only its own columns of the
// caches and of s.qkv and s.att, so they are split across the kernels'
// threads, each head computed exactly as on one thread.
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

// attentionBlock is the most query rows attended as one block: their
// scores against up to a whole cache, [block][capacity] per head, stay in
// L2, and a block is five of AxpyRows's six-row tiles.
const attentionBlock = 30

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
// pass in progress (s.attLayer, s.attRows), in order of rows: runs of
// consecutive positions of one sequence that fit the cache unwrapped as
// blocks, other rows one by one.
func (s *pass) attendHeadRange(lo, hi int) {
	t := s.attRows
	for i := 0; i < t; {
		seq := s.rows[i].seq
		j := i + 1
		for j < t && s.rows[j].seq == seq && s.rows[j].pos == s.rows[j-1].pos+1 {
			j++
		}
		if j-i > 1 && s.rows[j-1].pos < seq.cache.capacity {
			s.attendBlock(lo, hi, i, j)
			i = j
			continue
		}
		for ; i < j; i++ {
			s.attendRow(lo, hi, i)
		}
	}
}

// storeRow stores heads [lo, hi) of row i's key and value in its cache.
func (s *pass) storeRow(lo, hi, i int) {
	d, hd := s.m.cfg.NEmbd, s.m.cfg.HeadDim()
	r := s.rows[i]
	row := s.qkv[i*3*d : (i+1)*3*d]
	cols, width := hd*lo, hd*(hi-lo)
	r.seq.cache.storeColumns(s.attLayer, r.pos, row[d+cols:d+cols+width], row[2*d+cols:2*d+cols+width], cols)
}

// storeBlock stores heads [lo, hi) of the keys and values of rows
// [i0, i1), which attendBlock attends: consecutive positions p0.. of one
// sequence below its cache's capacity, so in slots p0, p0+1, ... Keys are
// transposed 16 rows at a time: the rows of s.qkv stay in cache while each
// column becomes 16 consecutive slots, one cache line written whole.
func (s *pass) storeBlock(lo, hi, i0, i1 int) {
	d, hd := s.m.cfg.NEmbd, s.m.cfg.HeadDim()
	cache := s.rows[i0].seq.cache
	keys, values := cache.k[s.attLayer], cache.v[s.attLayer]
	p0 := s.rows[i0].pos
	c0, c1 := hd*lo, hd*hi
	for r0 := i0; r0 < i1; r0 += 16 {
		r1 := min(r0+16, i1)
		for col := c0; col < c1; col++ {
			dst := keys[col*cache.capacity+p0+r0-i0:]
			for i := r0; i < r1; i++ {
				dst[i-r0] = s.qkv[i*3*d+d+col]
			}
		}
	}
	for i := i0; i < i1; i++ {
		o := (p0 + i - i0) * cache.width
		copy(values[o+c0:o+c1], s.qkv[i*3*d+2*d+c0:i*3*d+2*d+c1])
	}
}

// scaleQuery multiplies head hh of row i's query by 1/√head_dim, the
// scale of the scores, once, before any score is computed from it.
func (s *pass) scaleQuery(hh, i int) {
	d, hd := s.m.cfg.NEmbd, s.m.cfg.HeadDim()
	q := s.qkv[i*3*d+hh*hd : i*3*d+(hh+1)*hd]
	kernels.Scale(q, float32(1/math.Sqrt(float64(hd))))
}

// attendRow stores row i's key and value for heads [lo, hi) and attends
// its query over the slot runs of its attended positions: the scores run
// by run, one softmax over all of them, then the values run by run into
// the same output, in order of position.
func (s *pass) attendRow(lo, hi, i int) {
	d, hd := s.m.cfg.NEmbd, s.m.cfg.HeadDim()
	s.storeRow(lo, hi, i)
	r := s.rows[i]
	cache := r.seq.cache
	keys, values := cache.k[s.attLayer], cache.v[s.attLayer]
	var runs [3][2]int
	nr := cache.slotRuns(r.pos, &runs)
	for hh := lo; hh < hi; hh++ {
		s.scaleQuery(hh, i)
		q := s.qkv[i*3*d+hh*hd:]
		scores := s.scores[hh*s.scoresPerHead:]
		n := 0
		for _, run := range runs[:nr] {
			slot, count := run[0], run[1]
			clear(scores[n : n+count])
			kernels.AxpyRows(scores[n:], count, q, hd, keys[hh*hd*cache.capacity+slot:], cache.capacity, 1, hd, count)
			n += count
		}
		kernels.Softmax(scores[:n])
		out := s.att[i*d+hh*hd : i*d+(hh+1)*hd]
		clear(out)
		n = 0
		for _, run := range runs[:nr] {
			slot, count := run[0], run[1]
			kernels.AxpyRows(out, hd, scores[n:], count, values[slot*cache.width+hh*hd:], cache.width, 1, count, hd)
			n += count
		}
	}
}

// attendBlock attends rows [i0, i1), consecutive positions of one
// sequence all below its cache's capacity, so that position p is slot p
// and attends every position 0..p. It stores all their keys and values
// for heads [lo, hi), then, per head and block of up to attentionBlock
// rows whose last position is e, computes
//
//	S = Q·Kᵀ over slots [0, e]   (one AxpyRows against the transposed keys)
//	each row of S: softmax over its own positions 0..p, zero after
//	O = S·V                       (one AxpyRows)
//
// Each score is attendRow's exactly. Each output element is attendRow's
// chain of multiply-adds followed by products of an exact +0 weight and a
// finite value, which leave it unchanged: an accumulation started at +0
// never holds −0, and x + ±0 = x for every other x.
func (s *pass) attendBlock(lo, hi, i0, i1 int) {
	d, hd := s.m.cfg.NEmbd, s.m.cfg.HeadDim()
	cache := s.rows[i0].seq.cache
	keys, values := cache.k[s.attLayer], cache.v[s.attLayer]
	s.storeBlock(lo, hi, i0, i1)
	for hh := lo; hh < hi; hh++ {
		for b0 := i0; b0 < i1; b0 += attentionBlock {
			b1 := min(b0+attentionBlock, i1)
			m, e := b1-b0, s.rows[b1-1].pos+1
			for i := b0; i < b1; i++ {
				s.scaleQuery(hh, i)
			}
			scores := s.scores[hh*s.scoresPerHead : hh*s.scoresPerHead+m*e]
			clear(scores)
			kernels.AxpyRows(scores, e, s.qkv[b0*3*d+hh*hd:], 3*d, keys[hh*hd*cache.capacity:], cache.capacity, m, hd, e)
			for r := range m {
				row := scores[r*e : (r+1)*e]
				n := s.rows[b0+r].pos + 1
				kernels.Softmax(row[:n])
				clear(row[n:])
			}
			out := s.att[b0*d+hh*hd:]
			for r := range m {
				clear(out[r*d : r*d+hd])
			}
			kernels.AxpyRows(out, d, scores, e, values[hh*hd:], cache.width, m, e, hd)
		}
	}
}
