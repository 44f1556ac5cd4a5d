package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// charClass is what GPT-2's pre-tokenizer pattern asks of a character.
type charClass uint8

const (
	classOther  charClass = iota // [^\s\p{L}\p{N}]
	classLetter                  // \p{L}
	classNumber                  // \p{N}
	classSpace                   // \s
)

// The classes follow Python's regex module, which GPT-2's encoder uses:
//   - \s is the Unicode White_Space property (25 code points). Python's re
//     and str.isspace add U+001C..U+001F, the regex module does not;
//     JavaScript adds U+FEFF; neither U+200B nor U+180E is in it.
//   - \p{L} and \p{N} are the general categories L* and N*, from Go's unicode
//     tables (Unicode 15.0). Characters assigned after that are "other".
//   - A byte that is not part of valid UTF-8 is "other", as U+FFFD would be.
func classOfRune(r rune) charClass {
	switch {
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.Is(unicode.White_Space, r):
		return classSpace
	}
	return classOther
}

// bmpClasses caches classOfRune for the Basic Multilingual Plane, where
// almost all text lives; the unicode tables' binary searches would dominate
// the scan of CJK text otherwise. Built on first use (about 1 ms).
var bmpClasses = sync.OnceValue(func() *[0x10000]charClass {
	var t [0x10000]charClass
	for r := range t {
		t[r] = classOfRune(rune(r))
	}
	return &t
})

// classAt reports the class of the character at s[i] and its length in bytes.
func classAt(s string, i int, bmp *[0x10000]charClass) (charClass, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return bmp[c], 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		return classOther, 1
	}
	if r < 0x10000 {
		return bmp[r], size
	}
	return classOfRune(r), size
}
