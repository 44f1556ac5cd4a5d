package tokenizer

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streamDecode feeds ids one by one and returns the pieces Add returned and
// Flush's remainder.
func streamDecode(t testing.TB, tok *Tokenizer, ids []int) (parts []string, rest string) {
	d := tok.NewStreamDecoder()
	for _, id := range ids {
		s, err := d.Add(id)
		require.NoError(t, err)
		parts = append(parts, s)
	}
	return parts, d.Flush()
}

func TestStreamDecoderHoldsPartialCharacters(t *testing.T) {
	tok := loadGPT2(t)
	// GPT-2 has no token for "🍕": it is two byte tokens then one for the
	// last two bytes, so the first two Adds must return nothing.
	ids := tok.Encode("🍕!")
	require.Greater(t, len(ids), 2)
	parts, rest := streamDecode(t, tok, ids)
	assert.Equal(t, "", parts[0])
	assert.Equal(t, "🍕!", strings.Join(parts, ""))
	assert.Equal(t, "", rest)

	for _, c := range edgeCases {
		ids := tok.Encode(c.text)
		parts, rest := streamDecode(t, tok, ids)
		for _, p := range parts {
			assert.True(t, utf8.ValidString(p), "%s: Add returned half a character: %q", c.class, p)
		}
		assert.Equal(t, c.text, strings.Join(parts, "")+rest, c.class)
		assert.Equal(t, "", rest, c.class)
	}
}

// TestStreamDecoderInvalidBytes: bytes that cannot start or continue a
// character are passed on at once; an unfinished character at the end comes
// out of Flush.
func TestStreamDecoderInvalidBytes(t *testing.T) {
	tok := loadGPT2(t)
	for _, c := range []struct {
		name, text, rest string
	}{
		{"stray continuation", "a\x80b", ""},
		{"invalid lead", "\xff\xfe!", ""},
		{"overlong", "\xc0\xaf", ""},
		{"cut at the end", "ok \xe4\xb8", "\xe4\xb8"},
		{"cut emoji at the end", "\xf0\x9f\x98", "\xf0\x9f\x98"},
		{"surrogate", "\xed\xa0\x80", ""},
	} {
		ids := tok.Encode(c.text)
		parts, rest := streamDecode(t, tok, ids)
		assert.Equal(t, c.text, strings.Join(parts, "")+rest, c.name)
		assert.Equal(t, c.rest, rest, c.name)
	}
	_, err := tok.NewStreamDecoder().Add(tok.VocabSize())
	assert.ErrorIs(t, err, ErrUnknownID)
}

func TestIncompleteTail(t *testing.T) {
	for _, c := range []struct {
		b    string
		want int
	}{
		{"", 0}, {"a", 0}, {"é", 0}, {"\xc3", 1}, {"a\xe4\xb8", 2}, {"\xf0\x9f\x98", 3}, {"\xf0\x9f\x98\x80", 0},
		{"\x80", 0}, {"\xff", 0}, {"\xe4\x41", 0}, {"\xc0", 0}, {"\xed\xa0", 0}, {"\xe4\xb8\xad\xe4", 1},
	} {
		assert.Equal(t, c.want, incompleteTail([]byte(c.b)), "%q", c.b)
	}
}
