package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// classPattern writes a runeSet back as a regexp character class body.
func classPattern(s runeSet) string {
	var b strings.Builder
	char := func(r rune) {
		if r > 0xFFFF { // .NET's \u takes four digits; beyond the BMP a letter is no metacharacter
			b.WriteRune(r)
			return
		}
		fmt.Fprintf(&b, `\u%04X`, r)
	}
	for k := 0; k < len(s); k += 2 {
		char(s[k])
		if s[k+1] != s[k] {
			b.WriteByte('-')
			char(s[k+1])
		}
	}
	return b.String()
}

const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// referencePatterns are the pre-tokenizers as the models' tokenizer.json
// files write them (Llama 3's case-insensitive group as such), run below by
// a backtracking regexp engine with lookahead; DeepSeek's as llama.cpp runs
// them.
func referencePatterns() map[string][]string {
	return map[string][]string{
		"gpt-2":     {gpt2Pattern},
		"llama-bpe": {`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`},
		"qwen2":     {`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`},
		"qwen35":    {`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`},
		"starcoder": {`\p{N}`, gpt2Pattern},
		"falcon":    {"[\\p{P}\\$\\+<=>\\^~\\|`]+", gpt2Pattern, `[0-9][0-9][0-9]`},
		"default":   {`[\p{P}\$\+<=>\^~\|]+`, gpt2Pattern, `\p{N}+`, `[0-9][0-9][0-9]`},
		// DeepSeek's classes of literal characters leave out White_Space
		// (.NET's class subtraction), as llama.cpp's std::wregex sees them.
		"deepseek-llm": {`[\r\n]`, `\s?[` + classPattern(deepseekLetters) + `-[\s]]+`, `\s?[` + classPattern(deepseekPunct) + `-[\s]]+`,
			`\s+$`, `[` + classPattern(deepseekCJK) + `-[\s]]+`, `\p{N}+`},
		"deepseek-coder": {`[\r\n]`, `\s?\p{L}+`, `\s?\p{P}+`, `[` + classPattern(deepseekCJK) + `-[\s]]+`, `\p{N}`},
	}
}

// regexPieces cuts text as a Sequence of Split(pattern, Isolated) does:
// each pattern cuts every piece into its matches and the text between them.
func regexPieces(t *testing.T, patterns []string, text string) []string {
	pieces := []string{text}
	for _, p := range patterns {
		re, err := regexp2.Compile(p, regexp2.None)
		require.NoError(t, err, p)
		var next []string
		for _, piece := range pieces {
			rs := []rune(piece)
			at := 0
			m, err := re.FindRunesMatch(rs)
			for ; m != nil && err == nil; m, err = re.FindNextMatch(m) {
				if m.Index > at {
					next = append(next, string(rs[at:m.Index]))
				}
				next = append(next, string(rs[m.Index:m.Index+m.Length]))
				at = m.Index + m.Length
			}
			require.NoError(t, err)
			if at < len(rs) {
				next = append(next, string(rs[at:]))
			}
		}
		pieces = next
	}
	return pieces
}

func stagePieces(pre *preTokenizer, text string) []string {
	var out []string
	var cut func(chunk string, k int)
	cut = func(chunk string, k int) {
		if k == len(pre.stages) {
			out = append(out, chunk)
			return
		}
		for i := 0; i < len(chunk); {
			j := pre.stages[k].end(chunk, i)
			cut(chunk[i:j], k+1)
			i = j
		}
	}
	cut(text, 0)
	return out
}

// randomText mixes what pre-tokenizers treat differently: letters of several
// scripts, digits (ASCII, full-width, superscript, Roman), marks,
// punctuation and symbols, whitespace runs with newlines, CJK and Hangul,
// emoji, contractions.
func randomText(r *rand.Rand) string {
	atoms := []string{
		"a", "Z", "é", "ß", "Ω", "ж", "ש", "ع", "क", "ि", "\u0301", "ſ", "K",
		"0", "7", "１", "²", "Ⅻ", "٣", "½",
		"!", ".", ",", "'", "\"", "(", ")", "$", "+", "<", "=", "^", "`", "|", "~", "-", "_", "#", "@", "…", "。", "，", "！", "“", "‘", "€", "©",
		" ", " ", " ", "  ", "\t", "\n", "\r\n", "\n\n", "\u00a0", "\u3000", "\u2028", "\u0085",
		"的", "一", "龥", "가", "힣", "あ", "ア", "ｱ", "ࠀ",
		"😀", "👍🏽", "👨‍👩‍👧", "\u200d", "\ufeff", "\U000e0001",
		"'s", "'T", "'re", "'VE", "'ll", "'d", "'M",
		"hello", " world", "HTTP", "x1", "123456", " 1000", "==", "->", "...",
	}
	n := 1 + r.IntN(24)
	var b strings.Builder
	for range n {
		b.WriteString(atoms[r.IntN(len(atoms))])
	}
	return b.String()
}

// TestPreTokenizersMatchRegexp checks each hand-written pre-tokenizer
// against its pattern run by dlclark/regexp2 (a .NET-style engine whose \s
// is Unicode's White_Space, as in the Rust and Python engines Hugging Face
// uses), on curated and seeded random strings.
func TestPreTokenizersMatchRegexp(t *testing.T) {
	curated := []string{
		"Hello world", "  leading", "trailing  ", "a\n\n\nb", " \n \n x", "x \r\n\t y", "\t\tx",
		"it's IT'S we'Re I'LL 'd", "3.14159 and 1234567 and ١٢٣", "(parenthesised) [brackets]",
		"über naïve café", "e\u0301t\u00e9", "क्षत्रिय", "我爱自然语言处理。今天天气很好！",
		"한국어 텍스트", "こんにちは世界", "emoji 👋🏽 here", "   ", "\n", "", "x\u3000\u3000y",
		"$100 + 20% = <tag> ^ ~ | `code`", "def f(x):\n    return x**2\n",
	}
	r := rand.New(rand.NewPCG(13, 2024))
	random := 2000
	if testing.Short() {
		random = 200 // the race run
	}
	for name, patterns := range referencePatterns() {
		pre, err := newPreTokenizer(name)
		require.NoError(t, err)
		texts := append([]string(nil), curated...)
		for range random {
			texts = append(texts, randomText(r))
		}
		bad := 0
		for _, text := range texts {
			want := regexPieces(t, patterns, text)
			if !assert.Equal(t, want, stagePieces(pre, text), "%s: %q", name, text) {
				if bad++; bad > 5 {
					break
				}
			}
		}
	}
}

func TestUnknownPreTokenizer(t *testing.T) {
	_, err := NewBPE([]string{"a"}, nil, Options{PreTokenizer: "gpt-5"})
	assert.ErrorContains(t, err, `pre-tokenizer "gpt-5" is not implemented (goformer implements codeshell, command-r,`)
}

// TestTokenizerJSONPreTokenizerErrors: a pre_tokenizer goformer cannot run
// is refused by name.
func TestTokenizerJSONPreTokenizerErrors(t *testing.T) {
	for _, c := range []struct{ pre, want string }{
		{`{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Isolated"},{"type":"ByteLevel","use_regex":false}]}`,
			`pre_tokenizer.pretokenizers[0] Split pattern "\\w+" is not implemented`},
		{`{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Removed"},{"type":"ByteLevel","use_regex":false}]}`,
			`pre_tokenizer.pretokenizers[0] Split behavior "Removed" invert false is not implemented`},
		{`{"type":"Sequence","pretokenizers":[{"type":"Punctuation"},{"type":"ByteLevel"}]}`, `pre_tokenizer.pretokenizers[0] type "Punctuation" is not implemented`},
		{`{"type":"Metaspace"}`, `pre_tokenizer Metaspace replacement other than "▁" is not implemented`},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}`, `pre_tokenizer Metaspace split true (pieces cut at every space) is not implemented`},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":false}`, `model.byte_fallback false for a SentencePiece BPE is not implemented`},
	} {
		doc := `{"pre_tokenizer":` + c.pre + `,"model":{"type":"BPE","vocab":{"a":0},"merges":[]}}`
		_, err := ParseTokenizerJSON("x/tokenizer.json", []byte(doc))
		assert.ErrorContains(t, err, "x/tokenizer.json: "+c.want)
	}
}
