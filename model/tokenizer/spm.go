package tokenizer

import (
	"fmt"
	"strings"
	"sync"
)

// TokenType is what a vocabulary entry is, with GGUF's numbering
// (tokenizer.ggml.token_type).
type TokenType int32

const (
	TokenNormal      TokenType = 1
	TokenUnknown     TokenType = 2 // <unk>
	TokenControl     TokenType = 3 // <s>, </s>: matched by EncodeSpecial only
	TokenUserDefined TokenType = 4 // matched as literal text by Encode too
	TokenUnused      TokenType = 5
	TokenByte        TokenType = 6 // <0xNN>: byte fallback
)

// spaceMark is SentencePiece's stand-in for a space, "▁" (U+2581).
const spaceMark = "\u2581"

// sentencePiece is what a SentencePiece BPE tokenizer adds to Tokenizer.
type sentencePiece struct {
	pieces      map[string]int32 // the tokens merges may make, by text with ▁ for spaces
	scores      []float32
	byteToken   [256]int32 // <0xNN>; unknown where the vocabulary lacks one
	unknown     int32
	dummyPrefix bool
	// prefixAtStartOnly: the dummy prefix goes before the input's first
	// text only, not after each special token (a tokenizer.json's Metaspace
	// prepend_scheme "first").
	prefixAtStartOnly bool
	// wordSplit: no piece has a ▁ after anything but ▁ (Llama 2's, Phi-3's
	// and Baichuan's vocabularies), so no join crosses into a ▁ that
	// follows another character, and the text is encoded word by word,
	// each cut at such a ▁, through the word cache.
	wordSplit bool
	scratch   sync.Pool
}

// joinsBeforeSpace reports whether a piece has a ▁ after something other
// than ▁: a join that could cross the start of a word.
func joinsBeforeSpace(piece string) bool {
	for o := 1; o+len(spaceMark) <= len(piece); o++ {
		if piece[o:o+len(spaceMark)] == spaceMark && (o < len(spaceMark) || piece[o-len(spaceMark):o] != spaceMark) {
			return true
		}
	}
	return false
}

// NewSentencePiece builds a SentencePiece BPE tokenizer (GGUF's
// tokenizer.ggml.model "llama": Llama 2, Mistral, Phi-3, TinyLlama) from its
// tokens, their scores and their types, indexed by id. Encode replaces
// spaces by "▁", adds one before the text when dummyPrefix is set (as
// SentencePiece's add_dummy_prefix does, at the start and after each special
// token), then joins adjacent pieces, best-scored first, while the join is a
// token. A character that is no token becomes its UTF-8 bytes' <0xNN> tokens,
// so no input needs unk. Decode undoes all of that, the dummy prefix's space
// included. Control and unknown tokens are specials (EncodeSpecial);
// user-defined ones are matched by Encode too.
func NewSentencePiece(tokens []string, scores []float32, types []TokenType, unknown int, dummyPrefix bool, opts Options) (*Tokenizer, error) {
	n := len(tokens)
	switch {
	case n == 0 || n > 1<<24:
		return nil, fmt.Errorf("%d tokens: want 1..%d", n, 1<<24)
	case len(scores) != n:
		return nil, fmt.Errorf("%d scores for %d tokens", len(scores), n)
	case len(types) != n:
		return nil, fmt.Errorf("%d token types for %d tokens", len(types), n)
	case unknown < 0 || unknown >= n:
		return nil, fmt.Errorf("unknown token id %d is outside the vocabulary of %d tokens", unknown, n)
	}
	sp := &sentencePiece{pieces: make(map[string]int32, n), scores: scores, unknown: int32(unknown), dummyPrefix: dummyPrefix, wordSplit: true}
	sp.scratch.New = func() any { return new(spmScratch) }
	for b := range sp.byteToken {
		sp.byteToken[b] = int32(unknown)
	}
	t := &Tokenizer{bmp: bmpClasses(), spm: sp}
	t.cache.init()
	t.fim, _ = GuessFIM(tokens, NoFIM)
	t.tokenEnd = make([]int32, n)
	var user []string
	for id, text := range tokens {
		var b []byte
		switch types[id] {
		case TokenNormal, TokenUserDefined, TokenUnused:
			if _, dup := sp.pieces[text]; !dup {
				sp.pieces[text] = int32(id)
				if sp.wordSplit && joinsBeforeSpace(text) {
					sp.wordSplit = false
				}
			}
			b = []byte(strings.ReplaceAll(text, spaceMark, " "))
			if types[id] == TokenUserDefined {
				user = append(user, string(b))
				t.specials = append(t.specials, special{text: string(b), id: id})
			}
		case TokenByte:
			v, ok := parseByteToken(text)
			if !ok {
				return nil, fmt.Errorf("token %d %q has type BYTE but is not <0xNN>", id, text)
			}
			sp.byteToken[v] = int32(id)
			b = []byte{v}
		case TokenControl, TokenUnknown:
			b = []byte(text)
			if text != "" {
				t.specials = append(t.specials, special{text: text, id: id})
			}
		default:
			return nil, fmt.Errorf("token %d %q has type %d, want 1..6", id, text, types[id])
		}
		t.tokenData = append(t.tokenData, b...)
		t.tokenEnd[id] = int32(len(t.tokenData))
	}
	sortSpecials(t.specials)
	for _, text := range opts.Specials {
		if _, ok := t.SpecialID(text); !ok {
			return nil, fmt.Errorf("special token %q is not a control or user-defined token", text)
		}
	}
	if err := t.frame(opts); err != nil {
		return nil, err
	}
	t.markAlways(append(user, opts.UserDefined...))
	return t, nil
}

// parseByteToken reads "<0xNN>".
func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return 0, false
	}
	var v byte
	for _, c := range []byte(s[3:5]) {
		switch {
		case '0' <= c && c <= '9':
			v = v<<4 | (c - '0')
		case 'A' <= c && c <= 'F':
			v = v<<4 | (c - 'A' + 10)
		case 'a' <= c && c <= 'f':
			v = v<<4 | (c - 'a' + 10)
		default:
			return 0, false
		}
	}
	return v, true
}

// spmScratch is an encoding's working memory, pooled so that warm calls
// allocate nothing.
type spmScratch struct {
	text      []byte
	start, n  []int32 // symbol i is text[start[i]:start[i]+n[i]]; n 0 once joined into its left
	prev, nxt []int32
	heap      []spmPair
}

// spmPair is a candidate join of the symbol at left with the one after it,
// which together are size bytes and the token of that score.
type spmPair struct {
	score float32
	left  int32
	size  int32
}

// better orders the heap: higher score first, then leftmost.
func (a spmPair) better(b spmPair) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

func (t *Tokenizer) encodeSentencePiece(dst []int, text string, first bool) []int {
	if text == "" {
		return dst // llama.cpp and SentencePiece encode "" as nothing, dummy prefix or not
	}
	sp := t.spm
	sc := sp.scratch.Get().(*spmScratch)
	defer sp.scratch.Put(sc)

	buf := sc.text[:0]
	if first && sp.dummyPrefix {
		buf = append(buf, spaceMark...)
	}
	for i := 0; i < len(text); i++ {
		if text[i] == ' ' {
			buf = append(buf, spaceMark...)
		} else {
			buf = append(buf, text[i])
		}
	}
	sc.text = buf
	if len(buf) == 0 {
		return dst
	}

	if !sp.wordSplit {
		return t.spmJoin(dst, buf, sc)
	}
	// Cut before each ▁ that follows another character, at symbol
	// boundaries (see spmJoin: a stray lead byte takes the ▁ after it into
	// its symbol), where the last byte before the ▁ is not 0x81, the last
	// of ▁ itself.
	word := 0
	for i := 0; i < len(buf); {
		if i > word && buf[i] == spaceMark[0] && i+len(spaceMark) <= len(buf) &&
			string(buf[i:i+len(spaceMark)]) == spaceMark && buf[i-1] != spaceMark[len(spaceMark)-1] {
			dst = t.spmWord(dst, buf[word:i], sc)
			word = i
		}
		i += utf8LenByLead(buf[i])
	}
	return t.spmWord(dst, buf[word:], sc)
}

// spmWord encodes one word of a wordSplit vocabulary, through the word
// cache where it is short.
func (t *Tokenizer) spmWord(dst []int, word []byte, sc *spmScratch) []int {
	if len(word) > maxCachedPiece {
		return t.spmJoin(dst, word, sc)
	}
	dst, ok := t.cache.appendTo(dst, string(word))
	if ok {
		return dst
	}
	n := len(dst)
	dst = t.spmJoin(dst, word, sc)
	t.cache.add(string(word), dst[n:])
	return dst
}

// spmJoin encodes buf (text with ▁ for spaces) by SentencePiece's BPE:
// adjacent symbols are joined, best-scored join first, while the join is a
// piece; a symbol that is no piece becomes its bytes' tokens.
func (t *Tokenizer) spmJoin(dst []int, buf []byte, sc *spmScratch) []int {
	sp := t.spm
	// One symbol per character, its length told by its first byte alone
	// (clipped at the end), as llama.cpp splits: in invalid UTF-8 a stray
	// lead byte takes the bytes after it into its symbol, which matches no
	// piece and falls back to its bytes' tokens.
	start, n, prev, nxt := sc.start[:0], sc.n[:0], sc.prev[:0], sc.nxt[:0]
	for i := 0; i < len(buf); {
		size := min(utf8LenByLead(buf[i]), len(buf)-i)
		k := int32(len(start))
		start, n, prev, nxt = append(start, int32(i)), append(n, int32(size)), append(prev, k-1), append(nxt, k+1)
		i += size
	}
	nxt[len(nxt)-1] = -1
	sc.start, sc.n, sc.prev, sc.nxt = start, n, prev, nxt

	h := sc.heap[:0]
	push := func(left int32) {
		right := nxt[left]
		if left < 0 || right < 0 {
			return
		}
		a, b := start[left], start[right]+n[right]
		if id, ok := sp.pieces[string(buf[a:b])]; ok {
			h = spmPush(h, spmPair{score: sp.scores[id], left: left, size: b - a})
		}
	}
	for i := int32(0); i+1 < int32(len(start)); i++ {
		push(i)
	}
	for len(h) > 0 {
		var p spmPair
		p, h = spmPop(h)
		right := nxt[p.left]
		if n[p.left] == 0 || right < 0 || n[p.left]+n[right] != p.size {
			continue // stale: one side has been joined since
		}
		n[p.left] += n[right]
		n[right] = 0
		nxt[p.left] = nxt[right]
		if nxt[right] >= 0 {
			prev[nxt[right]] = p.left
		}
		if prev[p.left] >= 0 {
			push(prev[p.left])
		}
		push(p.left)
	}
	sc.heap = h

	for i := int32(0); i >= 0; i = nxt[i] {
		piece := buf[start[i] : start[i]+n[i]]
		if id, ok := sp.pieces[string(piece)]; ok {
			dst = append(dst, int(id))
			continue
		}
		for _, c := range piece {
			dst = append(dst, int(sp.byteToken[c]))
		}
	}
	return dst
}

func spmPush(h []spmPair, v spmPair) []spmPair {
	h = append(h, v)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].better(h[p]) {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	return h
}

func spmPop(h []spmPair) (spmPair, []spmPair) {
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].better(h[m]) {
			m = l
		}
		if r < len(h) && h[r].better(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top, h
}

// utf8LenByLead is the length of the UTF-8 sequence a byte begins, read
// from its high four bits alone: 1 for ASCII and continuation bytes, 2 for
// 0xC0..0xDF, 3 for 0xE0..0xEF, 4 for 0xF0..0xFF.
func utf8LenByLead(b byte) int {
	return int(utf8LeadLen[b>>4])
}

var utf8LeadLen = [16]byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4}
