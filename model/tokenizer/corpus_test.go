package tokenizer

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// edgeCases are short texts aimed at the pre-tokenizer's rules and the
// byte alphabet, by category.
var edgeCases = []struct{ class, text string }{
	{"ascii", "The quick brown fox jumps over the lazy dog."},
	{"ascii", "Hello, World! How are you?"},
	{"ascii", "ALL CAPS and MiXeD cAsE words_with_underscores and hyphen-ated ones."},
	{"ascii", "!@#$%^&*()_+-=[]{}|;:\",.<>/?`~\\"},
	{"contractions", "I'm sure you're right: it's what we'd've done, and they'll see we've won."},
	{"contractions", "DON'T SHOUT, it'S 'tis 'twas o'clock rock'n'roll"},
	{"contractions", "'s 't 're 've 'm 'll 'd ' s 'S 'Re"},
	{"contractions", "''s ''tis \"'s\" ’s ‘quoted’"},
	{"contractions", "can't'n'won't'll"},
	{"digits", "0 1 12 123 1234 12345 123456 1234567 3.14159 2,718 1e-9 0x1F 007"},
	{"digits", "Call 555-0199 at 08:30, or +1 (800) 555-1234 on 2024-02-29."},
	{"digits", "Ⅻ ½ ¾ ² ³ ٣٤٥ १२३ ①②③ 𝟙𝟚𝟛 ０１２"},
	{"digits", "abc123def 123abc abc 123"},
	{"spaces", "a  b   c    d     e      f"},
	{"spaces", "      leading spaces"},
	{"spaces", "trailing spaces      "},
	{"spaces", " "},
	{"spaces", "  "},
	{"spaces", "   \t   "},
	{"tabs", "\tindented\n\t\tdouble\n\t \t mixed"},
	{"tabs", "col1\tcol2\t\tcol4\t"},
	{"newlines", "line one\nline two\n\nparagraph\n\n\n\nfar below"},
	{"newlines", "\n\nHello"},
	{"newlines", "Hello\n"},
	{"newlines", "Hello\n\n"},
	{"newlines", "Hello \n \n world"},
	{"newlines", "\n"},
	{"newlines", "end.\n\n\n"},
	{"crlf", "Windows\r\nline\r\nendings\r\n\r\nhere\r\n"},
	{"crlf", "\r\n\r\nword\rold mac\r"},
	{"nbsp", "100\u00a0km and\u00a0\u00a0two and \u00a0mixed\u00a0"},
	{"nbsp", "narrow\u202fno-break\u202f%"},
	{"unicode_space", "em\u2003space en\u2002space thin\u2009space ideographic\u3000space ogham\u1680mark"},
	{"unicode_space", "line\u2028separator paragraph\u2029separator next\u0085line"},
	{"unicode_space", "vertical\vtab form\ffeed"},
	{"unicode_space", "info\x1cseparators\x1d\x1e\x1fare not space in Python's regex"},
	{"unicode_space", "mongolian\u180evowel separator is not space"},
	{"zero_width", "zero\u200bwidth\u200b space \u200bhere\u200c\u200d\u2060joiner"},
	{"bom", "\ufeffstarts with a byte-order mark"},
	{"bom", "a byte-order mark \ufeffinside and \ufeff twice\ufeff"},
	{"emoji", "I love 🍕 and 🎉🎉🎉! 😀😃😄"},
	{"emoji_zwj", "family 👨‍👩‍👧‍👦 and 👩‍💻 coder, 🏳️‍🌈 flag"},
	{"emoji_skin", "wave 👋🏻👋🏼👋🏽👋🏾👋🏿 thumbs 👍🏿"},
	{"emoji_flags", "flags 🇫🇷🇯🇵🇺🇸 keycap 1️⃣ #️⃣"},
	{"cjk", "我爱自然语言处理。今天天气很好，我们去公园散步吧！"},
	{"cjk", "日本語のテキストも処理できます。カタカナとひらがな、漢字。"},
	{"cjk", "中文English混合text测试123数字"},
	{"korean", "안녕하세요, 세계! 한국어 텍스트를 토큰화합니다."},
	{"korean", "각 conjoining jamo"},
	{"arabic", "مرحبا بالعالم! هذا نص عربي مع أرقام ١٢٣ و 456."},
	{"hebrew", "שלום עולם, זה טקסט בעברית."},
	{"devanagari", "नमस्ते दुनिया! यह हिन्दी पाठ है। क्षत्रिय"},
	{"thai", "สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่างระหว่างคำ"},
	{"combining", "e\u0301 vs \u00e9, n\u0303, a\u0308\u0304, Z\u0351\u0352\u0353algo\u0489 text"},
	{"combining", "\u0301leading combining mark and  \u0308after space"},
	{"accented", "Café naïve résumé façade Ångström Øresund Łódź Straße"},
	{"greek_cyrillic", "Ελληνικά κείμενα και Русский текст, Українська мова."},
	{"fullwidth", "ＡＢＣ　ｆｕｌｌｗｉｄｔｈ！？"},
	{"math", "∀x∈ℝ: x²≥0 ⇒ √(x²)=|x|, ∑ᵢ aᵢ ≤ ∞"},
	{"control", "nul\x00byte bell\x07 esc\x1b[31m del\x7f c1\u0080\u009f"},
	{"private_use", "private \ue000\uf8ff and astral \U00010000\U0010fffd"},
	{"replacement", "replacement char \ufffd stays"},
	{"endoftext", "text<|endoftext|>more text <|endoftext|>"},
	{"code", "func main() {\n\tfmt.Println(\"hi\")\n\tfor i := 0; i < 10; i++ {\n\t\tx += i // comment\n\t}\n}\n"},
	{"code", "def f(x):\n    if x > 0:\n        return x ** 2\n    return -x\n\n\nclass A:\n    pass\n"},
	{"code", "#include <stdio.h>\nint main(void){printf(\"%d\\n\",42);return 0;}"},
	{"code", "<div class=\"x\">&nbsp;&amp;</div><!-- c -->\n"},
	{"json", "{\"name\": \"gpt2\", \"n_layer\": 12, \"list\": [1, 2.5, -3e4, true, null], \"nested\": {\"k\": \"v\\n\"}}"},
	{"json", "[\n  {\n    \"id\": 1,\n    \"tags\": [\"a\", \"b\"]\n  }\n]\n"},
	{"url", "https://example.com/path?q=1&r=two#frag mailto:a@b.org"},
	{"repeated", strings.Repeat("a", 300) + " " + strings.Repeat("ab", 200) + " " + strings.Repeat("!", 100)},
	{"repeated", strings.Repeat(" ", 200) + "x" + strings.Repeat("\n", 50)},
	{"repeated", strings.Repeat("的", 200)},
	{"empty", ""},
}

// parityCorpus assembles the texts the tokenizer is compared on: the edge
// cases, the Universal Declaration of Human Rights in 44 languages and
// scripts (testdata/udhr.txt.gz), text mixed from both at random (fixed
// seed), and, from the Go installation, English prose (Newton's Opticks),
// Go source and a JSON file.
func parityCorpus(tb testing.TB) []corpusText {
	tb.Helper()
	var texts []corpusText
	for _, c := range edgeCases {
		texts = append(texts, corpusText{"edge/" + c.class, c.text})
	}
	udhr := readGzip(tb, filepath.Join("testdata", "udhr.txt.gz"))
	for i, part := range strings.Split(udhr, "\n\n") {
		texts = append(texts, corpusText{"udhr/" + strings.SplitN(part, "\n", 2)[0] + "/" + strconv.Itoa(i), part})
	}
	texts = append(texts, corpusText{"mixed", mixedText(udhr, 200_000)})
	for _, f := range goRootFiles(tb) {
		texts = append(texts, f)
	}
	return texts
}

type corpusText struct{ name, text string }

func corpusBytes(texts []corpusText) int {
	n := 0
	for _, t := range texts {
		n += len(t.text)
	}
	return n
}

// mixedText strings random fragments of source and of the edge cases
// together, joined by random whitespace and punctuation, so that every kind
// of character meets every other at a piece boundary.
func mixedText(source string, size int) string {
	rng := rand.New(rand.NewPCG(1, 2))
	joins := []string{" ", "  ", "\n", "\n\n", "\t", "\r\n", "\u00a0", "\u3000", "", "'s ", "'ll", " 42 ", "...", " — ", "\ufeff", "\u200b", " \n "}
	runes := []rune(source)
	var b strings.Builder
	for b.Len() < size {
		if rng.IntN(4) == 0 {
			b.WriteString(edgeCases[rng.IntN(len(edgeCases))].text)
		} else {
			start := rng.IntN(len(runes) - 80)
			b.WriteString(string(runes[start : start+1+rng.IntN(80)]))
		}
		b.WriteString(joins[rng.IntN(len(joins))])
	}
	return b.String()
}

// goRootFiles reads texts that every Go installation carries.
func goRootFiles(tb testing.TB) []corpusText {
	root := runtime.GOROOT()
	var out []corpusText
	for _, rel := range []string{
		"src/testdata/Isaac.Newton-Opticks.txt",
		"src/compress/testdata/gettysburg.txt",
		"src/strings/strings.go",
		"src/encoding/json/decode.go",
		"src/regexp/syntax/parse.go",
		"src/unicode/utf8/utf8.go",
		"src/cmd/go/internal/modload/init.go",
		"src/net/http/server.go",
		"src/cmd/dist/test.go",
		"src/crypto/tls/bogo_config.json",
	} {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			tb.Logf("corpus: skipping %s: %v", rel, err)
			continue
		}
		out = append(out, corpusText{"goroot/" + rel, string(b)})
	}
	return out
}
