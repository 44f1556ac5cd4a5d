package server

import (
	"github.com/goformer/goformer/model/tokenizer"
	"github.com/goformer/goformer/runtime"
)

// tokenInfo is one generated token as logprobs report it.
type tokenInfo struct {
	text    string // the token's bytes (a token may end inside a character)
	logprob float64
	top     []topToken
	offset  int // where the token's text starts in the completion, in bytes
}

// topToken is one of the most likely tokens at a step.
type topToken struct {
	text    string
	logprob float64
}

// chunk is output released to the client: text, and the log-probabilities
// of the tokens whose text starts in it when the request asked for them.
type chunk struct {
	text   string
	tokens []tokenInfo
}

// output turns a request's generated tokens into the text its client gets:
// whole UTF-8 characters (tokenizer.StreamDecoder), cut before the first
// stop string (stopMatcher), each token's log-probabilities released with
// the text it starts.
type output struct {
	tok      *tokenizer.Tokenizer
	dec      *tokenizer.StreamDecoder
	stop     stopMatcher
	logprobs bool
	held     []tokenInfo // tokens whose text is not released yet
	decoded  int         // bytes the decoder has given
	released int         // bytes released to the client
	tokens   int         // tokens generated: the completion's usage
}

func newOutput(tok *tokenizer.Tokenizer, stops []string, logprobs bool) *output {
	return &output{tok: tok, dec: tok.NewStreamDecoder(), stop: stopMatcher{stops: stops}, logprobs: logprobs}
}

// add takes the next generated token. When stopped, the text reached a
// stop string: c is the last output and the request is done.
func (o *output) add(t runtime.Token) (c chunk, stopped bool) {
	o.tokens++
	piece, err := o.dec.Add(t.ID)
	if err != nil {
		piece = "" // a generated id is always the tokenizer's (runtime.Model.sampleable)
	}
	if o.logprobs {
		o.held = append(o.held, o.info(t))
	}
	o.decoded += len(piece)
	out, stopped := o.stop.add(piece)
	return o.release(out, stopped || o.stop.holding()), stopped
}

// end releases the rest at the end of the sequence: the decoder's and the
// matcher's held text, which a stop string can still end.
func (o *output) end() (c chunk, stopped bool) {
	tail := o.dec.Flush()
	o.decoded += len(tail)
	out, stopped := o.stop.add(tail)
	if !stopped {
		out += o.stop.flush()
	}
	return o.release(out, stopped), stopped
}

// release hands out text and the tokens it starts: when partial (a stop
// string found or maybe begun) only those that start before its end, else
// every token held.
func (o *output) release(text string, partial bool) chunk {
	o.released += len(text)
	c := chunk{text: text}
	if !o.logprobs {
		return c
	}
	n := len(o.held)
	if partial {
		n = 0
		for n < len(o.held) && o.held[n].offset < o.released {
			n++
		}
	}
	if n > 0 {
		c.tokens = append([]tokenInfo(nil), o.held[:n]...)
		o.held = append(o.held[:0], o.held[n:]...)
	}
	return c
}

// info is t's log-probabilities with the tokens' text.
func (o *output) info(t runtime.Token) tokenInfo {
	ti := tokenInfo{text: o.text(t.ID), logprob: t.Logprob, offset: o.decoded}
	if len(t.TopLogprobs) > 0 {
		ti.top = make([]topToken, len(t.TopLogprobs))
		for i, tl := range t.TopLogprobs {
			ti.top[i] = topToken{text: o.text(tl.ID), logprob: tl.Logprob}
		}
	}
	return ti
}

// text is token id's bytes.
func (o *output) text(id int) string {
	b, _ := o.tok.Token(id) // listed ids are the tokenizer's
	return string(b)
}
