package tokenizer

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncodePrompt: BOS before and EOS after Encode's ids exactly where the
// tokenizer adds them; GPT-2's adds neither.
func TestEncodePrompt(t *testing.T) {
	var tokens []string
	for _, r := range byteRune {
		tokens = append(tokens, string(r))
	}
	tokens = append(tokens, "<s>", "</s>")
	for _, c := range []struct {
		bos, eos bool
		want     []int
	}{{false, false, []int{'h', 'i'}}, {true, false, []int{256, 'h', 'i'}}, {true, true, []int{256, 'h', 'i', 257}}} {
		tok, err := NewBPE(tokens, nil, Options{Specials: []string{"<s>", "</s>"}, AddBOS: c.bos, AddEOS: c.eos, BOS: 256, EOS: 257})
		require.NoError(t, err)
		assert.Equal(t, []int{'h', 'i'}, tok.Encode("hi"))
		assert.Equal(t, c.want, tok.EncodePrompt("hi"), "bos %v eos %v", c.bos, c.eos)
	}
}
