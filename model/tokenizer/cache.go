package tokenizer

import (
	"strings"
	"sync"
)

// maxCachedPiece bounds the pieces the word cache keeps: words repeat, long
// runs (CJK sentences, indentation) rarely do.
const maxCachedPiece = 32

// maxCacheIDs bounds the cache's memory; when full it starts over.
const maxCacheIDs = 1 << 20

// wordCache remembers the tokens of pieces already encoded. Readers share
// the lock, so concurrent Encode calls only wait for each other on a miss.
type wordCache struct {
	mu    sync.RWMutex
	spans map[string]span
	ids   []int32
}

type span struct{ start, end uint32 }

func (c *wordCache) init() {
	c.spans = make(map[string]span)
}

// appendTo appends the cached tokens of piece to dst, if it is cached.
func (c *wordCache) appendTo(dst []int, piece string) ([]int, bool) {
	c.mu.RLock()
	sp, ok := c.spans[piece]
	if ok {
		for _, id := range c.ids[sp.start:sp.end] {
			dst = append(dst, int(id))
		}
	}
	c.mu.RUnlock()
	return dst, ok
}

func (c *wordCache) add(piece string, ids []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.spans[piece]; ok {
		return
	}
	if len(c.ids)+len(ids) > maxCacheIDs {
		clear(c.spans)
		c.ids = c.ids[:0]
	}
	start := uint32(len(c.ids))
	for _, id := range ids {
		c.ids = append(c.ids, int32(id))
	}
	// Clone: the key must not keep the caller's whole text alive.
	c.spans[strings.Clone(piece)] = span{start, uint32(len(c.ids))}
}

// reset empties the cache; benchmarks use it to measure cold encoding.
func (c *wordCache) reset() {
	c.mu.Lock()
	clear(c.spans)
	c.ids = c.ids[:0]
	c.mu.Unlock()
}
