package tokenizer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyVocab is a byte-level vocabulary: the 256 byte tokens, the tokens of
// mergeLines in order, then "<|endoftext|>", one JSON entry per line.
var tinyMerges = []string{"#version: 0.2", "h e", "l l", "he ll", "hell o", "Ġ w", "Ġw o"}

func tinyVocab() []string {
	var tokens []string
	for b := range 256 {
		tokens = append(tokens, string(byteRune[b]))
	}
	for _, m := range tinyMerges[1:] {
		tokens = append(tokens, strings.ReplaceAll(m, " ", ""))
	}
	return append(tokens, "<|endoftext|>")
}

func vocabJSON(tokens []string) string {
	var b strings.Builder
	b.WriteString("{\n")
	for id, tok := range tokens {
		sep := ","
		if id == len(tokens)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  %q: %d%s\n", tok, id, sep)
	}
	b.WriteString("}\n")
	return b.String()
}

func TestParseTiny(t *testing.T) {
	tok, err := Parse("vocab.json", []byte(vocabJSON(tinyVocab())), "merges.txt", []byte(strings.Join(tinyMerges, "\n")+"\n"))
	require.NoError(t, err)
	assert.Equal(t, 256+6+1, tok.VocabSize())
	id, ok := tok.SpecialID("<|endoftext|>")
	require.True(t, ok, "the one token no merge makes is special")
	assert.Equal(t, 262, id)
	assert.Equal(t, []int{259, 261}, tok.Encode("hello wo"))
	assert.Equal(t, []int{259, 'x'}, tok.Encode("hellox"))
	assert.Equal(t, []int{259, 262, 261}, tok.EncodeSpecial("hello<|endoftext|> wo"))
}

// TestParseErrors feeds vocabularies and merge lists that do not fit
// together; each error must name the file and the line or token at fault.
func TestParseErrors(t *testing.T) {
	good := tinyVocab()
	byteA := string(byteRune['a'])
	withoutA := func() []string {
		v := append([]string(nil), good...)
		v['a'] = "aa" // byte 'a' is gone; ids stay dense
		return v
	}()
	merges := strings.Join(tinyMerges, "\n") + "\n"
	for _, c := range []struct {
		name, vocab, merges string
		want                []string
	}{
		{"malformed JSON", `{"a": 0,` + "\n" + `"b" 1}`, merges, []string{"vocab.json:2:", "malformed JSON"}},
		{"not an object", `["a", "b"]`, merges, []string{"vocab.json:1:", "not a JSON object"}},
		{"id not a number", "{\n\"a\": \"zero\"\n}", merges, []string{"vocab.json:2:", `token "a": id is not a number`}},
		{"negative id", "{\n\"a\": -1\n}", merges, []string{"vocab.json:2:", "not a non-negative integer"}},
		{"duplicate id", vocabJSON(good)[:len(vocabJSON(good))-3] + ",\n  \"extra\": 7\n}", merges,
			[]string{"vocab.json:265:", `tokens "ć" and "extra" both have id 7`}},
		{"duplicate token", "{\n\"a\": 0,\n\"a\": 1\n}", merges, []string{"vocab.json:3:", `token "a" appears twice`}},
		{"gap in ids", "{\n\"a\": 0,\n\"b\": 2\n}", merges, []string{"vocab.json:", "no token has id 1"}},
		{"trailing data", "{\"a\": 0} {}", merges, []string{"vocab.json:1:", "unexpected data"}},
		{"missing byte token", vocabJSON(withoutA), merges, []string{"vocab.json: no token for byte 0x61", byteA}},
		{"merge names unknown token", vocabJSON(good), merges + "Ġ zz\n", []string{"merges.txt:8:", `merge "Ġ zz"`, `unknown token "zz"`}},
		{"merge result unknown", vocabJSON(good), merges + "l o\n", []string{"merges.txt:8:", `its result "lo" is not a token`}},
		{"duplicate merge", vocabJSON(good), merges + "h e\n", []string{"merges.txt:8:", "duplicate merge"}},
		{"malformed merge line", vocabJSON(good), "#version: 0.2\nh e\nhe\n", []string{"merges.txt:3:", "not two tokens"}},
		{"three fields", vocabJSON(good), "h e l\n", []string{"merges.txt:1:", "not two tokens"}},
	} {
		_, err := Parse("vocab.json", []byte(c.vocab), "merges.txt", []byte(c.merges))
		if !assert.Error(t, err, c.name) {
			continue
		}
		for _, w := range c.want {
			assert.Contains(t, err.Error(), w, c.name)
		}
		assert.NotContains(t, err.Error(), "\n", "%s: one line", c.name)
	}
}

func TestNewErrors(t *testing.T) {
	good := tinyVocab()
	_, err := New(append(good, "he"), nil, nil)
	assert.ErrorContains(t, err, `token 263 "he": same text as token 256 "he"`)
	_, err = New(good, [][2]string{{"h", "x!"}}, nil)
	assert.ErrorContains(t, err, `merge 0 "h x!": unknown token "x!"`)
	_, err = New(good, nil, []string{"<|im_start|>"})
	assert.ErrorContains(t, err, `special token "<|im_start|>" is not in the vocabulary`)
}

func TestLoaders(t *testing.T) {
	dir := t.TempDir()
	vocab, merges := vocabJSON(tinyVocab()), strings.Join(tinyMerges, "\n")+"\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, VocabFile), []byte(vocab), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, MergesFile), []byte(merges), 0o644))
	fromDir, err := LoadDir(dir)
	require.NoError(t, err)
	fromFS, err := LoadFS(fstest.MapFS{
		"m/vocab.json": {Data: []byte(vocab)},
		"m/merges.txt": {Data: []byte(merges)},
	}, "m")
	require.NoError(t, err)
	assert.Equal(t, fromDir.Encode("hello world"), fromFS.Encode("hello world"))

	_, err = LoadDir(filepath.Join(dir, "absent"))
	assert.ErrorContains(t, err, filepath.Join(dir, "absent", VocabFile))
	require.NoError(t, os.WriteFile(filepath.Join(dir, MergesFile), []byte("h e\nl\n"), 0o644))
	_, err = LoadDir(dir)
	assert.ErrorContains(t, err, filepath.Join(dir, MergesFile)+":2:")
}

// TestGPT2Specials checks what Parse finds special in GPT-2's files, and
// that the text of a special token is ordinary text unless asked for.
func TestGPT2Specials(t *testing.T) {
	tok := loadGPT2(t)
	assert.Equal(t, 50257, tok.VocabSize())
	id, ok := tok.SpecialID("<|endoftext|>")
	require.True(t, ok)
	assert.Equal(t, 50256, id)
	assert.Equal(t, []string{"<|endoftext|>"}, unreachableGPT2(t))

	text := "Hi<|endoftext|> there<|endoftext|>"
	assert.Equal(t, []int{17250, 27, 91, 437, 1659, 5239, 91, 29, 612, 27, 91, 437, 1659, 5239, 91, 29}, tok.Encode(text))
	assert.Equal(t, []int{17250, 50256, 612, 50256}, tok.EncodeSpecial(text))
	assert.Equal(t, []int{50256}, tok.EncodeSpecial("<|endoftext|>"))
	assert.Equal(t, []int{27, 91, 437, 1659, 5239, 91}, tok.EncodeSpecial("<|endoftext|"))
	back, err := tok.Decode(tok.EncodeSpecial(text))
	require.NoError(t, err)
	assert.Equal(t, text, back)
}

func unreachableGPT2(t *testing.T) []string {
	vocab, err := os.ReadFile(filepath.Join("testdata", VocabFile))
	require.NoError(t, err)
	merges, err := os.ReadFile(filepath.Join("testdata", MergesFile))
	require.NoError(t, err)
	tokens, _, err := parseVocab(VocabFile, vocab)
	require.NoError(t, err)
	mergeList, _, err := parseMerges(MergesFile, merges)
	require.NoError(t, err)
	return unreachable(tokens, mergeList)
}

func TestDecodeUnknownID(t *testing.T) {
	tok := loadGPT2(t)
	_, err := tok.Decode([]int{15496, 50257})
	assert.ErrorIs(t, err, ErrUnknownID)
	// The error names the id and the file the vocabulary came from.
	assert.EqualError(t, err, "tokenizer: unknown token id: 50257 ("+filepath.Join("testdata", VocabFile)+" has 50257 tokens)")
	_, err = tok.Decode([]int{-1})
	assert.ErrorIs(t, err, ErrUnknownID)
	_, err = tok.NewStreamDecoder().Add(60000)
	assert.ErrorContains(t, err, filepath.Join("testdata", VocabFile))

	// A tokenizer built by New has no file to name.
	tokens, _ := manySpecials(0)
	tok, err = New(tokens[:256], nil, nil)
	require.NoError(t, err)
	_, err = tok.Token(256)
	assert.EqualError(t, err, "tokenizer: unknown token id: 256 (vocabulary has 256)")
}
