package tokenizer

import (
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
)

func pieces(s string) []string {
	bmp := bmpClasses()
	var out []string
	for i := 0; i < len(s); {
		j := pieceEnd(s, i, bmp)
		out = append(out, s[i:j])
		i = j
	}
	return out
}

// TestPieces pins the pre-tokenizer's cuts, each checked against Python's
// regex module running GPT-2's pattern.
func TestPieces(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"Hello world", []string{"Hello", " world"}},
		{"it's we're I'll 'd", []string{"it", "'s", " we", "'re", " I", "'ll", " '", "d"}},
		{"DON'T", []string{"DON", "'", "T"}}, // contractions are lower case only
		{"x''s", []string{"x", "''", "s"}},
		{"'sun", []string{"'s", "un"}},
		{"abc123 456", []string{"abc", "123", " 456"}},
		{"a  b", []string{"a", " ", " b"}},
		{"a   \n\nb", []string{"a", "   \n", "\n", "b"}},
		{"\n\nHello", []string{"\n", "\n", "Hello"}},
		{"end  ", []string{"end", "  "}},
		{"x\ty", []string{"x", "\t", "y"}},
		{"x \t y", []string{"x", " \t", " y"}},
		{"a\r\nb", []string{"a", "\r", "\n", "b"}},
		{"  !!", []string{" ", " !!"}},
		{"a\u00a0b", []string{"a", "\u00a0", "b"}},       // NBSP is \s, and only ASCII space joins a word
		{"a \u00a0b", []string{"a", " ", "\u00a0", "b"}}, // run " \u00a0" leaves its last character
		{"x\u3000\u3000y", []string{"x", "\u3000", "\u3000", "y"}},
		{"e\u0301t\u00e9", []string{"e", "\u0301", "t\u00e9"}}, // combining marks (Mn) are "other"
		{"我爱你。", []string{"我爱你", "。"}},
		{"👋🏽 hi", []string{"👋🏽", " hi"}},
		{"\xff\xfeab\x80", []string{"\xff\xfe", "ab", "\x80"}}, // invalid bytes are "other"
		{"", nil},
	} {
		assert.Equal(t, c.want, pieces(c.text), "%q", c.text)
	}
}

// TestWhitespaceIsPythonRegex documents which characters GPT-2's \s
// matches. GPT-2 ran its pattern through Python's regex module, where \s is
// Unicode's White_Space property; tiktoken agrees. Python's re module (and
// str.isspace) would add U+001C..U+001F, JavaScript's \s adds U+FEFF, so
// JavaScript encoders (gpt-3-encoder) tokenize "mark \ufeffinside" as
// " ", "\ufeffinside" where GPT-2 has " \ufeff", "inside". We follow GPT-2.
func TestWhitespaceIsPythonRegex(t *testing.T) {
	whiteSpace := []rune{
		'\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
		0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
	}
	var got []rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if classOfRune(r) == classSpace {
			got = append(got, r)
		}
	}
	assert.Equal(t, whiteSpace, got)
	for _, r := range []rune{0x1C, 0x1D, 0x1E, 0x1F, 0xFEFF, 0x200B, 0x180E, 0x2060} {
		assert.Equal(t, classOther, classOfRune(r), "U+%04X", r)
	}
	assert.Equal(t, []string{"mark", " \ufeff", "inside"}, pieces("mark \ufeffinside"))

	// The fixture's BOM case, where gpt-3-encoder disagrees.
	tok := loadGPT2(t)
	assert.Equal(t, []int{64, 18022, 12, 2875, 1317, 27332, 119, 123, 48787}, tok.Encode("a byte-order mark \ufeffinside"))
}

// TestClassTableMatchesUnicode checks the BMP lookup table against the
// definition.
func TestClassTableMatchesUnicode(t *testing.T) {
	bmp := bmpClasses()
	for r := rune(0); r < 0x10000; r++ {
		if bmp[r] != classOfRune(r) {
			t.Fatalf("U+%04X: table says %d, classOfRune %d", r, bmp[r], classOfRune(r))
		}
	}
}
