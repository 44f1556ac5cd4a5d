package tokenizer

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// ErrUnknownID is returned when a token id is outside the vocabulary.
var ErrUnknownID = errors.New("tokenizer: unknown token id")

// Tokenizer encodes text to token ids and back. It is safe for concurrent
// use. Its cache of encoded words is shared by all callers.
type Tokenizer struct {
	tokenData   []byte  // the bytes of every token, back to back
	tokenEnd    []int32 // token i is tokenData[tokenEnd[i-1]:tokenEnd[i]]
	byteToken   [256]int32
	merges      merges
	specials    []special // longest first, so that a special's prefix never wins
	vocabFile   string    // where the tokens came from, for errors; "" for New
	warning     string    // Warning
	bmp         *[0x10000]charClass
	cache       wordCache
	heapScratch sync.Pool

	// pre is the pre-tokenizer of a byte-level BPE tokenizer; nil is
	// GPT-2's, which encodeOrdinary runs without the stage machinery.
	pre *preTokenizer
	// ignoreMerges: a piece that is a token as a whole is that token,
	// whatever the merges would make of it (Llama 3). pieceIDs maps a
	// token's bytes to its id for that.
	ignoreMerges bool
	pieceIDs     map[string]int32
	cuts         chunkCuts // where EncodeReader may cut a text
	// missingBytes: some byteToken are noByte, to be dropped from encodings.
	missingBytes bool
	// always counts the specials matched by Encode too (user-defined tokens).
	always int
	// spm is set for a SentencePiece tokenizer, which encodes differently.
	spm *sentencePiece

	bos, eos       int
	hasBOS, hasEOS bool // bos and eos are known: from GGUF, a post-processor or tokenizer_config.json
	addBOS, addEOS bool

	chatTemplates map[string]string // by name; DefaultChatTemplate is the model's own
	fim           FIMTokens
}

type special struct {
	text   string
	id     int
	always bool // matched by Encode too, not only by EncodeSpecial
}

// LongestToken is the length in bytes of the vocabulary's longest token:
// a text of n bytes encodes to at least n/LongestToken tokens.
func (t *Tokenizer) LongestToken() int {
	longest, start := 0, int32(0)
	for _, end := range t.tokenEnd {
		longest = max(longest, int(end-start))
		start = end
	}
	return longest
}

// Warning is a doubt about the files the tokenizer was read from that is not
// an error, or "": vocabulary tokens that no merge produces and that do not
// look like special tokens, the mark of a merges.txt cut short (Encode never
// produces them), or a GGUF file without tokenizer.ggml.pre. Commands print
// it on stderr.
func (t *Tokenizer) Warning() string { return t.warning }

// New builds a tokenizer from its token list, indexed by id, and its merge
// list, in rank order. Both are in GPT-2's byte-alphabet text, as in
// vocab.json, merges.txt and GGUF's tokenizer.ggml.tokens and .merges.
// Each special token must be in tokens; it is matched as literal text, and
// only by EncodeSpecial. A token that is neither one of the 256 byte tokens,
// the result of a merge, nor special is never produced by Encode.
func New(tokens []string, mergeList [][2]string, specials []string) (*Tokenizer, error) {
	return build(tokens, mergeList, specials, labels{})
}

// Options are what a tokenizer needs besides its tokens and merges or
// scores.
type Options struct {
	// PreTokenizer names a byte-level BPE tokenizer's pre-tokenizer, as
	// llama.cpp does in tokenizer.ggml.pre ("llama-bpe", "qwen2", …; see
	// PreTokenizers); "" is GPT-2's.
	PreTokenizer string
	// IgnoreMerges makes a piece that is a token as a whole that token, as
	// Llama 3's tokenizer.json asks (model.ignore_merges; llama.cpp sets it
	// for the llama-bpe names).
	IgnoreMerges bool
	// Specials are matched as literal text by EncodeSpecial only: control
	// tokens such as "<|eot_id|>" (GGUF's CONTROL, Hugging Face's special
	// added tokens).
	Specials []string
	// UserDefined are matched as literal text by Encode too: GGUF's
	// USER_DEFINED tokens, Hugging Face's added tokens that are not special
	// (GPT-NeoX's runs of spaces).
	UserDefined []string
	// AddBOS and AddEOS say that the model expects its prompts framed by
	// BOS and EOS (tokenizer.ggml.add_bos_token, add_eos_token); Encode
	// never adds them, see AddsBOS.
	AddBOS, AddEOS bool
	BOS, EOS       int
	// ChatTemplates are the model's chat templates (Jinja sources) by
	// name, DefaultChatTemplate for the one it uses by default: GGUF's
	// tokenizer.chat_template and tokenizer.chat_template.NAME.
	ChatTemplates map[string]string
	// Warning is a doubt of the loader about the file (see Warning), such
	// as a GGUF file that names no pre-tokenizer.
	Warning string
	// FIM, where set, are the fill-in-the-middle tokens (a loader's
	// GuessFIM of what the file names); nil guesses them from the token
	// texts.
	FIM *FIMTokens
}

// NewBPE builds a byte-level BPE tokenizer, as New does, with the
// pre-tokenizer, specials and framing of opts.
func NewBPE(tokens []string, mergeList [][2]string, opts Options) (*Tokenizer, error) {
	pre, err := newPreTokenizer(opts.PreTokenizer)
	if err != nil {
		return nil, err
	}
	t, err := build(tokens, mergeList, slices.Concat(opts.Specials, opts.UserDefined), labels{missingBytes: true})
	if err != nil {
		return nil, err
	}
	if err := t.frame(opts); err != nil {
		return nil, err
	}
	if pre.name != "gpt-2" {
		t.pre = pre
	}
	if opts.IgnoreMerges {
		t.ignoreMerges = true
		t.pieceIDs = make(map[string]int32, len(tokens))
		for id := range tokens {
			b, _ := t.Token(id)
			if _, dup := t.pieceIDs[string(b)]; !dup {
				t.pieceIDs[string(b)] = int32(id)
			}
		}
	}
	t.markAlways(opts.UserDefined)
	return t, nil
}

// frame checks and keeps the BOS and EOS framing of opts.
func (t *Tokenizer) frame(opts Options) error {
	for _, c := range []struct {
		add  bool
		id   int
		name string
	}{{opts.AddBOS, opts.BOS, "BOS"}, {opts.AddEOS, opts.EOS, "EOS"}} {
		if c.add && (c.id < 0 || c.id >= len(t.tokenEnd)) {
			return fmt.Errorf("%s id %d is outside the vocabulary of %d tokens", c.name, c.id, len(t.tokenEnd))
		}
	}
	t.bos, t.eos, t.addBOS, t.addEOS = opts.BOS, opts.EOS, opts.AddBOS, opts.AddEOS
	t.hasBOS, t.hasEOS = true, true
	t.chatTemplates = opts.ChatTemplates
	t.warning = opts.Warning
	if opts.FIM != nil {
		for _, id := range opts.FIM.fields() {
			if *id < -1 || *id >= len(t.tokenEnd) {
				return fmt.Errorf("fill-in-the-middle token id %d is outside the vocabulary of %d tokens", *id, len(t.tokenEnd))
			}
		}
		t.fim = *opts.FIM
	}
	return nil
}

// markAlways makes the specials whose text is in texts match in Encode too.
func (t *Tokenizer) markAlways(texts []string) {
	for i := range t.specials {
		if slices.Contains(texts, t.specials[i].text) && !t.specials[i].always {
			t.specials[i].always = true
			t.always++
		}
	}
}

// EncodePrompt is the ids a model reads for text: Encode's, after BOS and
// before EOS where the tokenizer adds them (add_bos_token, add_eos_token:
// Llama 2 and 3 start every prompt with BOS; GPT-2 adds neither), as
// llama.cpp tokenizes with add_special. Special tokens in text are not
// parsed.
func (t *Tokenizer) EncodePrompt(text string) []int {
	ids := t.Encode(text)
	if t.addBOS {
		ids = append([]int{t.bos}, ids...)
	}
	if t.addEOS {
		ids = append(ids, t.eos)
	}
	return ids
}

// EncodeChat is the ids of a rendered chat prompt (package model/chat):
// the text of special tokens becomes their ids, as in EncodeSpecial, and
// BOS and EOS frame it where the tokenizer adds them, as in EncodePrompt,
// but only once: a text that begins with BOS (or ends with EOS) because
// the template wrote it gets no second one, as llama.cpp tokenizes chat
// prompts.
func (t *Tokenizer) EncodeChat(text string) []int {
	ids := t.EncodeSpecial(text)
	if t.addBOS && (len(ids) == 0 || ids[0] != t.bos) {
		ids = append([]int{t.bos}, ids...)
	}
	if t.addEOS && (len(ids) == 0 || ids[len(ids)-1] != t.eos) {
		ids = append(ids, t.eos)
	}
	return ids
}

// BOS returns the beginning-of-text token and whether the tokenizer's
// files name one (GGUF metadata, tokenizer.json's post-processor,
// tokenizer_config.json's bos_token).
func (t *Tokenizer) BOS() (int, bool) { return t.bos, t.hasBOS }

// EOS returns the end-of-text token and whether the tokenizer's files name
// one.
func (t *Tokenizer) EOS() (int, bool) { return t.eos, t.hasEOS }

// DefaultChatTemplate is the name of a model's default chat template.
const DefaultChatTemplate = "default"

// ChatTemplate returns the Jinja source of the model's chat template named
// name ("" or DefaultChatTemplate: the one it uses by default) and whether
// it has one by that name.
func (t *Tokenizer) ChatTemplate(name string) (string, bool) {
	if name == "" {
		name = DefaultChatTemplate
	}
	src, ok := t.chatTemplates[name]
	return src, ok
}

// ChatTemplateNames lists the names of the model's chat templates, sorted.
func (t *Tokenizer) ChatTemplateNames() []string { return slices.Sorted(maps.Keys(t.chatTemplates)) }

// AddsBOS returns the BOS id and true if the model expects every prompt to
// start with it. Encode never adds it; EncodePrompt does.
func (t *Tokenizer) AddsBOS() (int, bool) { return t.bos, t.addBOS }

// AddsEOS returns the EOS id and true if the model expects every prompt to
// end with it.
func (t *Tokenizer) AddsEOS() (int, bool) { return t.eos, t.addEOS }

// Kind describes the tokenizer: "bpe/<pre-tokenizer>" for byte-level BPE,
// "sentencepiece" for SentencePiece BPE.
func (t *Tokenizer) Kind() string {
	switch {
	case t.spm != nil:
		return "sentencepiece"
	case t.pre != nil:
		return "bpe/" + t.pre.name
	}
	return "bpe/gpt-2"
}

// labels name a token or a merge in an error: by position for New, by file
// and line for the loaders.
type labels struct {
	vocab string // the vocabulary's file name, if it has one
	// missingBytes lets byte tokens be absent, as some GGUF vocabularies
	// have them (0xC0 and 0xC1 never occur in UTF-8); such bytes are dropped
	// from the encoding, as llama.cpp and Hugging Face drop them.
	missingBytes bool
	token        func(id int) string
	merge        func(i int) string
}

func (l labels) tokenName(tokens []string, id int) string {
	if l.token != nil {
		return l.token(id)
	}
	return fmt.Sprintf("token %d %q", id, tokens[id])
}

func (l labels) mergeName(mergeList [][2]string, i int) string {
	if l.merge != nil {
		return l.merge(i)
	}
	return fmt.Sprintf("merge %d %q", i, mergeList[i][0]+" "+mergeList[i][1])
}

func build(tokens []string, mergeList [][2]string, specialList []string, names labels) (*Tokenizer, error) {
	t := &Tokenizer{bmp: bmpClasses(), vocabFile: names.vocab}
	t.fim, _ = GuessFIM(tokens, NoFIM)
	t.heapScratch.New = func() any { return new(heapScratch) }
	t.cache.init()

	ids := make(map[string]int32, len(tokens))
	t.tokenEnd = make([]int32, len(tokens))
	for id, text := range tokens {
		if prev, dup := ids[text]; dup {
			return nil, fmt.Errorf("%s: same text as %s", names.tokenName(tokens, id), names.tokenName(tokens, int(prev)))
		}
		ids[text] = int32(id)
		b, ok := alphabetDecode(text)
		if !ok {
			b = []byte(text) // only a special token may be outside the byte alphabet
		}
		t.tokenData = append(t.tokenData, b...)
		t.tokenEnd[id] = int32(len(t.tokenData))
	}
	for b := range 256 {
		id, ok := ids[string(byteRune[b])]
		if !ok && names.missingBytes {
			t.byteToken[b], t.missingBytes = noByte, true
			continue
		}
		if !ok {
			err := fmt.Errorf("no token for byte 0x%02X (%q): a byte-level vocabulary needs all 256", b, string(byteRune[b]))
			if names.vocab != "" {
				err = fmt.Errorf("%s: %w", names.vocab, err)
			}
			return nil, err
		}
		t.byteToken[b] = id
	}

	t.merges = newMerges(len(mergeList))
	for i, m := range mergeList {
		left, lok := ids[m[0]]
		right, rok := ids[m[1]]
		switch {
		case !lok:
			return nil, fmt.Errorf("%s: unknown token %q", names.mergeName(mergeList, i), m[0])
		case !rok:
			return nil, fmt.Errorf("%s: unknown token %q", names.mergeName(mergeList, i), m[1])
		}
		result, ok := ids[m[0]+m[1]]
		if !ok {
			return nil, fmt.Errorf("%s: its result %q is not a token", names.mergeName(mergeList, i), m[0]+m[1])
		}
		if _, ok := alphabetDecode(m[0] + m[1]); !ok {
			return nil, fmt.Errorf("%s: not in the byte alphabet", names.mergeName(mergeList, i))
		}
		if !t.merges.add(left, right, mergeRule{rank: int32(i), result: result}) {
			return nil, fmt.Errorf("%s: duplicate merge", names.mergeName(mergeList, i))
		}
	}

	for _, text := range specialList {
		id, ok := ids[text]
		if !ok {
			return nil, fmt.Errorf("special token %q is not in the vocabulary", text)
		}
		t.specials = append(t.specials, special{text: text, id: int(id)})
	}
	sortSpecials(t.specials)
	return t, nil
}

// sortSpecials orders specials longest first, so that nextSpecial prefers
// the longest match; equal lengths keep their order. A vocabulary may have
// hundreds of thousands of them (GGUF's CONTROL tokens, entries no merge
// makes), so this is a real sort, not an insertion sort.
func sortSpecials(s []special) {
	slices.SortStableFunc(s, func(a, b special) int { return cmp.Compare(len(b.text), len(a.text)) })
}

// VocabSize is the number of token ids, specials included.
func (t *Tokenizer) VocabSize() int { return len(t.tokenEnd) }

// SpecialID returns the id of a special token such as "<|endoftext|>".
func (t *Tokenizer) SpecialID(text string) (int, bool) {
	for _, s := range t.specials {
		if s.text == text {
			return s.id, true
		}
	}
	return 0, false
}

// Encode returns the token ids of text. Special tokens' text, such as
// "<|endoftext|>", is encoded as ordinary text, as GPT-2's encoder does.
func (t *Tokenizer) Encode(text string) []int {
	return t.EncodeTo(nil, text)
}

// EncodeTo appends the token ids of text to dst and returns the extended
// slice. Once the word cache is warm it allocates nothing if dst has room.
func (t *Tokenizer) EncodeTo(dst []int, text string) []int {
	dst, _ = t.encodeFragments(dst, text, false, true)
	return dst
}

// EncodeSpecial is Encode, except that the text of a special token becomes
// that token's id.
func (t *Tokenizer) EncodeSpecial(text string) []int {
	return t.EncodeSpecialTo(nil, text)
}

// EncodeSpecialTo is EncodeTo, except that the text of a special token
// becomes that token's id.
func (t *Tokenizer) EncodeSpecialTo(dst []int, text string) []int {
	dst, _ = t.encodeFragments(dst, text, true, true)
	return dst
}

// encodeFragments encodes text as EncodeTo (EncodeSpecialTo with all)
// does, where first says that text starts a fragment (the input's start,
// or just after a special), for SentencePiece's dummy prefix. It returns
// whether text ended a fragment in turn: whether its end is just after a
// special that the dummy prefix follows.
func (t *Tokenizer) encodeFragments(dst []int, text string, all, first bool) ([]int, bool) {
	if !all && t.always == 0 {
		return t.encodeOrdinary(dst, text, first), false
	}
	afterSpecial := t.spm == nil || !t.spm.prefixAtStartOnly
	for len(text) > 0 {
		at, s := t.nextSpecial(text, all)
		if s == nil {
			return t.encodeOrdinary(dst, text, first), false
		}
		if at > 0 {
			dst = t.encodeOrdinary(dst, text[:at], first)
		}
		dst = append(dst, s.id)
		text = text[at+len(s.text):]
		first = afterSpecial
	}
	return dst, first
}

// nextSpecial finds the earliest special token in text, the longest one
// where several start at the same place.
func (t *Tokenizer) nextSpecial(text string, all bool) (int, *special) {
	at, found := len(text), (*special)(nil)
	for i := range t.specials {
		s := &t.specials[i]
		if !all && !s.always {
			continue
		}
		if j := strings.Index(text[:min(len(text), at+len(s.text))], s.text); j >= 0 && j < at {
			at, found = j, s
		}
	}
	return at, found
}

// encodeOrdinary encodes text in which no special is matched. first says
// that text starts the input or follows a special, where SentencePiece
// adds its dummy prefix.
func (t *Tokenizer) encodeOrdinary(dst []int, text string, first bool) []int {
	switch {
	case t.spm != nil:
		return t.encodeSentencePiece(dst, text, first)
	case t.pre != nil:
		return t.encodeStages(dst, text, 0)
	}
	for i := 0; i < len(text); {
		j := pieceEnd(text, i, t.bmp)
		dst = t.encodePiece(dst, text[i:j])
		i = j
	}
	return dst
}

// encodeStages cuts chunk with the pre-tokenizer's stages from k on and
// encodes the pieces.
func (t *Tokenizer) encodeStages(dst []int, chunk string, k int) []int {
	if k == len(t.pre.stages) {
		return t.encodePiece(dst, chunk)
	}
	st := t.pre.stages[k]
	for i := 0; i < len(chunk); {
		j := st.end(chunk, i)
		dst = t.encodeStages(dst, chunk[i:j], k+1)
		i = j
	}
	return dst
}

// noByte is the symbol of a byte the vocabulary has no token for: no merge
// has it, and encodePiece drops it.
const noByte = -2

func (t *Tokenizer) encodePiece(dst []int, piece string) []int {
	if len(piece) == 1 {
		if id := t.byteToken[piece[0]]; id >= 0 {
			return append(dst, int(id))
		}
		return dst
	}
	if t.ignoreMerges {
		if id, ok := t.pieceIDs[piece]; ok {
			return append(dst, int(id))
		}
	}
	n := len(dst)
	if len(piece) > maxCachedPiece {
		return t.dropNoBytes(t.bpe(dst, piece), n)
	}
	if out, ok := t.cache.appendTo(dst, piece); ok {
		return out
	}
	dst = t.dropNoBytes(t.bpe(dst, piece), n)
	t.cache.add(piece, dst[n:])
	return dst
}

// dropNoBytes removes the bytes without a token from dst[n:].
func (t *Tokenizer) dropNoBytes(dst []int, n int) []int {
	if !t.missingBytes {
		return dst
	}
	return append(dst[:n], slices.DeleteFunc(dst[n:], func(id int) bool { return id < 0 })...)
}

// Token returns the bytes token id stands for. The slice must not be modified.
func (t *Tokenizer) Token(id int) ([]byte, error) {
	if id < 0 || id >= len(t.tokenEnd) {
		if t.vocabFile != "" {
			return nil, fmt.Errorf("%w: %d (%s has %d tokens)", ErrUnknownID, id, t.vocabFile, len(t.tokenEnd))
		}
		return nil, fmt.Errorf("%w: %d (vocabulary has %d)", ErrUnknownID, id, len(t.tokenEnd))
	}
	start := int32(0)
	if id > 0 {
		start = t.tokenEnd[id-1]
	}
	return t.tokenData[start:t.tokenEnd[id]:t.tokenEnd[id]], nil
}

// Decode returns the text of ids: the concatenation of their bytes, which
// is not valid UTF-8 if the ids were cut inside a character.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	b, err := t.AppendDecode(nil, ids)
	return string(b), err
}

// AppendDecode appends the bytes of ids to dst. For a SentencePiece
// tokenizer with a dummy prefix, the first token's leading space is the
// prefix and is dropped, so that Decode(Encode(s)) == s.
func (t *Tokenizer) AppendDecode(dst []byte, ids []int) ([]byte, error) {
	for k, id := range ids {
		b, err := t.Token(id)
		if err != nil {
			return dst, err
		}
		if k == 0 {
			b = t.trimDummyPrefix(b)
		}
		dst = append(dst, b...)
	}
	return dst, nil
}

// trimDummyPrefix drops the space SentencePiece's dummy prefix put before
// the first token's text.
func (t *Tokenizer) trimDummyPrefix(b []byte) []byte {
	if t.spm != nil && t.spm.dummyPrefix && len(b) > 0 && b[0] == ' ' {
		return b[1:]
	}
	return b
}
