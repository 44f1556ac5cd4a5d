package runtime

import (
	"context"
	"errors"
	"iter"
	"unicode/utf8"

	"github.com/goformer/goformer/model/tokenizer"
)

// GenerateText is Generate as text: it yields the text of the generated
// tokens as they come, each string whole UTF-8 characters (a token that
// ends inside a character is held back until the next completes it, as
// tokenizer.StreamDecoder does), so that the concatenation of the strings
// is the text of the tokens. A token whose text is empty or held back
// yields nothing; use Generate for the ids and log-probabilities. Errors
// are Generate's, yielded at most once as the last element, after the text
// held back.
//
// A token that is whole characters by itself, nothing being held back, is
// yielded as a string the model keeps for every token, so such a step
// allocates nothing: the model builds those strings on its first
// GenerateText.
func (s *Session) GenerateText(ctx context.Context, prompt []int, opts GenerateOptions) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		tok := s.m.tok
		if tok == nil {
			yield("", errors.New("generate text: the model has no tokenizer"))
			return
		}
		ts := textStream{tok: tok, pieces: s.m.pieces(), dec: tok.NewStreamDecoder()}
		for t, err := range s.Generate(ctx, prompt, opts) {
			if err != nil {
				if tail := ts.dec.Flush(); tail != "" && !yield(tail, nil) {
					return
				}
				yield("", err)
				return
			}
			piece, err := ts.add(t.ID)
			if err != nil {
				yield("", err)
				return
			}
			if piece != "" && !yield(piece, nil) {
				return
			}
		}
		if tail := ts.dec.Flush(); tail != "" {
			yield(tail, nil)
		}
	}
}

// textStream turns ids into whole characters: a token that is whole
// characters by itself, with nothing held back, is its string of pieces;
// any other goes through the stream decoder, which holds the tail of a
// character back.
type textStream struct {
	tok    *tokenizer.Tokenizer
	pieces []string // the text of every token
	dec    *tokenizer.StreamDecoder
	held   int // bytes dec holds back
}

// add returns the text id completes, possibly "".
func (ts *textStream) add(id int) (string, error) {
	b, err := ts.tok.Token(id)
	if err != nil {
		return "", err
	}
	if ts.held == 0 && utf8.Valid(b) {
		return ts.pieces[id], nil
	}
	piece, err := ts.dec.Add(id)
	ts.held += len(b) - len(piece)
	return piece, err
}

// pieces returns the text of every token of the tokenizer, built once.
func (m *Model) pieces() []string {
	m.piecesOnce.Do(func() {
		m.piecesText = make([]string, m.tok.VocabSize())
		for id := range m.piecesText {
			b, _ := m.tok.Token(id) // every id below VocabSize has bytes
			m.piecesText[id] = string(b)
		}
	})
	return m.piecesText
}
