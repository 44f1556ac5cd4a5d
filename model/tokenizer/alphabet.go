package tokenizer

import "unicode/utf8"

// GPT-2 stores byte-level tokens as text: each byte is drawn as a printable
// rune so that vocab.json and merges.txt stay readable. Printable Latin-1
// bytes stand for themselves; the other 68 (controls, space, NBSP, soft
// hyphen) are drawn as U+0100 onwards, in byte order. This is bytes_to_unicode
// of OpenAI's encoder.py, and the vocabularies of GGUF's "gpt2" tokenizer
// model use it too.
var byteRune, runeByte = buildAlphabet()

// runeByte is indexed by rune; byte-alphabet runes are all below 0x144.
const alphabetRunes = 0x144

func buildAlphabet() (toRune [256]rune, toByte [alphabetRunes]int16) {
	for i := range toByte {
		toByte[i] = -1
	}
	next := rune(256)
	for b := 0; b < 256; b++ {
		printable := ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
		if printable {
			toRune[b] = rune(b)
		} else {
			toRune[b] = next
			next++
		}
		toByte[toRune[b]] = int16(b)
	}
	return toRune, toByte
}

// alphabetDecode turns a token's byte-alphabet text into the bytes it stands
// for. ok is false if a rune is not in the alphabet.
func alphabetDecode(s string) (b []byte, ok bool) {
	b = make([]byte, 0, len(s))
	for _, r := range s {
		if r < 0 || r >= alphabetRunes || runeByte[r] < 0 {
			return nil, false
		}
		b = append(b, byte(runeByte[r]))
	}
	return b, true
}

// alphabetEncode is the inverse of alphabetDecode.
func alphabetEncode(b []byte) string {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, byteRune[c])
	}
	return string(out)
}
