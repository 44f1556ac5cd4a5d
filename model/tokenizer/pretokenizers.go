package tokenizer

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// A preTokenizer cuts text into the pieces BPE encodes one by one. It is a
// sequence of stages, as in Hugging Face's Sequence of Split pre-tokenizers
// (behaviour Isolated): each stage cuts every piece of the stage before it,
// and the text between two matches of a stage's pattern is a piece too.
type preTokenizer struct {
	name   string
	stages []stage
}

// A stage cuts s into pieces that cover it: end returns the end of the piece
// that starts at s[i]. Pieces never cross the s they were given, so s[len(s)]
// is end of text for every pattern's lookahead and $.
type stage interface {
	end(s string, i int) int
}

// PreTokenizers are the names of the pre-tokenizers goformer implements, as
// llama.cpp names them in a GGUF file's tokenizer.ggml.pre.
func PreTokenizers() []string {
	names := make([]string, 0, len(preTokenizerStages))
	for name := range preTokenizerStages {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// newPreTokenizer returns the pre-tokenizer called name; "" is GPT-2's.
func newPreTokenizer(name string) (*preTokenizer, error) {
	if name == "" {
		name = "gpt-2"
	}
	mk, ok := preTokenizerStages[name]
	if !ok {
		return nil, fmt.Errorf("pre-tokenizer %q is not implemented (goformer implements %s)", name, strings.Join(PreTokenizers(), ", "))
	}
	return &preTokenizer{name: name, stages: mk()}, nil
}

// The patterns below are those of each model's own tokenizer.json, read
// through llama.cpp's llama-vocab.cpp (which lists them per
// tokenizer.ggml.pre). Each is hand-written, so that no regexp engine (Go's
// has no lookahead) runs in the encoder.
var preTokenizerStages = map[string]func() []stage{
	// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
	"gpt-2": gpt2Stages,
	"mpt":   gpt2Stages, // MPT uses GPT-2's pattern
	"olmo":  gpt2Stages,
	"phi-2": gpt2Stages,

	// llama.cpp's own, for a byte-level file without tokenizer.ggml.pre
	// (Aquila's, GPT-NeoX's): [\p{P}\$\+<=>\^~\|]+, GPT-2's pattern, \p{N}+,
	// [0-9][0-9][0-9]. It is Falcon's without the backtick, with digit runs
	// cut from the space before them.
	"default": func() []stage { return punctThenGPT2("$+<=>^~|", true) },

	// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
	"llama-bpe": llama3Stages,
	"llama3":    llama3Stages,
	"llama-v3":  llama3Stages,
	"dbrx":      llama3Stages,
	"smaug-bpe": llama3Stages,
	// Qwen2's is Llama 3's with single digits: \p{N} for \p{N}{1,3}.
	"qwen2":     func() []stage { return []stage{newLlama3Stage(1, false)} },
	"stablelm2": func() []stage { return []stage{newLlama3Stage(1, false)} },
	// Qwen3.5's also keeps marks with letters: [\p{L}\p{M}]+ and [^\s\p{L}\p{M}\p{N}]+.
	"qwen35": func() []stage { return []stage{newLlama3Stage(1, true)} },

	// \p{N} isolated, then GPT-2's pattern.
	"starcoder": digitsThenGPT2,
	"refact":    digitsThenGPT2,
	"command-r": digitsThenGPT2,
	"smollm":    digitsThenGPT2,
	"codeshell": digitsThenGPT2,

	// [\p{P}\$\+<=>\^~\|`]+, GPT-2's pattern, [0-9][0-9][0-9]
	"falcon": func() []stage { return punctThenGPT2("$+<=>^~|`", false) },

	// [\r\n], \s?[Latin, Greek, Cyrillic… letters]+, \s?[ASCII and
	// full-width punctuation]+, \s+$, [CJK and Hangul]+, \p{N}+
	"deepseek-llm": func() []stage {
		fl := bmpFlags()
		return []stage{
			newlineStage(fl),
			&runStage{fl: fl, in: deepseekLetters.has, leadSpace: true},
			&runStage{fl: fl, in: deepseekPunct.noSpace, leadSpace: true},
			&trailingSpaceStage{fl: fl},
			&runStage{fl: fl, in: deepseekCJK.noSpace},
			&runStage{fl: fl, in: func(_ rune, f runeFlags) bool { return f&flagNumber != 0 }},
		}
	},
	// [\r\n], \s?\p{L}+, \s?\p{P}+, [CJK and Hangul]+, \p{N}
	"deepseek-coder": func() []stage {
		fl := bmpFlags()
		return []stage{
			newlineStage(fl),
			&runStage{fl: fl, in: func(_ rune, f runeFlags) bool { return f&flagLetter != 0 }, leadSpace: true},
			&runStage{fl: fl, in: func(_ rune, f runeFlags) bool { return f&flagPunct != 0 }, leadSpace: true},
			&runStage{fl: fl, in: deepseekCJK.noSpace},
			&runStage{fl: fl, in: func(_ rune, f runeFlags) bool { return f&flagNumber != 0 }, exactly: 1},
		}
	},
}

func gpt2Stages() []stage { return []stage{&gpt2Stage{bmp: bmpClasses()}} }

func llama3Stages() []stage { return []stage{newLlama3Stage(3, false)} }

func digitsThenGPT2() []stage {
	return []stage{
		&runStage{fl: bmpFlags(), in: func(_ rune, f runeFlags) bool { return f&flagNumber != 0 }, exactly: 1},
		&gpt2Stage{bmp: bmpClasses()},
	}
}

// punctThenGPT2 is Falcon's pre-tokenizer and llama.cpp's "default": runs
// of \p{P} and the symbols given, GPT-2's pattern, runs of \p{N} where
// numberRuns is set, then ASCII digits in threes.
func punctThenGPT2(symbols string, numberRuns bool) []stage {
	fl := bmpFlags()
	punct := func(r rune, f runeFlags) bool { return f&flagPunct != 0 || strings.ContainsRune(symbols, r) }
	stages := []stage{&runStage{fl: fl, in: punct}, &gpt2Stage{bmp: bmpClasses()}}
	if numberRuns {
		stages = append(stages, &runStage{fl: fl, in: func(_ rune, f runeFlags) bool { return f&flagNumber != 0 }})
	}
	return append(stages, &runStage{fl: fl, in: func(r rune, _ runeFlags) bool { return '0' <= r && r <= '9' }, exactly: 3})
}

func newlineStage(fl *[0x10000]runeFlags) stage {
	return &runStage{fl: fl, in: func(r rune, _ runeFlags) bool { return r == '\r' || r == '\n' }, exactly: 1}
}

// gpt2Stage is GPT-2's pattern, the scanner Encode has always used.
type gpt2Stage struct{ bmp *[0x10000]charClass }

func (g *gpt2Stage) end(s string, i int) int { return pieceEnd(s, i, g.bmp) }

// llama3Stage is Llama 3's pattern, with at most digits numbers in a row,
// and marks counted as letters when marks is set (Qwen3.5):
//
//	(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
type llama3Stage struct {
	fl     *[0x10000]runeFlags
	digits int
	letter runeFlags // what \p{L} stands for
}

func newLlama3Stage(digits int, marks bool) *llama3Stage {
	l := &llama3Stage{fl: bmpFlags(), digits: digits, letter: flagLetter}
	if marks {
		l.letter |= flagMark
	}
	return l
}

func (l *llama3Stage) end(s string, i int) int {
	n := len(s)
	r, f, size := flagsAt(s, i, l.fl)
	if r == '\'' && i+1 < n {
		switch s[i+1] | 0x20 { // ASCII lower case; (?i) also folds 'ſ' and 'K' to s and k, which no contraction has
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < n && s[i+2]|0x20 == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < n && s[i+2]|0x20 == 'l' {
				return i + 3
			}
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if f&l.letter != 0 {
		return l.run(s, i+size, l.letter)
	}
	if r != '\r' && r != '\n' && f&flagNumber == 0 && i+size < n {
		if _, f2, size2 := flagsAt(s, i+size, l.fl); f2&l.letter != 0 {
			return l.run(s, i+size+size2, l.letter)
		}
	}
	// \p{N}{1,3}
	if f&flagNumber != 0 {
		j := i + size
		for k := 1; k < l.digits && j < n; k++ {
			_, f2, size2 := flagsAt(s, j, l.fl)
			if f2&flagNumber == 0 {
				break
			}
			j += size2
		}
		return j
	}
	//  ?[^\s\p{L}\p{N}]+[\r\n]*
	notOther := l.letter | flagNumber | flagSpace
	if f&notOther == 0 || (r == ' ' && i+1 < n && l.isOther(s, i+1, notOther)) {
		j := i + size
		if r == ' ' {
			j = i + 1
		}
		for j < n && l.isOther(s, j, notOther) {
			_, _, size2 := flagsAt(s, j, l.fl)
			j += size2
		}
		for j < n && (s[j] == '\r' || s[j] == '\n') {
			j++
		}
		return j
	}
	// The rest start at whitespace: \s*[\r\n]+ ends after the run's last
	// \r or \n; \s+(?!\S) leaves a run's last character to the piece after
	// it; \s+ takes a lone one.
	j, lastNL, last := i, -1, i
	for j < n {
		r2, f2, size2 := flagsAt(s, j, l.fl)
		if f2&flagSpace == 0 {
			break
		}
		if r2 == '\r' || r2 == '\n' {
			lastNL = j + 1
		}
		last = j
		j += size2
	}
	switch {
	case lastNL >= 0:
		return lastNL
	case j < n && last > i:
		return last
	}
	return j
}

func (l *llama3Stage) isOther(s string, i int, notOther runeFlags) bool {
	_, f, _ := flagsAt(s, i, l.fl)
	return f&notOther == 0
}

// run returns the end of the run of characters with flags want from s[i].
func (l *llama3Stage) run(s string, i int, want runeFlags) int {
	for i < len(s) {
		_, f, size := flagsAt(s, i, l.fl)
		if f&want == 0 {
			break
		}
		i += size
	}
	return i
}

// runStage isolates the matches of [C]+ (exactly 0), [C]{exactly}, or, with
// leadSpace, \s?[C]+, where in says which characters are in C.
type runStage struct {
	fl        *[0x10000]runeFlags
	in        func(r rune, f runeFlags) bool
	leadSpace bool
	exactly   int
}

func (st *runStage) end(s string, i int) int {
	if j, ok := st.match(s, i); ok {
		return j
	}
	// The text up to the next match is a piece.
	_, _, size := flagsAt(s, i, st.fl)
	for i += size; i < len(s); i += size {
		if _, ok := st.match(s, i); ok {
			return i
		}
		_, _, size = flagsAt(s, i, st.fl)
	}
	return len(s)
}

func (st *runStage) rune(s string, i int) (bool, int) {
	r, f, size := flagsAt(s, i, st.fl)
	return st.in(r, f), size
}

// match reports the end of the pattern's match at s[i], if it matches there.
func (st *runStage) match(s string, i int) (int, bool) {
	in, size := st.rune(s, i)
	if st.leadSpace && !in {
		// \s?: a whitespace character joins the run that follows it. (If it is
		// in C itself, the run from i is the same match.)
		if _, f, _ := flagsAt(s, i, st.fl); f&flagSpace == 0 || i+size >= len(s) {
			return 0, false
		}
		if in2, _ := st.rune(s, i+size); !in2 {
			return 0, false
		}
		i += size
		in, size = st.rune(s, i)
	}
	if !in {
		return 0, false
	}
	j, count := i+size, 1
	for j < len(s) && (st.exactly == 0 || count < st.exactly) {
		in, size := st.rune(s, j)
		if !in {
			break
		}
		j, count = j+size, count+1
	}
	if st.exactly != 0 && count < st.exactly {
		return 0, false
	}
	return j, true
}

// trailingSpaceStage isolates \s+$: the whitespace that ends a piece.
type trailingSpaceStage struct{ fl *[0x10000]runeFlags }

func (st *trailingSpaceStage) end(s string, i int) int {
	// Find where the trailing whitespace starts.
	start := len(s)
	for start > i {
		r, size := utf8.DecodeLastRuneInString(s[i:start])
		if size == 1 && r == utf8.RuneError {
			break
		}
		if r >= 0x10000 || st.fl[r]&flagSpace == 0 {
			break
		}
		start -= size
	}
	if start == i || start == len(s) {
		return len(s)
	}
	return start
}

// runeSet is a character class given as ranges, "A-Za-zµ": a set of
// (lo, hi) pairs, sorted, looked up by binary search.
type runeSet []rune

func newRuneSet(class string) runeSet {
	rs := []rune(class)
	var pairs [][2]rune
	for k := 0; k < len(rs); k++ {
		if k+2 < len(rs) && rs[k+1] == '-' {
			pairs = append(pairs, [2]rune{rs[k], rs[k+2]})
			k += 2
			continue
		}
		pairs = append(pairs, [2]rune{rs[k], rs[k]})
	}
	slices.SortFunc(pairs, func(a, b [2]rune) int { return int(a[0] - b[0]) })
	set := make(runeSet, 0, 2*len(pairs))
	for _, p := range pairs {
		set = append(set, p[0], p[1])
	}
	return set
}

func (s runeSet) has(r rune, _ runeFlags) bool {
	// The first pair whose hi is >= r.
	lo, hi := 0, len(s)/2
	for lo < hi {
		m := (lo + hi) / 2
		if s[2*m+1] < r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(s)/2 && s[2*lo] <= r
}

// noSpace is has without White_Space. It is how llama.cpp matches a class
// of literal characters: such a pattern runs through std::wregex on the
// text with every non-ASCII White_Space character rewritten to \v
// (unicode_regex_split, so that \s finds them): for llama.cpp U+3000 is not
// in DeepSeek's [　-。], nor are U+1680, U+2000..U+200A, U+2028, U+2029,
// U+202F, U+205F and U+3000 in its [ࠀ-一].
func (s runeSet) noSpace(r rune, f runeFlags) bool { return f&flagSpace == 0 && s.has(r, f) }

// DeepSeek's character classes, from its tokenizer.json.
var (
	deepseekLetters = newRuneSet("A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃")
	deepseekPunct   = newRuneSet("!-/:-~！-／：-～‘-‟　-。")
	deepseekCJK     = newRuneSet("一-龥ࠀ-一가-\uD7FF")
)
