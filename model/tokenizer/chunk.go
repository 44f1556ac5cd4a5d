package tokenizer

import (
	"errors"
	"io"
	"iter"
	"sync"
)

// A long text is encoded in chunks cut at line breaks where nothing can
// join the bytes either side of the cut, so that the chunks' encodings,
// one after another, are the whole text's encoding. A cut at p (between
// s[p-1] and s[p]) is one of
//
//	A: s[p-1] an ASCII letter or digit, s[p] '\n' or '\r';
//	B: s[p-2] printable ASCII other than space, s[p-1] '\n', s[p] an ASCII
//	   letter or digit.
//
// No pre-tokenizer's piece crosses either: in every pattern goformer
// implements, a letter or digit run ends before a line break, a line break
// joins no letter or digit after it (GPT-2's " ?\p{L}+" takes a space
// only, Llama 3's "[^\r\n\p{L}\p{N}]?\p{L}+" anything but a line break),
// and the pieces before the cut end where they do in the whole text, with
// nothing of theirs left to the lookahead of "\s+(?!\S)" (A: the text
// before the cut ends in a letter or digit; B: in a lone line break after
// a non-space, which that pattern takes alone either way). Stages that
// leave the text between their matches as a piece (starcoder's isolated
// digits) pass the two sides of the cut on to the next stage, for which
// the cut holds in turn. TestChunkedEqualsWhole checks every
// pre-tokenizer on random text.
//
// What the pre-tokenizer does not split, a token may still join:
// SentencePiece merges across the whole text, and a special token is
// matched anywhere. So a cut whose two bytes a SentencePiece piece or a
// matched special holds side by side is not used (cutRules), nor one that
// a stray UTF-8 lead byte before it would reach across (SentencePiece
// takes the bytes after such a byte into its symbol).

// cutRules says which cuts a tokenizer's tokens allow: before[b] is set
// when some token that can span a cut holds b followed by '\n' or '\r'
// (rule A), after[b] when one holds '\n' followed by b (rule B).
type cutRules struct {
	before, after [256]bool
}

// cutRulesFor computes the rules for the tokens that can span a cut: the
// specials matched in this mode and, for SentencePiece, its pieces.
func (t *Tokenizer) cutRulesFor(special bool) *cutRules {
	once, rules := &t.cuts.plainOnce, &t.cuts.plain
	if special {
		once, rules = &t.cuts.specialOnce, &t.cuts.special
	}
	once.Do(func() {
		add := func(s string) {
			for i := 0; i+1 < len(s); i++ {
				switch {
				case s[i+1] == '\n' || s[i+1] == '\r':
					rules.before[s[i]] = true
				case s[i] == '\n':
					rules.after[s[i+1]] = true
				}
			}
		}
		for _, s := range t.specials {
			if special || s.always {
				add(s.text)
			}
		}
		if t.spm != nil {
			for piece := range t.spm.pieces {
				add(piece)
			}
		}
	})
	return rules
}

// chunkCuts holds each mode's cutRules, computed once.
type chunkCuts struct {
	plainOnce, specialOnce sync.Once
	plain, special         cutRules
}

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// cutAt reports whether s may be cut before s[p] (0 < p < len(s)).
func (c *cutRules) cutAt(s []byte, p int) bool {
	for k := 1; k <= 3 && k <= p; k++ {
		if int(utf8LenByLead(s[p-k])) > k {
			return false // a lead byte's symbol would reach across
		}
	}
	switch {
	case (s[p] == '\n' || s[p] == '\r') && isAlnum(s[p-1]):
		return !c.before[s[p-1]]
	case s[p-1] == '\n' && isAlnum(s[p]) && p >= 2 && '!' <= s[p-2] && s[p-2] <= '~':
		return !c.after[s[p]]
	}
	return false
}

// lastCut is the last place in s[from:] where s may be cut, or -1.
func (c *cutRules) lastCut(s []byte, from int) int {
	for p := len(s) - 1; p > max(from, 0); p-- {
		if (s[p] == '\n' || s[p] == '\r' || s[p-1] == '\n') && c.cutAt(s, p) {
			return p
		}
	}
	return -1
}

// ChunkSize is the text EncodeReader encodes at a time, in bytes.
const ChunkSize = 1 << 20

// EncodeReader encodes the text r reads in chunks of about ChunkSize
// bytes, in memory bounded by the chunk rather than by the text, and yields
// each chunk's token ids (valid until the next iteration) or the read
// error. Their concatenation is Encode of the whole text, or EncodeSpecial
// with special. A chunk ends only where nothing can join the text either
// side (a line break next to a letter or digit, see cutRules): a text
// with no such place is held whole until it has one.
func (t *Tokenizer) EncodeReader(r io.Reader, special bool) iter.Seq2[[]int, error] {
	return t.encodeChunks(r, special, ChunkSize)
}

// encodeChunks is EncodeReader with chunks of size bytes.
func (t *Tokenizer) encodeChunks(r io.Reader, special bool, size int) iter.Seq2[[]int, error] {
	return func(yield func([]int, error) bool) {
		rules := t.cutRulesFor(special)
		buf := make([]byte, 0, size)
		var ids []int
		first := true // the next chunk starts a fragment (see encodeFragments)
		searched := 0 // buf[:searched] holds no cut
		for {
			eof := false
			for len(buf) < cap(buf) && !eof {
				n, err := r.Read(buf[len(buf):cap(buf)])
				buf = buf[:len(buf)+n]
				switch {
				case errors.Is(err, io.EOF):
					eof = true
				case err != nil:
					yield(nil, err)
					return
				}
			}
			cut := len(buf)
			if !eof {
				if cut = rules.lastCut(buf, searched); cut < 0 {
					// No cut yet: read on into a larger buffer.
					searched = len(buf) - 1
					buf = append(buf, 0)[:len(buf)]
					continue
				}
			}
			ids, first = t.encodeFragments(ids[:0], string(buf[:cut]), special, first)
			if !yield(ids, nil) || eof {
				return
			}
			n := copy(buf, buf[cut:])
			buf, searched = buf[:n], 0
			if cap(buf) > 2*size && n < size {
				buf = append(make([]byte, 0, size), buf...) // give back a buffer a long line grew
			}
		}
	}
}
