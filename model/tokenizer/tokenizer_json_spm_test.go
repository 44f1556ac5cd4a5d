package tokenizer

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spmJSON is a tiny SentencePiece tokenizer.json: unk, bos, eos, the 256
// byte tokens, then pieces of "▁hi" and the merges that make them, with
// normalizer and pre_tokenizer as given (JSON), and model fields changed
// by edit.
func spmJSON(t *testing.T, normalizer, pre string, edit func(model map[string]any)) []byte {
	t.Helper()
	vocab := map[string]int{"<unk>": 0, "<s>": 1, "</s>": 2}
	for b := range 256 {
		vocab[fmt.Sprintf("<0x%02X>", b)] = 3 + b
	}
	for i, p := range []string{"▁", "h", "i", "▁h", "hi", "▁hi", "ih"} {
		vocab[p] = 259 + i
	}
	model := map[string]any{"type": "BPE", "vocab": vocab, "byte_fallback": true, "unk_token": "<unk>",
		"merges": []string{"▁ hi", "▁h i", "h i", "▁ h"}}
	if edit != nil {
		edit(model)
	}
	m, err := json.Marshal(model)
	require.NoError(t, err)
	return []byte(`{"normalizer": ` + normalizer + `, "pre_tokenizer": ` + pre + `,
		"added_tokens": [{"id": 0, "content": "<unk>", "special": true}, {"id": 1, "content": "<s>", "special": true}, {"id": 2, "content": "</s>", "special": true}],
		"post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
			"special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
		"decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
		"model": ` + string(m) + `}`)
}

const (
	prependReplace = `{"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}`
	replaceOnly    = `{"type": "Replace", "pattern": {"String": " "}, "content": "▁"}`
)

func metaspace(scheme string) string {
	return `{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "` + scheme + `", "split": false}`
}

// TestTokenizerJSONSentencePieceFraming: where the dummy prefix goes for
// each way a tokenizer.json writes it, byte fallback, the ih piece no
// merge makes, and BOS from the post-processor.
func TestTokenizerJSONSentencePieceFraming(t *testing.T) {
	// The pieces' ids: ▁ 259, h 260, i 261, ▁h 262, hi 263, ▁hi 264, ih 265.
	const hi, wordHi, ih, bos = 263, 264, 265, 1
	for _, c := range []struct {
		name, normalizer, pre string
		plain, afterBOS       []int
	}{
		{"Prepend+Replace", prependReplace, "null", []int{wordHi}, []int{bos, wordHi}},
		{"Replace", replaceOnly, "null", []int{hi}, []int{bos, hi}},
		{"Metaspace always", "null", metaspace("always"), []int{wordHi}, []int{bos, wordHi}},
		{"Metaspace first", "null", metaspace("first"), []int{wordHi}, []int{bos, hi}},
		{"Metaspace never", "null", metaspace("never"), []int{hi}, []int{bos, hi}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, err := ParseTokenizerJSON("tokenizer.json", spmJSON(t, c.normalizer, c.pre, nil))
			require.NoError(t, err)
			assert.Equal(t, "sentencepiece", tok.Kind())
			assert.Equal(t, c.plain, tok.Encode("hi"))
			assert.Equal(t, c.afterBOS, tok.EncodeSpecial("<s>hi"), "the text after a special token")
			assert.Equal(t, append([]int{bos}, c.plain...), tok.EncodeChat("hi"), "the post-processor's BOS before the text")
			assert.Equal(t, c.afterBOS, tok.EncodeChat("<s>hi"), "the template's BOS, not twice")
			// "ih" is a token no merge makes: never joined. "é" has no
			// token: its two UTF-8 bytes.
			ids := tok.Encode("ihé")
			assert.NotContains(t, ids, ih)
			assert.Equal(t, []int{3 + 0xC3, 3 + 0xA9}, ids[len(ids)-2:])
			back, err := tok.Decode(tok.Encode("hi ih é"))
			require.NoError(t, err)
			assert.Equal(t, "hi ih é", back)
		})
	}
}

func TestTokenizerJSONSentencePieceErrors(t *testing.T) {
	for _, c := range []struct {
		normalizer, pre string
		edit            func(map[string]any)
		want            string
	}{
		{`{"type": "NFKC"}`, "null", nil, `normalizer[0] type "NFKC" is not implemented`},
		{`{"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}]}`, "null", nil, `no Replace of " " with "▁"`},
		{prependReplace, metaspace("always"), nil, `normalizer type "Sequence" with pre_tokenizer type "Metaspace" is not implemented`},
		{"null", `{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}`, nil, `split true`},
		{"null", metaspace("sometimes"), nil, `prepend_scheme "sometimes"`},
		{"null", `{"type": "ByteLevel"}`, func(m map[string]any) {}, `model.byte_fallback true with pre_tokenizer type "ByteLevel" is not implemented`},
		{prependReplace, "null", func(m map[string]any) { m["byte_fallback"] = false }, `model.byte_fallback false for a SentencePiece BPE`},
		{prependReplace, "null", func(m map[string]any) { delete(m, "unk_token") }, `model.unk_token is missing`},
		{prependReplace, "null", func(m map[string]any) { m["unk_token"] = "<nope>" }, `model.unk_token "<nope>" is not a token`},
		{prependReplace, "null", func(m map[string]any) { m["merges"] = []string{"i i"} }, `model.merges[0] "i i": its result "ii" is not a token`},
		{"null", "null", nil, `model.byte_fallback true without a normalizer or pre-tokenizer`},
	} {
		_, err := ParseTokenizerJSON("x/tokenizer.json", spmJSON(t, c.normalizer, c.pre, c.edit))
		if assert.Error(t, err, c.want) {
			assert.Contains(t, err.Error(), "x/tokenizer.json: ")
			assert.Contains(t, err.Error(), c.want)
		}
	}
	// A decoder goformer's SentencePiece decoding is not.
	doc := spmJSON(t, prependReplace, "null", nil)
	var j map[string]any
	require.NoError(t, json.Unmarshal(doc, &j))
	j["decoder"] = map[string]any{"type": "WordPiece"}
	doc, err := json.Marshal(j)
	require.NoError(t, err)
	_, err = ParseTokenizerJSON("x/tokenizer.json", doc)
	assert.ErrorContains(t, err, `decoder type "WordPiece" is not implemented for a SentencePiece BPE`)
}
