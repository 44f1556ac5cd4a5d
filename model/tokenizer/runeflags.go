package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// runeFlags are the Unicode properties the named pre-tokenizers' patterns
// ask about. Unlike charClass, several can hold at once only in principle;
// the general categories are disjoint, and White_Space is disjoint from L,
// N, P, M and S.
type runeFlags uint8

const (
	flagLetter runeFlags = 1 << iota // \p{L}
	flagNumber                       // \p{N}
	flagSpace                        // \s: Unicode White_Space, as in charClass
	flagPunct                        // \p{P}
	flagMark                         // \p{M}
	flagSymbol                       // \p{S}
)

func flagsOfRune(r rune) runeFlags {
	switch {
	case unicode.IsLetter(r):
		return flagLetter
	case unicode.IsNumber(r):
		return flagNumber
	case unicode.Is(unicode.White_Space, r):
		return flagSpace
	case unicode.IsPunct(r):
		return flagPunct
	case unicode.IsMark(r):
		return flagMark
	case unicode.IsSymbol(r):
		return flagSymbol
	}
	return 0
}

// bmpFlags caches flagsOfRune for the Basic Multilingual Plane; built on
// first use by a tokenizer whose pre-tokenizer needs it.
var bmpFlags = sync.OnceValue(func() *[0x10000]runeFlags {
	var t [0x10000]runeFlags
	for r := range t {
		t[r] = flagsOfRune(rune(r))
	}
	return &t
})

// flagsAt reports the rune at s[i], its flags and its length in bytes. A
// byte that is not part of valid UTF-8 is a rune of its own with no flags,
// as U+FFFD would be for the patterns ("other" everywhere).
func flagsAt(s string, i int, bmp *[0x10000]runeFlags) (rune, runeFlags, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), bmp[c], 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		return utf8.RuneError, 0, 1
	}
	if r < 0x10000 {
		return r, bmp[r], size
	}
	return r, flagsOfRune(r), size
}
