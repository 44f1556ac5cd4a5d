package runtime

import (
	"math"

	"github.com/goformer/goformer/kernels"
)

// attention stores the keys and values of the t rows of s.qkv in their
// sequences' caches and computes causal multi-head attention for their
// queries into s.att. The query of a row at position p attends to its own
// sequence's cache only, at the positions kvCache.attended names: the sinks
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
// With grouped-query attention, query head h reads kv head h/group, group
// = n_head/n_kv_head (consecutive groups, as Hugging Face's repeat_kv
// makes them). Kv heads are independent: each, with its group of query
// heads, reads and writes only its own columns of the caches and of s.qkv
// and s.att, so kv heads are split across the kernels' threads, each
// computed exactly as on one thread. (Splitting by query head would have
// two threads store one kv head.)
func (s *pass) attention(l, t int) {
	s.attLayer, s.attRows = l, t
	if s.attentionMACs(t) < minParallelAttention {
		s.attendHeads(0, s.m.cfg.KVHeads())
		return
	}
	kernels.Parallel(s.m.cfg.KVHeads(), s.attendHeads)
}

// minParallelAttention is the attention work, in multiply-adds, below which
// the heads stay on the calling goroutine: handing them to the pool costs a
// few microseconds. A variable so that tests can split small passes too.
var minParallelAttention = 1 << 15

// attentionBlock is the most query rows attended as one block: their
// scores against up to a whole cache, [block][capacity] per head, stay in
// L2, and a block is five of AxpyRows's six-row tiles.
const attentionBlock = 30

// scoreColumns is the column count blocked attention rounds its scores up
// to: AxpyRows's AVX2 tile width (AVX-512's is 64, masked).
const scoreColumns = 32

// attentionMACs is the multiply-adds of attention over the first t rows:
// a dot product and an axpy of every query head's width per attended
// position.
func (s *pass) attentionMACs(t int) int {
	macs := 0
	for _, r := range s.rows[:t] {
		sinks, first := r.seq.cache.attended(r.pos)
		macs += 2 * (sinks + r.pos - first + 1) * s.m.cfg.QueryDim()
	}
	return macs
}

// headLayout is where one row's heads sit in s.qkv and s.att.
type headLayout struct {
	hd, group int // head width; query heads per kv head
	qd, kvd   int // widths of all query heads, of all kv heads
	stride    int // s.qkv's row width, qd + 2·kvd
}

func (s *pass) heads() headLayout {
	c := &s.m.cfg
	return headLayout{hd: c.HeadDim(), group: c.NHead / c.KVHeads(), qd: c.QueryDim(), kvd: c.KVDim(), stride: s.qkvWidth}
}

// query, key and value are the offsets in s.qkv of row i's query head h
// and its kv head g's key and value.
func (l headLayout) query(i, h int) int { return i*l.stride + h*l.hd }
func (l headLayout) key(i, g int) int   { return i*l.stride + l.qd + g*l.hd }
func (l headLayout) value(i, g int) int { return i*l.stride + l.qd + l.kvd + g*l.hd }

// attendHeadRange is attention for kv heads [lo, hi), and their query
// heads, of every row of the pass in progress (s.attLayer, s.attRows), in
// order of rows: runs of consecutive positions of one sequence that fit
// the cache unwrapped as blocks, other rows one by one.
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

// storeRow stores kv heads [lo, hi) of row i's key and value in its cache.
func (s *pass) storeRow(lo, hi, i int) {
	hl := s.heads()
	r := s.rows[i]
	cols, width := hl.hd*lo, hl.hd*(hi-lo)
	k, v := hl.key(i, lo), hl.value(i, lo)
	r.seq.cache.storeColumns(s.attLayer, r.pos, s.qkv[k:k+width], s.qkv[v:v+width], cols)
}

// storeBlock stores kv heads [lo, hi) of the keys and values of rows
// [i0, i1), which attendBlock attends: consecutive positions p0.. of one
// sequence below its cache's capacity, so in slots p0, p0+1, ... Keys are
// transposed 16 rows at a time: the rows of s.qkv stay in cache while each
// column becomes 16 consecutive slots, one cache line written whole.
func (s *pass) storeBlock(lo, hi, i0, i1 int) {
	hl := s.heads()
	cache := s.rows[i0].seq.cache
	keys, values := cache.k[s.attLayer], cache.v[s.attLayer]
	p0 := s.rows[i0].pos
	c0, c1 := hl.hd*lo, hl.hd*hi
	for r0 := i0; r0 < i1; r0 += 16 {
		r1 := min(r0+16, i1)
		for col := c0; col < c1; col++ {
			dst := keys[col*cache.capacity+p0+r0-i0:]
			for i := r0; i < r1; i++ {
				dst[i-r0] = s.qkv[hl.key(i, 0)+col]
			}
		}
	}
	for i := i0; i < i1; i++ {
		o := (p0 + i - i0) * cache.width
		copy(values[o+c0:o+c1], s.qkv[hl.value(i, 0)+c0:hl.value(i, 0)+c1])
	}
}

// scaleQuery multiplies query head h of row i by 1/√head_dim, the scale of
// the scores, once, before any score is computed from it.
func (s *pass) scaleQuery(h, i int) {
	hl := s.heads()
	q := s.qkv[hl.query(i, h) : hl.query(i, h)+hl.hd]
	kernels.Scale(q, float32(1/math.Sqrt(float64(hl.hd))))
}

// attendRow stores row i's key and value for kv heads [lo, hi) and attends
// the queries of their groups over the slot runs of its attended
// positions: the scores run by run, one softmax over all of them, then the
// values run by run into the same output, in order of position. A group's
// query heads are consecutive rows hd apart in s.qkv, so each run is one
// AxpyRows for the whole group, which reads the run's keys (and values)
// once for all of them; AxpyRows computes each row as it would alone.
func (s *pass) attendRow(lo, hi, i int) {
	hl := s.heads()
	s.storeRow(lo, hi, i)
	r := s.rows[i]
	cache := r.seq.cache
	keys, values := cache.k[s.attLayer], cache.v[s.attLayer]
	var runs [3][2]int
	nr := cache.slotRuns(r.pos, &runs)
	sph := s.scoresPerHead
	for g := lo; g < hi; g++ {
		h0 := g * hl.group
		for h := h0; h < h0+hl.group; h++ {
			s.scaleQuery(h, i)
		}
		q := s.qkv[hl.query(i, h0):]
		scores := s.scores[h0*sph:]
		n := 0
		for _, run := range runs[:nr] {
			slot, count := run[0], run[1]
			// Whole AxpyRows column tiles where the cache row and the
			// scores have room, as attendBlock does: the columns past
			// count score slots this row does not attend, and the next
			// run or nothing reads them.
			cw := max(count, min((count+scoreColumns-1)/scoreColumns*scoreColumns, cache.capacity-slot, sph-n))
			for k := range hl.group {
				clear(scores[k*sph+n : k*sph+n+cw])
			}
			kernels.AxpyRows(scores[n:], sph, q, hl.hd, keys[g*hl.hd*cache.capacity+slot:], cache.capacity, hl.group, hl.hd, cw)
			n += count
		}
		for k := range hl.group {
			kernels.Softmax(scores[k*sph : k*sph+n])
		}
		out := s.att[i*hl.qd+h0*hl.hd : i*hl.qd+(h0+hl.group)*hl.hd]
		clear(out)
		n = 0
		for _, run := range runs[:nr] {
			slot, count := run[0], run[1]
			kernels.AxpyRows(out, hl.hd, scores[n:], sph, values[slot*cache.width+g*hl.hd:], cache.width, hl.group, count, hl.hd)
			n += count
		}
	}
}

// attendBlock attends rows [i0, i1), consecutive positions of one
// sequence all below its cache's capacity, so that position p is slot p
// and attends every position 0..p. It stores all their keys and values
// for kv heads [lo, hi), then, per query head and block of up to attentionBlock
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
	hl := s.heads()
	cache := s.rows[i0].seq.cache
	keys, values := cache.k[s.attLayer], cache.v[s.attLayer]
	s.storeBlock(lo, hi, i0, i1)
	for h := lo * hl.group; h < hi*hl.group; h++ {
		g := h / hl.group
		for b0 := i0; b0 < i1; b0 += attentionBlock {
			b1 := min(b0+attentionBlock, i1)
			m, e := b1-b0, s.rows[b1-1].pos+1
			// The scores are computed over whole AxpyRows column tiles
			// (ew ≥ e, within the cache): a partial tile runs column by
			// column, a third of the products' time. The columns past e
			// score slots no row attends, then are cleared: each score is
			// computed alone, so the others do not change.
			ew := min((e+scoreColumns-1)/scoreColumns*scoreColumns, cache.capacity)
			for i := b0; i < b1; i++ {
				s.scaleQuery(h, i)
			}
			scores := s.scores[h*s.scoresPerHead : h*s.scoresPerHead+m*ew]
			clear(scores)
			kernels.AxpyRows(scores, ew, s.qkv[hl.query(b0, h):], hl.stride, keys[g*hl.hd*cache.capacity:], cache.capacity, m, hl.hd, ew)
			for r := range m {
				row := scores[r*ew : (r+1)*ew]
				n := s.rows[b0+r].pos + 1
				kernels.Softmax(row[:n])
				clear(row[n:])
			}
			out := s.att[b0*hl.qd+h*hl.hd:]
			for r := range m {
				clear(out[r*hl.qd : r*hl.qd+hl.hd])
			}
			kernels.AxpyRows(out, hl.qd, scores, ew, values[g*hl.hd:], cache.width, m, e, hl.hd)
		}
	}
}
