package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// tinySentencePiece is a SentencePiece BPE vocabulary: unk, bos, eos, the
// 256 byte tokens, and pieces with scores that favour longer ones.
func tinySentencePiece(tb testing.TB) *Tokenizer {
	return sentencePieceOf(tb, []string{"▁", "h", "e", "l", "o", "w", "r", "d", "é", "▁h", "he", "ll", "llo", "hell", "hello", "▁hello", "▁w", "or", "▁wor", "▁world", "ld", "▁▁", "<user>"})
}

// sentencePieceOf is a SentencePiece BPE vocabulary of unk, bos, eos, the
// 256 byte tokens and pieces, the last of them user-defined, with scores
// that favour longer pieces.
func sentencePieceOf(tb testing.TB, pieces []string) *Tokenizer {
	tb.Helper()
	tokens := []string{"<unk>", "<s>", "</s>"}
	types := []TokenType{TokenUnknown, TokenControl, TokenControl}
	for b := range 256 {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		types = append(types, TokenByte)
	}
	for _, p := range pieces {
		tokens = append(tokens, p)
		types = append(types, TokenNormal)
	}
	types[len(types)-1] = TokenUserDefined
	scores := make([]float32, len(tokens))
	for i := range scores {
		scores[i] = float32(len(tokens[i])) - float32(i)/1000
	}
	tok, err := NewSentencePiece(tokens, scores, types, 0, true, Options{AddBOS: true, BOS: 1, EOS: 2})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// FuzzSentencePiece: any valid UTF-8 text (without "▁" or a user-defined
// token's text) round-trips through the SentencePiece encoder (byte fallback leaves no unk), any text at all
// encodes to ids of the vocabulary without a panic, and to the same ids
// word by word (through the word cache) as in one run over the whole text,
// and EncodeSpecial agrees with Encode on text without special tokens' text.
func FuzzSentencePiece(f *testing.F) {
	for _, s := range []string{"hello world", " hello  world ", "héllo\tw\x00rld 🦙", "<user>hi</s><s>", "\xff\xfe bad", "", "▁▁ ▁",
		"\xf0 world", "ぁ world \xe2\x96 \xe2\x96\x81\x81 hello"} {
		f.Add(s)
	}
	tok := tinySentencePiece(f)
	whole := tinySentencePiece(f)
	if !tok.spm.wordSplit {
		f.Fatal("the tiny vocabulary is encoded word by word")
	}
	whole.spm.wordSplit = false
	f.Fuzz(func(t *testing.T, s string) {
		ids := tok.Encode(s)
		if want := whole.Encode(s); !slices.Equal(ids, want) {
			t.Fatalf("Encode(%q) = %v word by word, %v in one run", s, ids, want)
		}
		for _, id := range ids {
			if id < 0 || id >= tok.VocabSize() {
				t.Fatalf("Encode(%q) has id %d outside the vocabulary", s, id)
			}
			if utf8.ValidString(s) && id == 0 {
				t.Fatalf("Encode(%q) = %v has unk", s, ids)
			}
		}
		// "▁" is a space to SentencePiece, and the dummy prefix after a
		// user-defined token decodes as a space, as in llama.cpp.
		if !utf8.ValidString(s) || strings.Contains(s, "▁") || strings.Contains(s, "<user>") {
			return
		}
		back, err := tok.Decode(ids)
		if err != nil {
			t.Fatal(err)
		}
		if back != s {
			t.Fatalf("Decode(Encode(%q)) = %q (ids %v)", s, back, ids)
		}
		tok.EncodeSpecial(s)
		tok.EncodeChat(s)
	})
}

// FuzzTokenizerJSON: any file is a tokenizer or an error naming the file;
// never a panic.
func FuzzTokenizerJSON(f *testing.F) {
	f.Add(tinyTokenizerJSON(nil, `null`))
	f.Add(tinyTokenizerJSON(nil, `{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}]}`))
	f.Add([]byte(`{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "a"]]}, "added_tokens": [{"id": 5, "content": "x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := ParseTokenizerJSON("fuzz/tokenizer.json", data)
		if err != nil {
			if !containsName(err.Error(), "fuzz/tokenizer.json") {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		tok.Encode("hello <s> world")
		tok.EncodeChat("<s>hi")
	})
}

// FuzzTokenizerConfig: any tokenizer_config.json is applied or is an error
// naming the file; never a panic.
func FuzzTokenizerConfig(f *testing.F) {
	f.Add([]byte(`{"add_bos_token": true, "bos_token": {"content": "<s>"}, "eos_token": "</s>", "chat_template": [{"name": "default", "template": "x"}]}`))
	f.Add([]byte(`{"chat_template": "{{ bos_token }}", "add_eos_token": true, "eos_token": null}`))
	tokens := append(tinyVocab(), "<s>", "</s>")
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := New(tokens, nil, []string{"<s>", "</s>"})
		if err != nil {
			t.Fatal(err)
		}
		if err := tok.parseConfig("fuzz/tokenizer_config.json", data); err != nil {
			if !containsName(err.Error(), "fuzz/tokenizer_config.json") {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		tok.EncodePrompt("hello")
		tok.EncodeChat("<s>hello</s>")
	})
}

func containsName(msg, name string) bool { return strings.Contains(msg, name) }
