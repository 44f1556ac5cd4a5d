package tokenizer

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMergesCutShortWarns: a merges.txt cut at a line boundary (or empty,
// or only its #version line) still parses, but the vocabulary tokens no
// merge produces are then never encoded; the tokenizer says so, naming the
// file, instead of silently encoding GPT-2 text in many more tokens.
// Special-looking tokens (<|endoftext|>, <s>, [CLS]) are not counted.
func TestMergesCutShortWarns(t *testing.T) {
	vocab, err := os.ReadFile(filepath.Join("testdata", VocabFile))
	require.NoError(t, err)
	merges, err := os.ReadFile(filepath.Join("testdata", MergesFile))
	require.NoError(t, err)

	tok, err := Parse("vocab.json", vocab, "merges.txt", merges)
	require.NoError(t, err)
	assert.Empty(t, tok.Warning(), "the whole file")

	lines := bytes.SplitAfter(merges, []byte("\n"))
	half := bytes.Join(lines[:len(lines)/2], nil)
	tok, err = Parse("vocab.json", vocab, "merges.txt", half)
	require.NoError(t, err, "half")
	assert.Regexp(t, `^merges.txt: \d+ of the 50257 tokens of vocab.json \(the first ".+"\) are produced by none of its \d+ merges and will never be encoded: is it cut short\?$`,
		tok.Warning(), "half")
	// No merges at all beside merged tokens is an error (issue 18 defect 9).
	for name, text := range map[string][]byte{"header only": lines[0], "empty": nil} {
		_, err := Parse("vocab.json", vocab, "merges.txt", text)
		assert.ErrorContains(t, err, "tokenizer: merges.txt holds no merges, but vocab.json's tokens need them: merges.txt: 50000 of the 50257 tokens of vocab.json", name)
	}

	var ids map[string]int
	require.NoError(t, json.Unmarshal(vocab, &ids))
	maps.DeleteFunc(ids, func(_ string, id int) bool { return id >= 256 })
	for i, s := range []string{"<s>", "</s>", "[CLS]", "<|im_start|>"} {
		ids[s] = 256 + i
	}
	bytesOnly, err := json.Marshal(ids)
	require.NoError(t, err)
	tok, err = Parse("vocab.json", bytesOnly, "merges.txt", nil)
	require.NoError(t, err)
	assert.Empty(t, tok.Warning(), "specials only")
}
