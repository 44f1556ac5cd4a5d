package runtime

// KVCache holds the keys and values of every layer for the last Capacity
// positions of one sequence. It is a ring buffer: position p lives in slot
// p mod Capacity, so a position kind that can slide (RoPE) reuses the
// oldest slots without moving anything. All memory is allocated once.
type KVCache struct {
	capacity int
	width    int         // values per slot: n_embd (all heads side by side)
	k, v     [][]float32 // per layer: [capacity][width]
}

func newKVCache(layers, capacity, width int) *KVCache {
	c := &KVCache{capacity: capacity, width: width, k: make([][]float32, layers), v: make([][]float32, layers)}
	for l := range c.k {
		c.k[l] = make([]float32, capacity*width)
		c.v[l] = make([]float32, capacity*width)
	}
	return c
}

// Capacity is the number of positions the cache holds.
func (c *KVCache) Capacity() int { return c.capacity }

// slot returns the offset of position pos in a layer's K or V array.
func (c *KVCache) slot(pos int) int { return (pos % c.capacity) * c.width }

// store writes the key and value of position pos in layer l.
func (c *KVCache) store(l, pos int, key, value []float32) {
	o := c.slot(pos)
	copy(c.k[l][o:o+c.width], key)
	copy(c.v[l][o:o+c.width], value)
}
