package tokenizer

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestConcurrentEncode shares one tokenizer, and its word cache, between
// goroutines; run it with -race too.
func TestConcurrentEncode(t *testing.T) {
	tok := loadGPT2(t)
	want := make([][]int, len(edgeCases))
	for i, c := range edgeCases {
		want[i] = tok.Encode(c.text)
	}
	tok.cache.reset()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 20 {
				if g == 0 && round%5 == 0 {
					tok.cache.reset()
				}
				for i, c := range edgeCases {
					assert.Equal(t, want[i], tok.Encode(c.text), c.class)
				}
			}
		})
	}
	wg.Wait()
}
