package tokenizer

import "math"

// noMerge is the rank of a pair that no merge joins.
const noMerge = math.MaxInt32

// heapThreshold is the piece length (in bytes) from which BPE switches from
// rescanning an array of pair ranks, quadratic but fast for words, to a heap,
// O(n log n) for the long runs that letters without spaces (CJK) or
// repeated characters produce.
const heapThreshold = 128

// merges maps a pair of token ids to the merge that joins them. It is an
// open-addressing hash table with linear probing: BPE looks a pair up for
// every join, and this is several times faster than a Go map for it.
type merges struct {
	keys  []uint64 // pairKey, or emptyKey
	rules []mergeRule
	shift uint // 64 - log2(len(keys))
}

type mergeRule struct {
	rank   int32 // position in the merge list: lower merges first
	result int32 // the token the pair becomes
}

// emptyKey marks a free slot: no pair of valid ids has it.
const emptyKey = ^uint64(0)

func pairKey(left, right int32) uint64 { return uint64(uint32(left))<<32 | uint64(uint32(right)) }

func newMerges(n int) merges {
	bits := uint(4)
	for 1<<bits < 2*n { // at most half full
		bits++
	}
	m := merges{keys: make([]uint64, 1<<bits), rules: make([]mergeRule, 1<<bits), shift: 64 - bits}
	for i := range m.keys {
		m.keys[i] = emptyKey
	}
	return m
}

func (m *merges) slot(key uint64) uint64 { return (key * 0x9E3779B97F4A7C15) >> m.shift }

// add stores a rule; it reports false if the pair already has one.
func (m *merges) add(left, right int32, rule mergeRule) bool {
	key, mask := pairKey(left, right), uint64(len(m.keys)-1)
	for i := m.slot(key); ; i = (i + 1) & mask {
		switch m.keys[i] {
		case key:
			return false
		case emptyKey:
			m.keys[i], m.rules[i] = key, rule
			return true
		}
	}
}

func (m *merges) get(left, right int32) (mergeRule, bool) {
	key, mask := pairKey(left, right), uint64(len(m.keys)-1)
	for i := m.slot(key); ; i = (i + 1) & mask {
		switch m.keys[i] {
		case key:
			return m.rules[i], true
		case emptyKey:
			return mergeRule{}, false
		}
	}
}

func (m *merges) rank(left, right int32) int32 {
	if r, ok := m.get(left, right); ok {
		return r.rank
	}
	return noMerge
}

// heapScratch is bpeHeap's working memory, reused through a pool so that
// warm calls allocate nothing. (bpeScan's fits on the stack.)
type heapScratch struct {
	syms []int32
	next []int32
	prev []int32
	heap []uint64
}

// bpe appends the tokens of one piece to dst. It applies GPT-2's rule: join
// the adjacent pair whose merge has the lowest rank, leftmost first, until no
// pair has a merge. (Joining every occurrence of that pair in one left-to-
// right pass, as encoder.py does, gives the same result: a join creates only
// pairs containing the new token, and every merge using a token ranks after
// the merge that made it.)
func (t *Tokenizer) bpe(dst []int, piece string) []int {
	if len(piece) >= heapThreshold {
		sc := t.heapScratch.Get().(*heapScratch)
		dst = t.bpeHeap(dst, piece, sc)
		t.heapScratch.Put(sc)
		return dst
	}
	return t.bpeScan(dst, piece)
}

// bpeScan keeps the rank of every adjacent pair in an array and rescans it
// for the minimum after each join; only the two pairs next to a join are
// looked up again.
func (t *Tokenizer) bpeScan(dst []int, piece string) []int {
	var symBuf, rankBuf [heapThreshold]int32
	syms, ranks := symBuf[:0], rankBuf[:0]
	for i := 0; i < len(piece); i++ {
		syms = append(syms, t.byteToken[piece[i]])
	}
	for i := 0; i+1 < len(syms); i++ {
		ranks = append(ranks, t.merges.rank(syms[i], syms[i+1]))
	}
	for len(ranks) > 0 {
		best, at := int32(noMerge), -1
		for i, r := range ranks {
			if r < best {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		rule, _ := t.merges.get(syms[at], syms[at+1])
		syms[at] = rule.result
		syms = append(syms[:at+1], syms[at+2:]...)
		ranks = append(ranks[:at], ranks[at+1:]...)
		if at > 0 {
			ranks[at-1] = t.merges.rank(syms[at-1], syms[at])
		}
		if at < len(ranks) {
			ranks[at] = t.merges.rank(syms[at], syms[at+1])
		}
	}
	for _, s := range syms {
		dst = append(dst, int(s))
	}
	return dst
}

// bpeHeap keeps the symbols in a linked list and candidate joins in a
// min-heap keyed by (rank, position); an entry whose pair has changed since
// it was pushed is dropped when popped.
func (t *Tokenizer) bpeHeap(dst []int, piece string, sc *heapScratch) []int {
	n := len(piece)
	syms, next, prev := grow(sc.syms, n), grow(sc.next, n), grow(sc.prev, n)
	h := sc.heap[:0]
	for i := 0; i < n; i++ {
		syms[i] = t.byteToken[piece[i]]
		next[i], prev[i] = int32(i+1), int32(i-1)
	}
	next[n-1] = -1
	push := func(at int32) {
		if r := t.merges.rank(syms[at], syms[next[at]]); r != noMerge {
			h = heapPush(h, uint64(r)<<32|uint64(at))
		}
	}
	for i := int32(0); i+1 < int32(n); i++ {
		push(i)
	}
	for len(h) > 0 {
		var top uint64
		top, h = heapPop(h)
		rank, at := int32(top>>32), int32(uint32(top))
		right := next[at]
		if syms[at] < 0 || right < 0 {
			continue
		}
		rule, ok := t.merges.get(syms[at], syms[right])
		if !ok || rule.rank != rank {
			continue
		}
		syms[at] = rule.result
		syms[right] = -1
		next[at] = next[right]
		if next[at] >= 0 {
			prev[next[at]] = at
			push(at)
		}
		if p := prev[at]; p >= 0 {
			push(p)
		}
	}
	for i := int32(0); i >= 0; i = next[i] {
		dst = append(dst, int(syms[i]))
	}
	sc.syms, sc.next, sc.prev, sc.heap = syms, next, prev, h
	return dst
}

func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

func heapPush(h []uint64, v uint64) []uint64 {
	h = append(h, v)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p] <= h[i] {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	return h
}

func heapPop(h []uint64) (uint64, []uint64) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l] < h[m] {
			m = l
		}
		if r < len(h) && h[r] < h[m] {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top, h
}
