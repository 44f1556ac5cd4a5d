package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

// TokenizerFile is a Hugging Face tokenizers file: the one file every
// modern checkpoint ships in place of vocab.json and merges.txt.
const TokenizerFile = "tokenizer.json"

// tokenizerJSON is the part of a tokenizer.json goformer reads. Features it
// does not implement are read too, so that they are refused by name.
type tokenizerJSON struct {
	Normalizer    *jsonComponent `json:"normalizer"`
	PreTokenizer  *jsonComponent `json:"pre_tokenizer"`
	Decoder       *jsonComponent `json:"decoder"`
	PostProcessor *jsonComponent `json:"post_processor"`
	AddedTokens   []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Model struct {
		Type                    string            `json:"type"`
		Vocab                   map[string]int    `json:"vocab"`
		Merges                  []json.RawMessage `json:"merges"`
		ByteFallback            bool              `json:"byte_fallback"`
		ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
		Dropout                 *float64          `json:"dropout"`
		IgnoreMerges            bool              `json:"ignore_merges"`
		UnkToken                *string           `json:"unk_token"`
	} `json:"model"`
}

type jsonComponent struct {
	Type           string `json:"type"`
	AddPrefixSpace *bool  `json:"add_prefix_space"`
	UseRegex       *bool  `json:"use_regex"`
	TrimOffsets    *bool  `json:"trim_offsets"`
	// Sequence
	Pretokenizers []jsonComponent `json:"pretokenizers"`
	// Split
	Pattern *struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Behavior string `json:"behavior"`
	Invert   bool   `json:"invert"`
	// Digits
	IndividualDigits bool `json:"individual_digits"`
	// post_processor Sequence
	Processors []jsonComponent `json:"processors"`
	// normalizer and decoder Sequence
	Normalizers []jsonComponent `json:"normalizers"`
	Decoders    []jsonComponent `json:"decoders"`
	// Prepend, Replace, Metaspace
	Prepend       *string `json:"prepend"`
	Content       *string `json:"content"`
	Replacement   *string `json:"replacement"`
	PrependScheme *string `json:"prepend_scheme"`
	Split         *bool   `json:"split"`
	// TemplateProcessing
	Single        []map[string]struct{ ID string } `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

// ParseTokenizerJSON builds a tokenizer from a tokenizer.json: a BPE
// model over the byte-level alphabet with the ByteLevel pre-tokenizer
// (GPT-2's pattern, or a Split by a known pattern: Llama 3, Qwen2), or a
// SentencePiece BPE as transformers converts one (byte fallback, "▁" for
// spaces by a Prepend and Replace normalizer or a Metaspace pre-tokenizer
// that does not split: Llama 2, Mistral, TinyLlama), with its added tokens
// as the specials and the BOS and EOS its post-processor adds. Every
// feature of the file goformer does not implement (another model,
// normalizer or pre-tokenizer) is an error naming it; name is the file in
// messages.
func ParseTokenizerJSON(name string, data []byte) (*Tokenizer, error) {
	fail := func(format string, args ...any) (*Tokenizer, error) {
		return nil, fmt.Errorf("tokenizer: %s: "+format, append([]any{name}, args...)...)
	}
	var j tokenizerJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fail("%v", err)
	}
	m := &j.Model
	switch {
	case m.Type != "BPE":
		return fail("model.type %q is not implemented (goformer reads BPE)", m.Type)
	case m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "":
		return fail("model.continuing_subword_prefix %q is not implemented", *m.ContinuingSubwordPrefix)
	case m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "":
		return fail("model.end_of_word_suffix %q is not implemented", *m.EndOfWordSuffix)
	case m.Dropout != nil && *m.Dropout != 0:
		return fail("model.dropout %g is not implemented (inference tokenizes deterministically)", *m.Dropout)
	}
	spm, err := jsonSentencePiece(&j)
	if err != nil {
		return fail("%v", err)
	}
	pre := ""
	if spm == nil {
		if j.Normalizer != nil {
			return fail("normalizer type %q is not implemented for a byte-level BPE (goformer reads none)", j.Normalizer.Type)
		}
		if m.ByteFallback {
			return fail("model.byte_fallback true with a byte-level pre-tokenizer is not implemented")
		}
		if pre, err = jsonPreTokenizer(j.PreTokenizer); err != nil {
			return fail("%v", err)
		}
		if err := byteLevelOnly("decoder", j.Decoder, false); err != nil {
			return fail("%v", err)
		}
	}
	var frame promptFrame
	if err := frame.read("post_processor", j.PostProcessor); err != nil {
		return fail("%v", err)
	}

	n := len(m.Vocab)
	for _, a := range j.AddedTokens {
		n = max(n, a.ID+1)
	}
	if n == 0 || n > 1<<24 {
		return fail("%d tokens: want 1..%d", n, 1<<24)
	}
	// Ids run 0..n-1 without gaps, so there are as many entries as ids:
	// a file of a few entries with a huge id is refused before n tokens
	// are allocated.
	if n > len(m.Vocab)+len(j.AddedTokens) {
		return fail("ids go up to %d, but model.vocab and added_tokens hold %d entries: the ids must run 0..%d without gaps", n-1, len(m.Vocab)+len(j.AddedTokens), n-1)
	}
	tokens := make([]string, n)
	seen := make([]bool, n)
	for tok, id := range m.Vocab {
		if id < 0 || id >= n {
			return fail("model.vocab %q has id %d, outside 0..%d", tok, id, n-1)
		}
		if seen[id] {
			return fail("model.vocab gives id %d to %q and %q", id, tokens[id], tok)
		}
		tokens[id], seen[id] = tok, true
	}
	var specials []string
	for i, a := range j.AddedTokens {
		if a.ID < 0 || a.Content == "" {
			return fail("added_tokens[%d] has id %d and content %q", i, a.ID, a.Content)
		}
		if seen[a.ID] && tokens[a.ID] != a.Content {
			return fail("added_tokens[%d] gives id %d to %q, which model.vocab gives to %q", i, a.ID, a.Content, tokens[a.ID])
		}
		tokens[a.ID], seen[a.ID] = a.Content, true
		specials = append(specials, a.Content)
	}
	for id, ok := range seen {
		if !ok {
			return fail("no token has id %d (the ids must run 0..%d without gaps)", id, n-1)
		}
	}
	merges := make([][2]string, len(m.Merges))
	for i, raw := range m.Merges {
		var text string
		var pair []string
		switch {
		case json.Unmarshal(raw, &text) == nil:
			left, right, ok := strings.Cut(text, " ")
			if !ok || left == "" || right == "" || strings.Contains(right, " ") {
				return fail("model.merges[%d] %q is not two tokens separated by one space", i, text)
			}
			merges[i] = [2]string{left, right}
		case json.Unmarshal(raw, &pair) == nil && len(pair) == 2:
			merges[i] = [2]string{pair[0], pair[1]}
		default:
			return fail("model.merges[%d] is %s, want \"a b\" or [\"a\", \"b\"]", i, raw)
		}
	}
	var t *Tokenizer
	switch {
	case spm != nil:
		t, err = spm.build(tokens, merges, specials, m.UnkToken)
	case pre == "gpt-2" && !m.IgnoreMerges:
		t, err = New(tokens, merges, specials)
	default:
		t, err = NewBPE(tokens, merges, Options{PreTokenizer: pre, IgnoreMerges: m.IgnoreMerges, Specials: specials})
	}
	if err != nil {
		return fail("%v", err)
	}
	t.hasBOS, t.hasEOS, t.addBOS, t.addEOS = false, false, false, false
	for _, f := range []struct {
		text      string
		id        *int
		has, adds *bool
	}{{frame.bos, &t.bos, &t.hasBOS, &t.addBOS}, {frame.eos, &t.eos, &t.hasEOS, &t.addEOS}} {
		if f.text == "" {
			continue
		}
		id, ok := frame.ids[f.text]
		if !ok {
			id, ok = t.idOf(f.text)
		}
		if !ok || id < 0 || id >= t.VocabSize() {
			return fail("post_processor: special token %q has no id in the vocabulary", f.text)
		}
		*f.id, *f.has, *f.adds = id, true, true
	}
	return t, nil
}

// promptFrame is what a tokenizer.json's post-processor adds around a
// text: a BOS token before it and an EOS token after it, by text, and the
// ids of its special tokens.
type promptFrame struct {
	bos, eos string
	ids      map[string]int
}

// read reads a post-processor: none, ByteLevel (nothing to add at
// inference), TemplateProcessing whose single template is the sequence
// with at most one special token on each side, or a Sequence of those.
func (f *promptFrame) read(key string, c *jsonComponent) error {
	if c == nil {
		return nil
	}
	switch c.Type {
	case "ByteLevel":
		return nil
	case "Sequence":
		for i := range c.Processors {
			if err := f.read(fmt.Sprintf("%s.processors[%d]", key, i), &c.Processors[i]); err != nil {
				return err
			}
		}
		return nil
	case "TemplateProcessing":
	default:
		return fmt.Errorf("%s type %q is not implemented (goformer reads ByteLevel and TemplateProcessing)", key, c.Type)
	}
	seq := -1
	var before, after []string
	for i, item := range c.Single {
		if s, ok := item["Sequence"]; ok && len(item) == 1 {
			if seq >= 0 || s.ID != "A" {
				return fmt.Errorf("%s.single[%d]: sequence %q: goformer reads templates of one sequence, A", key, i, s.ID)
			}
			seq = i
			continue
		}
		sp, ok := item["SpecialToken"]
		if !ok || len(item) != 1 {
			return fmt.Errorf("%s.single[%d] is neither a Sequence nor a SpecialToken", key, i)
		}
		if seq < 0 {
			before = append(before, sp.ID)
		} else {
			after = append(after, sp.ID)
		}
	}
	if seq < 0 || len(before) > 1 || len(after) > 1 {
		return fmt.Errorf("%s.single: goformer reads a sequence A with at most one special token before and after it", key)
	}
	if f.ids == nil {
		f.ids = map[string]int{}
	}
	for text, st := range c.SpecialTokens {
		if len(st.IDs) == 1 {
			f.ids[text] = st.IDs[0]
		}
	}
	if len(before) == 1 {
		f.bos = before[0]
	}
	if len(after) == 1 {
		f.eos = after[0]
	}
	return nil
}

// byteLevelOnly accepts a missing component or GPT-2's ByteLevel one.
func byteLevelOnly(key string, c *jsonComponent, pre bool) error {
	if c == nil {
		if pre {
			return fmt.Errorf("%s is null: goformer needs the ByteLevel pre-tokenizer", key)
		}
		return nil
	}
	if c.Type != "ByteLevel" {
		return fmt.Errorf("%s type %q is not implemented yet (goformer reads ByteLevel)", key, c.Type)
	}
	if pre && c.AddPrefixSpace != nil && *c.AddPrefixSpace { // decoding ignores it
		return fmt.Errorf("%s add_prefix_space true is not implemented", key)
	}
	if pre && c.UseRegex != nil && !*c.UseRegex {
		return fmt.Errorf("%s use_regex false is not implemented", key)
	}
	return nil
}

// splitPatterns are the Split regexes of tokenizer.json files that a named
// pre-tokenizer implements, with (?i:…) written either way.
var splitPatterns = map[string]string{
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`:                              "llama-bpe",
	`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`: "llama-bpe",
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`:                                   "qwen2",
	`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`:                       "qwen35",
}

// jsonPreTokenizer names the pre-tokenizer a tokenizer.json's
// pre_tokenizer is: ByteLevel with its regex (GPT-2's); a Sequence of one
// Split by a known pattern (Isolated) and ByteLevel without regex (Llama 3,
// Qwen2); or a Sequence of Digits (individual) and ByteLevel (SmolLM,
// StarCoder). Anything else is an error naming what it is.
func jsonPreTokenizer(c *jsonComponent) (string, error) {
	const key = "pre_tokenizer"
	if c == nil {
		return "", fmt.Errorf("%s is null: goformer needs a byte-level pre-tokenizer", key)
	}
	if c.Type != "Sequence" {
		return "gpt-2", byteLevelOnly(key, c, true)
	}
	seq := c.Pretokenizers
	if len(seq) != 2 || seq[1].Type != "ByteLevel" {
		return "", fmt.Errorf("%s Sequence of %d is not implemented (goformer reads Split+ByteLevel and Digits+ByteLevel)", key, len(seq))
	}
	first, bl := &seq[0], &seq[1]
	if bl.AddPrefixSpace != nil && *bl.AddPrefixSpace {
		return "", fmt.Errorf("%s.pretokenizers[1] add_prefix_space true is not implemented", key)
	}
	useRegex := bl.UseRegex == nil || *bl.UseRegex
	switch first.Type {
	case "Split":
		if first.Pattern == nil || first.Pattern.Regex == nil {
			return "", fmt.Errorf("%s.pretokenizers[0] Split without a Regex pattern is not implemented", key)
		}
		name, ok := splitPatterns[*first.Pattern.Regex]
		switch {
		case !ok:
			return "", fmt.Errorf("%s.pretokenizers[0] Split pattern %q is not implemented (goformer knows Llama 3's, Qwen2's and Qwen3.5's)", key, *first.Pattern.Regex)
		case first.Behavior != "Isolated" || first.Invert:
			return "", fmt.Errorf("%s.pretokenizers[0] Split behavior %q invert %v is not implemented (goformer reads Isolated)", key, first.Behavior, first.Invert)
		case useRegex:
			return "", fmt.Errorf("%s.pretokenizers[1] ByteLevel use_regex true after a Split is not implemented", key)
		}
		return name, nil
	case "Digits":
		if !first.IndividualDigits || !useRegex {
			return "", fmt.Errorf("%s: Digits individual_digits %v with ByteLevel use_regex %v is not implemented (goformer reads true, true)", key, first.IndividualDigits, useRegex)
		}
		return "starcoder", nil
	}
	return "", fmt.Errorf("%s.pretokenizers[0] type %q is not implemented", key, first.Type)
}
