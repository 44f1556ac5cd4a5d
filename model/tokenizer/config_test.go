package tokenizer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyDir writes tinyVocab's vocab.json and merges.txt, plus "<s>" and
// "</s>" as tokens no merge makes, and the files of extra, to a directory.
func tinyDir(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	tokens := append(tinyVocab(), "<s>", "</s>")
	files := map[string]string{VocabFile: vocabJSON(tokens), MergesFile: strings.Join(tinyMerges, "\n") + "\n"}
	for name, text := range extra {
		files[name] = text
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	return dir
}

func TestTokenizerConfig(t *testing.T) {
	dir := tinyDir(t, map[string]string{ConfigFile: `{
		"add_bos_token": true, "add_eos_token": false,
		"bos_token": {"content": "<s>", "lstrip": false, "special": true},
		"eos_token": "</s>",
		"chat_template": [{"name": "default", "template": "{{ bos_token }}"}, {"name": "tool_use", "template": "tools"}]
	}`})
	tok, err := LoadDir(dir)
	require.NoError(t, err)
	bos, ok := tok.BOS()
	assert.True(t, ok)
	assert.Equal(t, 263, bos)
	eos, ok := tok.EOS()
	assert.True(t, ok)
	assert.Equal(t, 264, eos)
	assert.Equal(t, []int{263, 259}, tok.EncodePrompt("hello"))
	src, ok := tok.ChatTemplate("")
	assert.True(t, ok)
	assert.Equal(t, "{{ bos_token }}", src)
	src, ok = tok.ChatTemplate("tool_use")
	assert.True(t, ok)
	assert.Equal(t, "tools", src)
	_, ok = tok.ChatTemplate("rag")
	assert.False(t, ok)
	assert.Equal(t, []string{"default", "tool_use"}, tok.ChatTemplateNames())

	// chat_template.jinja wins over tokenizer_config.json's default.
	dir = tinyDir(t, map[string]string{ConfigFile: `{"chat_template": "old"}`, ChatTemplateFile: "new"})
	tok, err = LoadDir(dir)
	require.NoError(t, err)
	src, _ = tok.ChatTemplate(DefaultChatTemplate)
	assert.Equal(t, "new", src)
	_, ok = tok.BOS()
	assert.False(t, ok, "no bos_token")
	assert.Equal(t, []int{259}, tok.EncodePrompt("hello"))

	// No config at all: no template, no framing.
	tok, err = LoadDir(tinyDir(t, nil))
	require.NoError(t, err)
	_, ok = tok.ChatTemplate("")
	assert.False(t, ok)
	assert.Empty(t, tok.ChatTemplateNames())
}

func TestLoadFSConfig(t *testing.T) {
	tokens := append(tinyVocab(), "<s>", "</s>")
	fsys := fstest.MapFS{
		"m/" + VocabFile:  {Data: []byte(vocabJSON(tokens))},
		"m/" + MergesFile: {Data: []byte(strings.Join(tinyMerges, "\n") + "\n")},
		"m/" + ConfigFile: {Data: []byte(`{"eos_token": "</s>", "add_eos_token": true, "chat_template": "x"}`)},
	}
	tok, err := LoadFS(fsys, "m")
	require.NoError(t, err)
	assert.Equal(t, []int{259, 264}, tok.EncodePrompt("hello"))
	src, _ := tok.ChatTemplate("")
	assert.Equal(t, "x", src)
}

func TestTokenizerConfigErrors(t *testing.T) {
	for config, want := range map[string]string{
		`{"bos_token": "<nope>"}`:            `bos_token "<nope>" is not a token of the vocabulary`,
		`{"eos_token": 3}`:                   `eos_token is 3, want a string or an object with a content string`,
		`{"add_bos_token": true}`:            `add_bos_token is true, but there is no bos_token`,
		`{"chat_template": 7}`:               `chat_template is neither a string nor a list`,
		`{"chat_template": [{"name": "a"}]}`: `chat_template [0] lacks its name or template`,
		`{"chat_template": [{"name": "a", "template": "x"}, {"name": "a", "template": "y"}]}`: `a second template named "a"`,
		`{"add_bos_token": "yes"}`: `cannot unmarshal`,
		`{`:                        `unexpected end of JSON input`,
	} {
		_, err := LoadDir(tinyDir(t, map[string]string{ConfigFile: config}))
		if assert.Error(t, err, config) {
			assert.Contains(t, err.Error(), ConfigFile, config)
			assert.Contains(t, err.Error(), want, config)
		}
	}
}

// TestEncodeChat: the template's own BOS (and EOS) are not doubled; a
// prompt without them gets them where the tokenizer adds them.
func TestEncodeChat(t *testing.T) {
	var tokens []string
	for _, r := range byteRune {
		tokens = append(tokens, string(r))
	}
	tokens = append(tokens, "<s>", "</s>", "<|im_start|>")
	specials := []string{"<s>", "</s>", "<|im_start|>"}
	plain, err := NewBPE(tokens, nil, Options{Specials: specials, BOS: 256, EOS: 257})
	require.NoError(t, err)
	assert.Equal(t, []int{258, 'h', 'i', 257}, plain.EncodeChat("<|im_start|>hi</s>"))
	both, err := NewBPE(tokens, nil, Options{Specials: specials, AddBOS: true, AddEOS: true, BOS: 256, EOS: 257})
	require.NoError(t, err)
	assert.Equal(t, []int{256, 'h', 'i', 257}, both.EncodeChat("<s>hi</s>"))
	assert.Equal(t, []int{256, 'h', 'i', 257}, both.EncodeChat("hi"))
	assert.Equal(t, []int{256, 258, 256, 257}, both.EncodeChat("<|im_start|><s>"))
}

// TestTemplateProcessing: a tokenizer.json post-processor that puts a
// special token before the text (Llama 3's) makes prompts start with it.
func TestTemplateProcessing(t *testing.T) {
	post := `{"type": "Sequence", "processors": [
		{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
		{"type": "TemplateProcessing",
		 "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
		 "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [263], "tokens": ["<s>"]}}}]}`
	tok, err := ParseTokenizerJSON("tokenizer.json", tinyTokenizerJSON(t, post))
	require.NoError(t, err)
	bos, adds := tok.AddsBOS()
	assert.True(t, adds)
	assert.Equal(t, 263, bos)
	assert.Equal(t, []int{263, 259}, tok.EncodePrompt("hello"))

	tok, err = ParseTokenizerJSON("tokenizer.json", tinyTokenizerJSON(t, `null`))
	require.NoError(t, err)
	_, adds = tok.AddsBOS()
	assert.False(t, adds)
	_, known := tok.BOS()
	assert.False(t, known)

	for post, want := range map[string]string{
		`{"type": "RobertaProcessing"}`: `post_processor type "RobertaProcessing" is not implemented`,
		`{"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A"}}, {"Sequence": {"id": "B"}}]}`:                                        `post_processor.single[1]: sequence "B"`,
		`{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}}, {"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}]}`: `at most one special token`,
		`{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<x>"}}, {"Sequence": {"id": "A"}}]}`:                                  `special token "<x>" has no id`,
		`{"type": "Sequence", "processors": [{"type": "BertProcessing"}]}`:                                                                        `post_processor.processors[0] type "BertProcessing"`,
	} {
		_, err := ParseTokenizerJSON("tokenizer.json", tinyTokenizerJSON(t, post))
		if assert.Error(t, err, post) {
			assert.Contains(t, err.Error(), "tokenizer.json")
			assert.Contains(t, err.Error(), want)
		}
	}
}

// tinyTokenizerJSON is tinyVocab as a tokenizer.json with "<s>" and "</s>"
// as added tokens and post as its post_processor.
func tinyTokenizerJSON(t *testing.T, post string) []byte {
	tokens := append(tinyVocab(), "<s>", "</s>")
	vocab := vocabJSON(tokens[:len(tokens)-2])
	var merges []string
	for _, m := range tinyMerges[1:] {
		merges = append(merges, strconv.Quote(m))
	}
	return []byte(`{"version": "1.0", "normalizer": null,
		"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		"post_processor": ` + post + `,
		"decoder": {"type": "ByteLevel"},
		"added_tokens": [{"id": 262, "content": "<|endoftext|>", "special": true}, {"id": 263, "content": "<s>", "special": true}, {"id": 264, "content": "</s>", "special": true}],
		"model": {"type": "BPE", "vocab": ` + vocab + `, "merges": [` + strings.Join(merges, ",") + `]}}`)
}
