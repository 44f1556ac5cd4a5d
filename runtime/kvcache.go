package runtime

// kvCache holds the keys and values of every layer for the positions a
// session can attend, in fixed memory allocated once. It is a ring buffer
// with pinned sinks: positions below keep live in slots 0..keep-1 for good,
// and every later position p lives in slot keep + (p−keep) mod (capacity−keep),
// so a position kind that can slide (RoPE) overwrites the oldest non-sink
// slot without moving anything. Until the first wrap, position p is in
// slot p.
type kvCache struct {
	capacity int
	keep     int // slots pinned to positions 0..keep-1
	width    int // values per slot: n_embd (all heads side by side)
	// Per layer. Keys are stored transposed, so that the keys of a run of
	// slots are rows of a matrix whose columns are slots: scores against
	// them are one kernels.AxpyRows, a decode's single query included.
	k [][]float32 // [width][capacity]
	v [][]float32 // [capacity][width]
}

// newKVCache allocates the keys and values of every layer as one block of
// huge-page memory (hugePageFloats): a decode step reads a key row per
// dimension, capacity floats apart, and on base pages each is a TLB miss.
func newKVCache(layers, capacity, keep, width int) *kvCache {
	c := &kvCache{capacity: capacity, keep: keep, width: width, k: make([][]float32, layers), v: make([][]float32, layers)}
	size := capacity * width
	block := hugePageFloats(2 * layers * size)
	for l := range c.k {
		c.k[l] = block[2*l*size : (2*l+1)*size : (2*l+1)*size]
		c.v[l] = block[(2*l+1)*size : (2*l+2)*size : (2*l+2)*size]
	}
	return c
}

// window is the number of most recent positions the ring holds besides the
// sinks.
func (c *kvCache) window() int { return c.capacity - c.keep }

// index returns the slot of position pos.
func (c *kvCache) index(pos int) int {
	if pos < c.keep {
		return pos
	}
	return c.keep + (pos-c.keep)%c.window()
}

// slotRuns returns the attended positions of the query at position p (see
// attended) as at most three runs of consecutive slots, in order of
// position: a run is the slots [runs[r][0], runs[r][0]+runs[r][1]).
func (c *kvCache) slotRuns(p int, runs *[3][2]int) int {
	sinks, first := c.attended(p)
	n := 0
	if sinks > 0 {
		runs[n] = [2]int{0, sinks}
		n++
	}
	// The recent positions [first, p], split where the ring wraps.
	for first <= p {
		slot := c.index(first)
		count := min(p-first+1, c.capacity-slot)
		runs[n] = [2]int{slot, count}
		n++
		first += count
	}
	return n
}

// attended returns the positions the query at position p sees once p is
// stored: the sinks [0, sinks) and the recent positions [first, p].
// Before the first wrap that is every position 0..p.
func (c *kvCache) attended(p int) (sinks, first int) {
	sinks = min(c.keep, p+1)
	first = max(sinks, p-c.window()+1)
	return sinks, first
}

// storeColumns writes key and value, the columns [col, col+len(key)) of
// position pos's key and value in layer l (some heads' share of them).
func (c *kvCache) storeColumns(l, pos int, key, value []float32, col int) {
	slot := c.index(pos)
	keys := c.k[l][col*c.capacity+slot:]
	for i, x := range key {
		keys[i*c.capacity] = x
	}
	o := slot*c.width + col
	copy(c.v[l][o:o+len(value)], value)
}
