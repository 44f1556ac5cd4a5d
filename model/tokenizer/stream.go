package tokenizer

import "unicode/utf8"

// StreamDecoder turns token ids into text one id at a time, as a model
// generates them. A token may end inside a UTF-8 character (GPT-2 splits
// most emoji and CJK characters across tokens); the decoder holds such a
// tail back until the character is complete, so every string it returns is
// whole characters. Bytes that can never become valid UTF-8 are passed
// through as they are, so the concatenation of everything Add and Flush
// return equals Decode of all the ids.
type StreamDecoder struct {
	t       *Tokenizer
	pending []byte
	started bool // an id has been added: the dummy prefix is behind us
}

// NewStreamDecoder returns a decoder for a fresh stream of ids.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder {
	return &StreamDecoder{t: t}
}

// Add appends the token id to the stream and returns the text it completes,
// possibly "".
func (d *StreamDecoder) Add(id int) (string, error) {
	b, err := d.t.Token(id)
	if err != nil {
		return "", err
	}
	if !d.started {
		b, d.started = d.t.trimDummyPrefix(b), true
	}
	d.pending = append(d.pending, b...)
	n := len(d.pending) - incompleteTail(d.pending)
	out := string(d.pending[:n])
	d.pending = append(d.pending[:0], d.pending[n:]...)
	return out, nil
}

// Flush returns the bytes held back, which end the stream inside a
// character, and resets the decoder.
func (d *StreamDecoder) Flush() string {
	out := string(d.pending)
	d.pending, d.started = d.pending[:0], false
	return out
}

// incompleteTail is the length of the suffix of b that starts a UTF-8
// character but is cut short: a lead byte followed by fewer continuation
// bytes than it announces, which later bytes may complete.
func incompleteTail(b []byte) int {
	for k := 1; k <= min(len(b), utf8.UTFMax-1); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return 0 // ASCII: nothing open
		}
		if !utf8.RuneStart(c) {
			continue // a continuation byte: look further back for its lead
		}
		tail := b[len(b)-k:]
		if utf8.FullRune(tail) {
			return 0 // complete, or a lead byte that can never start a character
		}
		return k
	}
	return 0
}
