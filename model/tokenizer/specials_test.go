package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manySpecials is a vocabulary of the 256 byte tokens and n special tokens
// of ragged lengths (as GGUF's CONTROL tokens, or vocabulary entries no
// merge makes), among them "<s>" and "<s><s>", whose shorter one is a
// prefix of the longer.
func manySpecials(n int) (tokens, specials []string) {
	for b := range 256 {
		tokens = append(tokens, string(byteRune[b]))
	}
	specials = []string{"<s>", "<s><s>"}
	for i := len(specials); i < n; i++ {
		specials = append(specials, fmt.Sprintf("<|%d%s|>", i, strings.Repeat("_", i%61)))
	}
	return append(tokens, specials...), specials
}

// TestManySpecials: 100,000 special tokens load at once (the insertion
// sort this replaces took 10 s), longest first and, among equal lengths,
// in vocabulary order; the longest special wins where several match.
func TestManySpecials(t *testing.T) {
	tokens, specials := manySpecials(100_000)
	tok, err := New(tokens, nil, specials)
	require.NoError(t, err)
	require.Len(t, tok.specials, len(specials))
	assert.True(t, slices.IsSortedFunc(tok.specials, func(a, b special) int {
		if len(a.text) != len(b.text) {
			return len(b.text) - len(a.text)
		}
		return a.id - b.id
	}), "longest first, then in id order")

	long := specials[4321]
	ids := tok.EncodeSpecial("<s><s><s>|" + long)
	s1, _ := tok.SpecialID("<s>")
	s2, _ := tok.SpecialID("<s><s>")
	n, ok := tok.SpecialID(long)
	require.True(t, ok)
	assert.Equal(t, []int{s2, s1, int(tok.byteToken['|']), n}, ids)
}

func BenchmarkManySpecials(b *testing.B) {
	tokens, specials := manySpecials(100_000)
	for b.Loop() {
		if _, err := New(tokens, nil, specials); err != nil {
			b.Fatal(err)
		}
	}
}
