package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBPEScanEqualsHeap runs both merge strategies over pieces of every
// length, from the corpus and from random bytes: they must agree, since the
// threshold between them is only a matter of speed.
func TestBPEScanEqualsHeap(t *testing.T) {
	tok := loadGPT2(t)
	var pieceList []string
	bmp := bmpClasses()
	for _, c := range edgeCases {
		for i := 0; i < len(c.text); {
			j := pieceEnd(c.text, i, bmp)
			pieceList = append(pieceList, c.text[i:j])
			i = j
		}
	}
	udhr := readGzip(t, "testdata/udhr.txt.gz")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		start := rng.IntN(len(udhr) - 200)
		pieceList = append(pieceList, udhr[start:start+1+rng.IntN(heapThreshold-1)])
		b := make([]byte, 1+rng.IntN(heapThreshold-1))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		pieceList = append(pieceList, string(b))
	}
	pieceList = append(pieceList, strings.Repeat("a", 127), strings.Repeat("ab", 63), strings.Repeat(" ", 100))

	sc := new(heapScratch)
	for _, p := range pieceList {
		if len(p) >= heapThreshold {
			continue
		}
		scan := tok.bpeScan(nil, p)
		heap := tok.bpeHeap(nil, p, sc)
		require.Equal(t, scan, heap, "%q", p)
		back, err := tok.Decode(heap)
		require.NoError(t, err)
		require.Equal(t, p, back)
	}
}

// TestLongPieces takes the heap path on runs far longer than any word.
func TestLongPieces(t *testing.T) {
	tok, ref := loadGPT2(t), loadR50k(t)
	for _, text := range []string{
		strings.Repeat("a", 5000),
		strings.Repeat("的", 3000),
		strings.Repeat(" ", 4000) + "x",
		strings.Repeat("😀", 500),
		strings.Repeat("abcdefghij", 300),
	} {
		got := tok.Encode(text)
		assert.Equal(t, ref.EncodeOrdinary(text), got, "%.20q... (%d bytes)", text, len(text))
	}
}
