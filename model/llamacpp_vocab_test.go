package model

import (
	"cmp"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/goformer/goformer/model/gguf"
	"github.com/goformer/goformer/model/tokenizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// llamaCppSource finds a checkout of llama.cpp's source (release v0.4.0, as
// node-llama-cpp 3.21.1 ships it): $GOFORMER_LLAMACPP_SRC, else a clone of
// the git bundle in $GOFORMER_LLAMACPP's node_modules, made once per test
// binary in a temporary folder.
func llamaCppSource(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("GOFORMER_LLAMACPP_SRC"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "src", "llama-vocab.cpp")); err != nil {
			t.Fatalf("GOFORMER_LLAMACPP_SRC=%s is not a llama.cpp checkout: %v", dir, err)
		}
		return dir
	}
	peers := os.Getenv("GOFORMER_LLAMACPP")
	if peers == "" {
		t.Skip("skipping: set GOFORMER_LLAMACPP_SRC to a llama.cpp checkout, or GOFORMER_LLAMACPP to a folder " +
			"whose node_modules holds node-llama-cpp 3.21.1 (its llama/gitRelease.bundle is cloned)")
	}
	bundle := filepath.Join(peers, "node_modules", "node-llama-cpp", "llama", "gitRelease.bundle")
	if _, err := os.Stat(bundle); err != nil {
		t.Skipf("skipping: no llama.cpp bundle: %v", err)
	}
	srcOnce.Do(func() {
		dir, err := os.MkdirTemp("", "goformer-llamacpp-src-")
		if err != nil {
			srcErr = err
			return
		}
		out, err := exec.Command("git", "clone", "-q", bundle, dir).CombinedOutput()
		if err != nil {
			srcErr = errors.New("git clone " + bundle + ": " + err.Error() + ": " + string(out))
			return
		}
		srcDir = dir
	})
	require.NoError(t, srcErr)
	return srcDir
}

var (
	srcOnce sync.Once
	srcDir  string
	srcErr  error
)

// TestLlamaCppVocabSuite runs llama.cpp's own tokenizer tests
// (tests/test-tokenizer-0.cpp): for each models/ggml-vocab-NAME.gguf, every
// input of NAME.gguf.inp must encode to the ids on its line of
// NAME.gguf.out, with no BOS added and no special token parsed. llama.cpp
// wrote the expected ids with each model's Hugging Face tokenizer.
func TestLlamaCppVocabSuite(t *testing.T) {
	src := llamaCppSource(t)
	// The vocabularies goformer must pass; the others in the folder use a
	// tokenizer model it does not implement and must say so.
	implemented := []string{
		"command-r", "deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-bpe", "llama-spm",
		"mpt", "phi-3", "qwen2", "qwen35", "refact", "starcoder",
	}
	inputs, err := filepath.Glob(filepath.Join(src, "models", "ggml-vocab-*.gguf.inp"))
	require.NoError(t, err)
	require.NotEmpty(t, inputs)
	var table []string
	for _, inp := range inputs {
		path := strings.TrimSuffix(inp, ".inp")
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "ggml-vocab-"), ".gguf")
		t.Run(name, func(t *testing.T) {
			tok, err := LoadGGUFTokenizer(path)
			if !contains(implemented, name) {
				require.ErrorIs(t, err, ErrUnsupported)
				table = append(table, name+": not implemented: "+err.Error())
				return
			}
			require.NoError(t, err)
			cases := readVocabCases(t, inp, path+".out")
			passed := 0
			for _, c := range cases {
				if assert.Equal(t, c.ids, intsOrNil(tok.Encode(c.text)), "%s: %q", name, c.text) {
					passed++
				}
			}
			table = append(table, name+" ("+tok.Kind()+"): "+strconv.Itoa(passed)+"/"+strconv.Itoa(len(cases)))
		})
	}
	t.Log("llama.cpp tokenizer suite:\n" + strings.Join(table, "\n"))
}

type vocabCase struct {
	text string
	ids  []int
}

// readVocabCases reads a .gguf.inp (inputs separated by
// "\n__ggml_vocab_test__\n", one after the last) and its .gguf.out (a line
// of space-separated ids per input).
func readVocabCases(t *testing.T, inp, out string) []vocabCase {
	t.Helper()
	in, err := os.ReadFile(inp)
	require.NoError(t, err)
	want, err := os.ReadFile(out)
	require.NoError(t, err)
	const sep = "\n__ggml_vocab_test__\n"
	texts := strings.Split(string(in), sep)
	require.Equal(t, "", texts[len(texts)-1], "%s does not end with the separator", inp)
	texts = texts[:len(texts)-1]
	lines := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	require.Len(t, lines, len(texts), "%s and %s disagree on the number of cases", inp, out)
	cases := make([]vocabCase, len(texts))
	for i, text := range texts {
		cases[i].text = text
		for _, f := range strings.Fields(lines[i]) {
			id, err := strconv.Atoi(f)
			require.NoError(t, err, "%s line %d", out, i+1)
			cases[i].ids = append(cases[i].ids, id)
		}
	}
	return cases
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func intsOrNil(ids []int) []int {
	if len(ids) == 0 {
		return nil
	}
	return ids
}

// TestLlamaCppVocabRoundTrip: on every vocabulary of the suite,
// Decode(Encode(s)) == s for seeded random strings of many scripts,
// whitespace runs and (where the vocabulary has a token for every byte)
// invalid UTF-8; and a warm EncodeTo allocates nothing.
func TestLlamaCppVocabRoundTrip(t *testing.T) {
	src := llamaCppSource(t)
	atoms := []string{
		"a", "Z", "é", "ß", "ж", "ש", "ع", "क्ष", "\u0301", "0", "42", "１", "½", "!", "'s", "'LL", "…", "。",
		" ", "  ", "   ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "的", "가", "あ", "😀", "👨‍👩‍👧", "▁", "<0x41>",
		"<s>", "hello", " world", "func main() {", "1234567",
	}
	invalid := []string{"\xff", "\xc0", "\x80", "\xe2\x82", "\xed\xa0\x80"}
	// Vocabularies without a token for some byte drop it (see NewBPE):
	// they round-trip valid UTF-8 only, and only where every character
	// they meet has its bytes' tokens.
	partial := map[string]bool{"falcon": true, "mpt": true, "refact": true, "starcoder": true}
	for _, name := range []string{"gpt-2", "llama-bpe", "llama-spm", "phi-3", "qwen2", "deepseek-llm", "command-r", "falcon", "mpt", "starcoder"} {
		t.Run(name, func(t *testing.T) {
			tok, err := LoadGGUFTokenizer(filepath.Join(src, "models", "ggml-vocab-"+name+".gguf"))
			require.NoError(t, err)
			r := rand.New(rand.NewPCG(7, uint64(len(name))))
			bad := 0
			for range 2000 {
				var b strings.Builder
				for range 1 + r.IntN(20) {
					if !partial[name] && r.IntN(10) == 0 {
						b.WriteString(invalid[r.IntN(len(invalid))])
						continue
					}
					b.WriteString(atoms[r.IntN(len(atoms))])
				}
				s := b.String()
				if tok.Kind() == "sentencepiece" {
					// SentencePiece writes spaces as ▁: a ▁ of the input decodes as a space.
					s = strings.ReplaceAll(s, "▁", "_")
				}
				got, err := tok.Decode(tok.Encode(s))
				require.NoError(t, err)
				if tok.Kind() == "sentencepiece" {
					// A stray UTF-8 lead byte takes the ▁ of a space after
					// it into its symbol, as llama.cpp splits: the ▁'s bytes
					// come back as byte tokens, which decode as themselves.
					got = strings.ReplaceAll(got, "▁", " ")
				}
				if !assert.Equal(t, s, got, "%s: %q", name, s) {
					if bad++; bad > 3 {
						return
					}
				}
			}
			text := strings.Repeat("The quick brown fox, isn't it? 我爱自然语言处理 👨‍👩‍👧 1234567\n\t  end ", 20)
			dst := tok.EncodeTo(nil, text)
			if !raceEnabled {
				assert.Zero(t, testing.AllocsPerRun(20, func() { dst = tok.EncodeTo(dst[:0], text) }))
			}
		})
	}
}

// TestTokenizerJSONPreTokenizers: a tokenizer.json holding a GGUF
// vocabulary's tokens and merges, with the pre_tokenizer its Hugging Face
// repository writes (a Split by Llama 3's or Qwen2's pattern then ByteLevel
// without regex, or Digits then ByteLevel for StarCoder), passes llama.cpp's
// cases for that vocabulary.
func TestTokenizerJSONPreTokenizers(t *testing.T) {
	src := llamaCppSource(t)
	split := func(pattern string) map[string]any {
		return map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": pattern}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		}}
	}
	for _, c := range []struct {
		vocab        string
		pre          map[string]any
		ignoreMerges bool
		kind         string
	}{
		{"llama-bpe", split(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`), true, "bpe/llama-bpe"},
		{"qwen2", split(`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`), false, "bpe/qwen2"},
		{"starcoder", map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Digits", "individual_digits": true},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
		}}, false, "bpe/starcoder"},
	} {
		t.Run(c.vocab, func(t *testing.T) {
			path := filepath.Join(src, "models", "ggml-vocab-"+c.vocab+".gguf")
			f, err := gguf.Open(path)
			require.NoError(t, err)
			defer f.Close()
			tokens, err := f.Strings(ggufTokensKey)
			require.NoError(t, err)
			merges, err := f.Strings(ggufMergesKey)
			require.NoError(t, err)
			types, err := f.Ints(ggufTokenTypeKey)
			require.NoError(t, err)
			vocab := make(map[string]int, len(tokens))
			var added []any
			for id, tok := range tokens {
				vocab[tok] = id
				if types[id] == ggufTokenControl {
					added = append(added, map[string]any{"id": id, "content": tok, "special": true})
				}
			}
			doc := map[string]any{
				"normalizer": nil, "pre_tokenizer": c.pre, "added_tokens": added,
				"decoder": map[string]any{"type": "ByteLevel"},
				"model":   map[string]any{"type": "BPE", "vocab": vocab, "merges": merges, "ignore_merges": c.ignoreMerges},
			}
			data, err := json.Marshal(doc)
			require.NoError(t, err)
			tok, err := tokenizer.ParseTokenizerJSON("tokenizer.json", data)
			require.NoError(t, err)
			assert.Equal(t, c.kind, tok.Kind())
			for _, k := range readVocabCases(t, path+".inp", path+".out") {
				assert.Equal(t, k.ids, intsOrNil(tok.Encode(k.text)), "%s: %q", c.vocab, k.text)
			}
		})
	}
}

// spmTokenizerJSON writes a GGUF SentencePiece vocabulary as transformers'
// converter (LlamaConverter, SentencePieceExtractor) writes a
// tokenizer.json: the pieces as model.vocab, a merge for every split of
// every piece into two pieces, sorted by the merged piece's score (best
// first, stable in id order) and within a piece by the ids of its two
// halves, byte fallback, the control tokens as special added tokens, and
// the dummy prefix and "▁" for spaces written by normalizer or
// pre_tokenizer.
func spmTokenizerJSON(t *testing.T, path string, normalizer, pre any) []byte {
	t.Helper()
	f, err := gguf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	tokens, err := f.Strings(ggufTokensKey)
	require.NoError(t, err)
	types, err := f.Ints(ggufTokenTypeKey)
	require.NoError(t, err)
	scores, err := ggufScores(f, len(tokens))
	require.NoError(t, err)
	vocab := make(map[string]int, len(tokens))
	for id, tok := range tokens {
		if _, dup := vocab[tok]; !dup {
			vocab[tok] = id
		}
	}
	type merge struct {
		l, r  string
		score float32
		lid   int
		rid   int
	}
	var merges []merge
	for id, piece := range tokens {
		var local []merge
		for i := range piece {
			if i == 0 {
				continue
			}
			l, r := piece[:i], piece[i:]
			lid, lok := vocab[l]
			rid, rok := vocab[r]
			if lok && rok {
				local = append(local, merge{l, r, scores[id], lid, rid})
			}
		}
		slices.SortStableFunc(local, func(a, b merge) int { return cmp.Or(cmp.Compare(a.lid, b.lid), cmp.Compare(a.rid, b.rid)) })
		merges = append(merges, local...)
	}
	slices.SortStableFunc(merges, func(a, b merge) int { return cmp.Compare(b.score, a.score) })
	pairs := make([][2]string, len(merges))
	for i, m := range merges {
		pairs[i] = [2]string{m.l, m.r}
	}
	var added []any
	for id, tok := range tokens {
		if types[id] == ggufTokenControl || types[id] == 2 {
			added = append(added, map[string]any{"id": id, "content": tok, "special": true})
		}
	}
	doc := map[string]any{
		"normalizer": normalizer, "pre_tokenizer": pre, "added_tokens": added,
		"decoder": map[string]any{"type": "Sequence", "decoders": []any{
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": "▁"}, "content": " "},
			map[string]any{"type": "ByteFallback"}, map[string]any{"type": "Fuse"},
			map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 0}}},
		"model": map[string]any{"type": "BPE", "vocab": vocab, "merges": pairs, "byte_fallback": true, "unk_token": tokens[0], "fuse_unk": true},
	}
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	return data
}

// TestTokenizerJSONSentencePiece: a SentencePiece vocabulary of the suite
// (llama-spm, phi-3) as a tokenizer.json of transformers' converter, its
// spaces written by a Prepend and Replace normalizer (Llama 2's files) or a
// Metaspace pre-tokenizer (newer ones), passes llama.cpp's cases for it.
func TestTokenizerJSONSentencePiece(t *testing.T) {
	src := llamaCppSource(t)
	prepend := map[string]any{"type": "Sequence", "normalizers": []any{
		map[string]any{"type": "Prepend", "prepend": "▁"},
		map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"}}}
	metaspace := map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": false}
	for _, vocab := range []string{"llama-spm", "phi-3"} {
		path := filepath.Join(src, "models", "ggml-vocab-"+vocab+".gguf")
		cases := readVocabCases(t, path+".inp", path+".out")
		for _, style := range []struct {
			name            string
			normalizer, pre any
		}{{"normalizer", prepend, nil}, {"metaspace", nil, metaspace}} {
			t.Run(vocab+"/"+style.name, func(t *testing.T) {
				tok, err := tokenizer.ParseTokenizerJSON("tokenizer.json", spmTokenizerJSON(t, path, style.normalizer, style.pre))
				require.NoError(t, err)
				assert.Equal(t, "sentencepiece", tok.Kind())
				passed := 0
				for _, k := range cases {
					if assert.Equal(t, k.ids, intsOrNil(tok.Encode(k.text)), "%s: %q", vocab, k.text) {
						passed++
					}
				}
				t.Logf("%s as tokenizer.json (%s): %d/%d", vocab, style.name, passed, len(cases))
			})
		}
	}
}
