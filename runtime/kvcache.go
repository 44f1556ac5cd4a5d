package runtime

// KVCache holds the keys and values of every layer for the positions a
// session can attend, in fixed memory allocated once. It is a ring buffer
// with pinned sinks: positions below keep live in slots 0..keep-1 for good,
// and every later position p lives in slot keep + (p−keep) mod (capacity−keep),
// so a position kind that can slide (RoPE) overwrites the oldest non-sink
// slot without moving anything. Until the first wrap, position p is in
// slot p.
type KVCache struct {
	capacity int
	keep     int         // slots pinned to positions 0..keep-1
	width    int         // values per slot: n_embd (all heads side by side)
	k, v     [][]float32 // per layer: [capacity][width]
}

func newKVCache(layers, capacity, keep, width int) *KVCache {
	c := &KVCache{capacity: capacity, keep: keep, width: width, k: make([][]float32, layers), v: make([][]float32, layers)}
	for l := range c.k {
		c.k[l] = make([]float32, capacity*width)
		c.v[l] = make([]float32, capacity*width)
	}
	return c
}

// Capacity is the number of positions the cache holds.
func (c *KVCache) Capacity() int { return c.capacity }

// window is the number of most recent positions the ring holds besides the
// sinks.
func (c *KVCache) window() int { return c.capacity - c.keep }

// index returns the slot of position pos.
func (c *KVCache) index(pos int) int {
	if pos < c.keep {
		return pos
	}
	return c.keep + (pos-c.keep)%c.window()
}

// slot returns the offset of position pos in a layer's K or V array.
func (c *KVCache) slot(pos int) int { return c.index(pos) * c.width }

// attended returns the positions the query at position p sees once p is
// stored: the sinks [0, sinks) and the recent positions [first, p].
// Before the first wrap that is every position 0..p.
func (c *KVCache) attended(p int) (sinks, first int) {
	sinks = min(c.keep, p+1)
	first = max(sinks, p-c.window()+1)
	return sinks, first
}

// storeColumns writes key and value, the columns [col, col+len(key)) of
// position pos's key and value in layer l (some heads' share of them).
func (c *KVCache) storeColumns(l, pos int, key, value []float32, col int) {
	o := c.slot(pos) + col
	copy(c.k[l][o:o+len(key)], key)
	copy(c.v[l][o:o+len(value)], value)
}
