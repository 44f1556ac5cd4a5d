package tokenizer

import (
	"sync"
	"testing"

	tiktoken "github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// r50k is tiktoken's r50k_base, GPT-2's encoding, from tiktoken-go with the
// BPE ranks its offline loader embeds: the reference encoder.
var r50k = sync.OnceValues(func() (*tiktoken.Tiktoken, error) {
	tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader())
	return tiktoken.GetEncoding("r50k_base")
})

func loadR50k(tb testing.TB) *tiktoken.Tiktoken {
	tb.Helper()
	enc, err := r50k()
	require.NoError(tb, err)
	return enc
}

// TestParityWithTiktoken compares every text of the parity corpus with
// tiktoken-go, and checks that each decodes back to itself.
func TestParityWithTiktoken(t *testing.T) {
	tok, ref := loadGPT2(t), loadR50k(t)
	texts := parityCorpus(t)
	size := corpusBytes(texts)
	t.Logf("parity corpus: %d texts, %d bytes", len(texts), size)
	require.GreaterOrEqual(t, size, 1<<20, "the parity corpus must hold at least 1 MiB")

	tokens, mismatches := 0, 0
	for _, c := range texts {
		want := ref.EncodeOrdinary(c.text)
		got := tok.Encode(c.text)
		if len(want) == 0 && len(got) == 0 {
			continue // "" encodes to nothing; tiktoken-go says [] where Go says nil
		}
		tokens += len(got)
		if !assert.Equal(t, want, got, "%s: %.80q", c.name, c.text) {
			if mismatches++; mismatches > 5 {
				t.Fatal("too many mismatches")
			}
		}
		back, err := tok.Decode(got)
		require.NoError(t, err)
		assert.Equal(t, c.text, back, "%s: round trip", c.name)
	}
	if mismatches == 0 {
		t.Logf("parity corpus: %d tokens, all identical", tokens)
	}
}
