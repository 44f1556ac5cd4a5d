package tokenizer

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGuessFIM(t *testing.T) {
	tokens := []string{"a", "<|fim_prefix|>", "<fim_suffix>", "<｜fim▁end｜>", "▁<PRE>", "<|fim_pad|>", "<PAD>", "<|repo_name|>", "<|file_sep|>", "<|fim_middle|>x"}
	fim, guessed := GuessFIM(tokens, NoFIM)
	// Two spellings of the padding: the lower id, as llama.cpp would where its hash map yields that one first.
	assert.Equal(t, FIMTokens{Prefix: 1, Suffix: 2, Middle: 3, Pad: 5, Repo: 7, Sep: 8}, fim)
	assert.Equal(t, []int{1, 2, 3, 5, 7, 8}, guessed)

	// What the file names is kept and not guessed.
	given := NoFIM
	given.Prefix, given.Pad = 0, 6
	fim, guessed = GuessFIM(tokens, given)
	assert.Equal(t, FIMTokens{Prefix: 0, Suffix: 2, Middle: 3, Pad: 6, Repo: 7, Sep: 8}, fim)
	assert.Equal(t, []int{2, 3, 7, 8}, guessed)

	fim, guessed = GuessFIM([]string{"a", "b"}, NoFIM)
	assert.Equal(t, NoFIM, fim)
	assert.Empty(t, guessed)
}

// TestTokenizerJSONFIM: a tokenizer.json's added tokens are found by their
// text as in a GGUF file (Qwen2.5-Coder's), and the padding and separators
// end generation.
func TestTokenizerJSONFIM(t *testing.T) {
	tokens := tinyVocab()
	vocab := vocabJSON(tokens)
	var merges []string
	for _, m := range tinyMerges[1:] {
		merges = append(merges, strconv.Quote(m))
	}
	var added []string
	for i, s := range []string{"<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"} {
		added = append(added, `{"id": `+strconv.Itoa(len(tokens)+i)+`, "content": "`+s+`", "special": true}`)
	}
	doc := `{"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		"decoder": {"type": "ByteLevel"}, "added_tokens": [` + strings.Join(added, ",") + `],
		"model": {"type": "BPE", "vocab": ` + vocab + `, "merges": [` + strings.Join(merges, ",") + `]}}`
	tok, err := ParseTokenizerJSON("tokenizer.json", []byte(doc))
	require.NoError(t, err)
	n := len(tokens)
	assert.Equal(t, FIMTokens{Prefix: n, Middle: n + 1, Suffix: n + 2, Pad: n + 3, Repo: n + 4, Sep: n + 5}, tok.FIM())
	assert.Equal(t, []int{n - 1, n + 3, n + 4, n + 5}, tok.EndOfGeneration())
}
