package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/goformer/goformer/internal/sidefile"
)

// The file names of a Hugging Face GPT-2 checkpoint's tokenizer.
const (
	VocabFile  = "vocab.json"
	MergesFile = "merges.txt"
)

// LoadDir loads the tokenizer of the checkpoint in dir: vocab.json and
// merges.txt, or else tokenizer.json (ParseTokenizerJSON), with what
// tokenizer_config.json and chat_template.jinja add where they are there:
// the bos and eos tokens, add_bos_token, add_eos_token and the chat
// templates.
func LoadDir(dir string) (*Tokenizer, error) {
	t, err := loadDir(dir)
	if err != nil {
		return nil, err
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	if err := t.applyConfig(func(name string) ([]byte, error) { return sidefile.Read(path(name)) }, path); err != nil {
		return nil, err
	}
	return t, nil
}

func loadDir(dir string) (*Tokenizer, error) {
	vocab := filepath.Join(dir, VocabFile)
	if _, err := os.Stat(vocab); errors.Is(err, fs.ErrNotExist) {
		name := filepath.Join(dir, TokenizerFile)
		data, jerr := sidefile.Read(name)
		if jerr == nil {
			return ParseTokenizerJSON(name, data)
		}
		if !errors.Is(jerr, fs.ErrNotExist) {
			return nil, fmt.Errorf("tokenizer: %w", jerr)
		}
	}
	return LoadFiles(vocab, filepath.Join(dir, MergesFile))
}

// LoadFiles loads a tokenizer from a vocab.json and a merges.txt. Like every
// loader's, they must be regular files of at most sidefile.Limit bytes (64
// MiB unless GOFORMER_SIDE_FILE_MIB says more).
func LoadFiles(vocabPath, mergesPath string) (*Tokenizer, error) {
	vocab, err := sidefile.Read(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	mergeText, err := sidefile.Read(mergesPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return Parse(vocabPath, vocab, mergesPath, mergeText)
}

// LoadFS loads vocab.json and merges.txt from directory dir of fsys, such as
// an embedded checkpoint, with tokenizer_config.json and
// chat_template.jinja as LoadDir reads them.
func LoadFS(fsys fs.FS, dir string) (*Tokenizer, error) {
	vocabPath, mergesPath := path.Join(dir, VocabFile), path.Join(dir, MergesFile)
	vocab, err := sidefile.ReadFS(fsys, vocabPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	mergeText, err := sidefile.ReadFS(fsys, mergesPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := Parse(vocabPath, vocab, mergesPath, mergeText)
	if err != nil {
		return nil, err
	}
	name := func(file string) string { return path.Join(dir, file) }
	if err := t.applyConfig(func(file string) ([]byte, error) { return sidefile.ReadFS(fsys, name(file)) }, name); err != nil {
		return nil, err
	}
	return t, nil
}

// Parse builds a tokenizer from the contents of a vocab.json and a
// merges.txt; the names are used in error messages. The special tokens are
// the vocabulary entries that neither are a byte nor result from a merge:
// for GPT-2, "<|endoftext|>".
func Parse(vocabName string, vocab []byte, mergesName string, mergeText []byte) (*Tokenizer, error) {
	tokens, offsets, err := parseVocab(vocabName, vocab)
	if err != nil {
		return nil, err
	}
	mergeList, lines, err := parseMerges(mergesName, mergeText)
	if err != nil {
		return nil, err
	}
	names := labels{
		vocab: vocabName,
		token: func(id int) string {
			return fmt.Sprintf("%s:%d: token %q (id %d)", vocabName, lineAt(vocab, offsets[id]), tokens[id], id)
		},
		merge: func(i int) string {
			return fmt.Sprintf("%s:%d: merge %q", mergesName, lines[i], mergeList[i][0]+" "+mergeList[i][1])
		},
	}
	specials := unreachable(tokens, mergeList)
	t, err := build(tokens, mergeList, specials, names)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t.warning = unmergedWarning(vocabName, tokens, mergesName, len(mergeList), specials)
	if t.warning != "" && len(mergeList) == 0 {
		// An empty or header-only merges.txt beside a vocabulary of merged
		// tokens encodes every text byte by byte: a broken download, not a
		// tokenizer. A file of some merges fewer than the vocabulary implies
		// stays a warning (a trimmed vocabulary can be deliberate).
		return nil, fmt.Errorf("tokenizer: %s holds no merges, but %s's tokens need them: %s", mergesName, vocabName, t.warning)
	}
	return t, nil
}

// specialLooking matches the forms special tokens take: <|endoftext|>,
// <s>, </s>, <unk>, [CLS], [PAD].
var specialLooking = regexp.MustCompile(`^(<[^<>\s]+>|\[[A-Za-z_]+\])$`)

// unmergedWarning is the warning for the tokens of specials (those no merge
// produces) that do not look special: a vocabulary that implies more merges
// than mergesName holds.
func unmergedWarning(vocabName string, tokens []string, mergesName string, nMerges int, specials []string) string {
	var odd []string
	for _, s := range specials {
		if !specialLooking.MatchString(s) {
			odd = append(odd, s)
		}
	}
	if len(odd) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %d of the %d tokens of %s (the first %q) are produced by none of its %d merges and will never be encoded: is it cut short?",
		mergesName, len(odd), len(tokens), vocabName, odd[0], nMerges)
}

// unreachable lists the tokens that BPE can never produce.
func unreachable(tokens []string, mergeList [][2]string) []string {
	made := make(map[string]bool, len(mergeList)+256)
	for _, r := range byteRune {
		made[string(r)] = true
	}
	for _, m := range mergeList {
		made[m[0]+m[1]] = true
	}
	var out []string
	for _, tok := range tokens {
		if !made[tok] {
			out = append(out, tok)
		}
	}
	return out
}

// parseVocab reads a JSON object mapping token text to id. The ids must be
// 0..n-1, each used once. offsets[id] is where the token's entry starts, for
// error messages.
func parseVocab(name string, data []byte) (tokens []string, offsets []int64, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	fail := func(offset int64, format string, args ...any) error {
		return fmt.Errorf("tokenizer: %s:%d: %s", name, lineAt(data, offset), fmt.Sprintf(format, args...))
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fail(dec.InputOffset(), "not a JSON object mapping tokens to ids")
	}
	byID := map[int]string{}
	offsetOf := map[int]int64{}
	seen := map[string]bool{}
	for dec.More() {
		offset := entryStart(data, dec.InputOffset())
		key, err := dec.Token()
		if err != nil {
			return nil, nil, fail(errorOffset(err, offset), "malformed JSON: %v", jsonError(err))
		}
		text, ok := key.(string)
		if !ok {
			return nil, nil, fail(offset, "malformed JSON: expected a token string")
		}
		val, err := dec.Token()
		if err != nil {
			return nil, nil, fail(errorOffset(err, offset), "token %q: malformed JSON: %v", text, jsonError(err))
		}
		num, ok := val.(json.Number)
		if !ok {
			return nil, nil, fail(offset, "token %q: id is not a number", text)
		}
		id, err := strconv.Atoi(num.String())
		if err != nil || id < 0 {
			return nil, nil, fail(offset, "token %q: id %s is not a non-negative integer", text, num)
		}
		if seen[text] {
			return nil, nil, fail(offset, "token %q appears twice", text)
		}
		if other, dup := byID[id]; dup {
			return nil, nil, fail(offset, "tokens %q and %q both have id %d", other, text, id)
		}
		seen[text] = true
		byID[id] = text
		offsetOf[id] = offset
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fail(errorOffset(err, dec.InputOffset()), "malformed JSON: %v", jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, fail(dec.InputOffset(), "unexpected data after the vocabulary object")
	}
	tokens = make([]string, len(byID))
	offsets = make([]int64, len(byID))
	for id := range tokens {
		text, ok := byID[id]
		if !ok {
			return nil, nil, fmt.Errorf("tokenizer: %s: no token has id %d, yet there are %d tokens: ids must be 0..%d", name, id, len(byID), len(byID)-1)
		}
		tokens[id], offsets[id] = text, offsetOf[id]
	}
	return tokens, offsets, nil
}

// entryStart skips the separators between the decoder's offset and the
// next entry, so that an error names the entry's own line.
func entryStart(data []byte, offset int64) int64 {
	for offset < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n,"), data[offset]) >= 0 {
		offset++
	}
	return offset
}

// errorOffset is where a JSON syntax error was found, if the error says.
func errorOffset(err error, fallback int64) int64 {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return syntax.Offset
	}
	return fallback
}

func jsonError(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// lineAt is the 1-based line of data[offset].
func lineAt(data []byte, offset int64) int {
	return 1 + bytes.Count(data[:min(int64(len(data)), offset)], []byte{'\n'})
}

// parseMerges reads merges.txt: an optional "#version" line, then one merge
// per line, two tokens separated by a space, in rank order.
func parseMerges(name string, data []byte) (mergeList [][2]string, lines []int, err error) {
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return nil, nil, nil
	}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if i == 0 && strings.HasPrefix(line, "#version") {
			continue
		}
		left, right, ok := strings.Cut(line, " ")
		if !ok || left == "" || right == "" || strings.Contains(right, " ") {
			return nil, nil, fmt.Errorf("tokenizer: %s:%d: %q is not two tokens separated by one space", name, i+1, line)
		}
		mergeList = append(mergeList, [2]string{left, right})
		lines = append(lines, i+1)
	}
	return mergeList, lines, nil
}
