package tokenizer

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ErrUnknownID is returned when a token id is outside the vocabulary.
var ErrUnknownID = errors.New("tokenizer: unknown token id")

// Tokenizer encodes text to token ids and back. It is safe for concurrent
// use. Its cache of encoded words is shared by all callers.
type Tokenizer struct {
	tokenData   []byte  // the bytes of every token, back to back
	tokenEnd    []int32 // token i is tokenData[tokenEnd[i-1]:tokenEnd[i]]
	byteToken   [256]int32
	merges      merges
	specials    []special // longest first, so that a special's prefix never wins
	vocabFile   string    // where the tokens came from, for errors; "" for New
	warning     string    // Warning
	bmp         *[0x10000]charClass
	cache       wordCache
	heapScratch sync.Pool
}

type special struct {
	text string
	id   int
}

// LongestToken is the length in bytes of the vocabulary's longest token:
// a text of n bytes encodes to at least n/LongestToken tokens.
func (t *Tokenizer) LongestToken() int {
	longest, start := 0, int32(0)
	for _, end := range t.tokenEnd {
		longest = max(longest, int(end-start))
		start = end
	}
	return longest
}

// Warning is a doubt about the files the tokenizer was read from that is not
// an error, or "": vocabulary tokens that no merge produces and that do not
// look like special tokens, the mark of a merges.txt cut short (Encode never
// produces them). Commands print it on stderr.
func (t *Tokenizer) Warning() string { return t.warning }

// New builds a tokenizer from its token list, indexed by id, and its merge
// list, in rank order. Both are in GPT-2's byte-alphabet text, as in
// vocab.json, merges.txt and GGUF's tokenizer.ggml.tokens and .merges.
// Each special token must be in tokens; it is matched as literal text, and
// only by EncodeSpecial. A token that is neither one of the 256 byte tokens,
// the result of a merge, nor special is never produced by Encode.
func New(tokens []string, mergeList [][2]string, specials []string) (*Tokenizer, error) {
	return build(tokens, mergeList, specials, labels{})
}

// labels name a token or a merge in an error: by position for New, by file
// and line for the loaders.
type labels struct {
	vocab string // the vocabulary's file name, if it has one
	token func(id int) string
	merge func(i int) string
}

func (l labels) tokenName(tokens []string, id int) string {
	if l.token != nil {
		return l.token(id)
	}
	return fmt.Sprintf("token %d %q", id, tokens[id])
}

func (l labels) mergeName(mergeList [][2]string, i int) string {
	if l.merge != nil {
		return l.merge(i)
	}
	return fmt.Sprintf("merge %d %q", i, mergeList[i][0]+" "+mergeList[i][1])
}

func build(tokens []string, mergeList [][2]string, specialList []string, names labels) (*Tokenizer, error) {
	t := &Tokenizer{bmp: bmpClasses(), vocabFile: names.vocab}
	t.heapScratch.New = func() any { return new(heapScratch) }
	t.cache.init()

	ids := make(map[string]int32, len(tokens))
	t.tokenEnd = make([]int32, len(tokens))
	for id, text := range tokens {
		if prev, dup := ids[text]; dup {
			return nil, fmt.Errorf("%s: same text as %s", names.tokenName(tokens, id), names.tokenName(tokens, int(prev)))
		}
		ids[text] = int32(id)
		b, ok := alphabetDecode(text)
		if !ok {
			b = []byte(text) // only a special token may be outside the byte alphabet
		}
		t.tokenData = append(t.tokenData, b...)
		t.tokenEnd[id] = int32(len(t.tokenData))
	}
	for b := range 256 {
		id, ok := ids[string(byteRune[b])]
		if !ok {
			err := fmt.Errorf("no token for byte 0x%02X (%q): a byte-level vocabulary needs all 256", b, string(byteRune[b]))
			if names.vocab != "" {
				err = fmt.Errorf("%s: %w", names.vocab, err)
			}
			return nil, err
		}
		t.byteToken[b] = id
	}

	t.merges = newMerges(len(mergeList))
	for i, m := range mergeList {
		left, lok := ids[m[0]]
		right, rok := ids[m[1]]
		switch {
		case !lok:
			return nil, fmt.Errorf("%s: unknown token %q", names.mergeName(mergeList, i), m[0])
		case !rok:
			return nil, fmt.Errorf("%s: unknown token %q", names.mergeName(mergeList, i), m[1])
		}
		result, ok := ids[m[0]+m[1]]
		if !ok {
			return nil, fmt.Errorf("%s: its result %q is not a token", names.mergeName(mergeList, i), m[0]+m[1])
		}
		if _, ok := alphabetDecode(m[0] + m[1]); !ok {
			return nil, fmt.Errorf("%s: not in the byte alphabet", names.mergeName(mergeList, i))
		}
		if !t.merges.add(left, right, mergeRule{rank: int32(i), result: result}) {
			return nil, fmt.Errorf("%s: duplicate merge", names.mergeName(mergeList, i))
		}
	}

	for _, text := range specialList {
		id, ok := ids[text]
		if !ok {
			return nil, fmt.Errorf("special token %q is not in the vocabulary", text)
		}
		t.specials = append(t.specials, special{text: text, id: int(id)})
	}
	sortSpecials(t.specials)
	return t, nil
}

// sortSpecials orders specials longest first, so that nextSpecial prefers
// the longest match; equal lengths keep their order. A vocabulary may have
// hundreds of thousands of them (GGUF's CONTROL tokens, entries no merge
// makes), so this is a real sort, not an insertion sort.
func sortSpecials(s []special) {
	slices.SortStableFunc(s, func(a, b special) int { return cmp.Compare(len(b.text), len(a.text)) })
}

// VocabSize is the number of token ids, specials included.
func (t *Tokenizer) VocabSize() int { return len(t.tokenEnd) }

// SpecialID returns the id of a special token such as "<|endoftext|>".
func (t *Tokenizer) SpecialID(text string) (int, bool) {
	for _, s := range t.specials {
		if s.text == text {
			return s.id, true
		}
	}
	return 0, false
}

// Encode returns the token ids of text. Special tokens' text, such as
// "<|endoftext|>", is encoded as ordinary text, as GPT-2's encoder does.
func (t *Tokenizer) Encode(text string) []int {
	return t.EncodeTo(nil, text)
}

// EncodeTo appends the token ids of text to dst and returns the extended
// slice. Once the word cache is warm it allocates nothing if dst has room.
func (t *Tokenizer) EncodeTo(dst []int, text string) []int {
	return t.encodeOrdinary(dst, text)
}

// EncodeSpecial is Encode, except that the text of a special token becomes
// that token's id.
func (t *Tokenizer) EncodeSpecial(text string) []int {
	return t.EncodeSpecialTo(nil, text)
}

// EncodeSpecialTo is EncodeTo, except that the text of a special token
// becomes that token's id.
func (t *Tokenizer) EncodeSpecialTo(dst []int, text string) []int {
	for len(text) > 0 {
		at, s := t.nextSpecial(text)
		if s == nil {
			return t.encodeOrdinary(dst, text)
		}
		dst = t.encodeOrdinary(dst, text[:at])
		dst = append(dst, s.id)
		text = text[at+len(s.text):]
	}
	return dst
}

// nextSpecial finds the earliest special token in text, the longest one
// where several start at the same place.
func (t *Tokenizer) nextSpecial(text string) (int, *special) {
	at, found := len(text), (*special)(nil)
	for i := range t.specials {
		s := &t.specials[i]
		if j := strings.Index(text[:min(len(text), at+len(s.text))], s.text); j >= 0 && j < at {
			at, found = j, s
		}
	}
	return at, found
}

func (t *Tokenizer) encodeOrdinary(dst []int, text string) []int {
	for i := 0; i < len(text); {
		j := pieceEnd(text, i, t.bmp)
		dst = t.encodePiece(dst, text[i:j])
		i = j
	}
	return dst
}

func (t *Tokenizer) encodePiece(dst []int, piece string) []int {
	if len(piece) == 1 {
		return append(dst, int(t.byteToken[piece[0]]))
	}
	if len(piece) > maxCachedPiece {
		return t.bpe(dst, piece)
	}
	if out, ok := t.cache.appendTo(dst, piece); ok {
		return out
	}
	n := len(dst)
	dst = t.bpe(dst, piece)
	t.cache.add(piece, dst[n:])
	return dst
}

// Token returns the bytes token id stands for. The slice must not be modified.
func (t *Tokenizer) Token(id int) ([]byte, error) {
	if id < 0 || id >= len(t.tokenEnd) {
		if t.vocabFile != "" {
			return nil, fmt.Errorf("%w: %d (%s has %d tokens)", ErrUnknownID, id, t.vocabFile, len(t.tokenEnd))
		}
		return nil, fmt.Errorf("%w: %d (vocabulary has %d)", ErrUnknownID, id, len(t.tokenEnd))
	}
	start := int32(0)
	if id > 0 {
		start = t.tokenEnd[id-1]
	}
	return t.tokenData[start:t.tokenEnd[id]:t.tokenEnd[id]], nil
}

// Decode returns the text of ids: the concatenation of their bytes, which
// is not valid UTF-8 if the ids were cut inside a character.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	b, err := t.AppendDecode(nil, ids)
	return string(b), err
}

// AppendDecode appends the bytes of ids to dst.
func (t *Tokenizer) AppendDecode(dst []byte, ids []int) ([]byte, error) {
	for _, id := range ids {
		b, err := t.Token(id)
		if err != nil {
			return dst, err
		}
		dst = append(dst, b...)
	}
	return dst, nil
}
