package model

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goformer/goformer/model/gguf"
	"github.com/goformer/goformer/model/tokenizer"
)

// ErrUnsupported marks a GGUF file of an architecture, tensor type or
// tokenizer goformer does not implement yet.
var ErrUnsupported = errors.New("not supported")

// The GGUF metadata keys LoadGGUF reads, besides the gpt2.* shape keys.
const (
	ggufArchKey      = "general.architecture"
	ggufTokModelKey  = "tokenizer.ggml.model"
	ggufTokPreKey    = "tokenizer.ggml.pre"
	ggufTokensKey    = "tokenizer.ggml.tokens"
	ggufMergesKey    = "tokenizer.ggml.merges"
	ggufTokenTypeKey = "tokenizer.ggml.token_type"
	ggufBOSKey       = "tokenizer.ggml.bos_token_id"
	ggufEOSKey       = "tokenizer.ggml.eos_token_id"
	ggufUnknownKey   = "tokenizer.ggml.unknown_token_id"
	ggufScoresKey    = "tokenizer.ggml.scores"
	ggufAddBOSKey    = "tokenizer.ggml.add_bos_token"
	ggufAddEOSKey    = "tokenizer.ggml.add_eos_token"
	ggufAddPrefixKey = "tokenizer.ggml.add_space_prefix"
	// ggufChatTemplateKey is the default chat template; llama.cpp's
	// converter writes the others as ggufChatTemplateKey + "." + name.
	ggufChatTemplateKey = "tokenizer.chat_template"
)

// llama.cpp's token types that are matched as literal text rather than
// produced by BPE.
const (
	ggufTokenControl     = 3
	ggufTokenUserDefined = 4
)

// LoadGGUF loads a llama.cpp GGUF file of architecture gpt2 with F32, F16 or
// Q8_0 tensors, and the tokenizer from its metadata. The file stays mapped:
// F32 tensors are used in place, F16 ones are widened to fp32, and Q8_0
// matrices become int8 quant.Matrix values without passing through fp32.
// Close the Checkpoint to release the mapping. Every error names the file
// and the key or tensor at fault.
func LoadGGUF(path string) (*Checkpoint, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	ck, err := fromGGUF(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ck.release = f.Close
	return ck, nil
}

func fromGGUF(f *gguf.File) (*Checkpoint, error) {
	arch, err := f.String(ggufArchKey)
	if err != nil {
		return nil, err
	}
	if arch != "gpt2" && arch != "llama" && arch != "qwen2" {
		return nil, fmt.Errorf("%w: %s %q (goformer reads gpt2, llama and qwen2 GGUF files)", ErrUnsupported, ggufArchKey, arch)
	}
	tok, nTokens, bos, eos, err := ggufTokenizer(f)
	if err != nil {
		return nil, err
	}
	var cfg Config
	var w Weights
	if arch == "gpt2" {
		if cfg, err = ggufConfig(f, nTokens, bos, eos); err != nil {
			return nil, err
		}
		w, err = ggufGPT2Weights(&cfg, f)
	} else {
		if cfg, err = ggufLlamaConfig(f, arch, nTokens, bos, eos); err != nil {
			return nil, err
		}
		if err := ggufEndIDs(f, &cfg); err != nil {
			return nil, err
		}
		w, err = ggufLlamaWeights(&cfg, f, arch)
	}
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Config: cfg, Weights: w, Tokenizer: tok}, nil
}

// ggufEndIDs adds the end-of-turn and end-of-message tokens llama.cpp
// stops at (tokenizer.ggml.eot_token_id, Llama 3's <|eot_id|>, and
// eom_token_id) to the end-of-generation ids.
func ggufEndIDs(f *gguf.File, c *Config) error {
	for _, key := range []string{"tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"} {
		if _, ok := f.Lookup(key); !ok {
			continue
		}
		id, err := f.Int(key)
		if err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
		if id < 0 || id >= int64(c.VocabSize) {
			return fmt.Errorf("tokenizer: %w: %s %d is outside the vocabulary of %d tokens", ErrInvalidConfig, key, id, c.VocabSize)
		}
		if !slices.Contains(c.EndIDs, int(id)) {
			c.EndIDs = append(c.EndIDs, int(id))
		}
	}
	return nil
}

// ggufGPT2Weights loads a gpt2 file's tensors and splits each block's fused
// attn_qkv into the query, key and value matrices it is.
func ggufGPT2Weights(c *Config, f *gguf.File) (Weights, error) {
	w := Weights{Layers: make([]Layer, c.NLayer)}
	qkv, qkvBias := make([]*Matrix, c.NLayer), make([][]float32, c.NLayer)
	if err := loadGGUFTensors(c, f, &w, ggufGPT2Layout(c, &w, qkv, qkvBias)); err != nil {
		return Weights{}, err
	}
	d := c.NEmbd
	for i := range w.Layers {
		l, b := &w.Layers[i], qkvBias[i]
		l.Q, l.K, l.V = qkv[i].RowRange(0, d), qkv[i].RowRange(d, 2*d), qkv[i].RowRange(2*d, 3*d)
		l.QBias, l.KBias, l.VBias = b[:d:d], b[d:2*d:2*d], b[2*d:]
	}
	return w, nil
}

// ggufConfig reads the gpt2.* keys. GPT-2 in GGUF has no activation key:
// llama.cpp's gpt2 graph uses the tanh GELU.
func ggufConfig(f *gguf.File, vocab, bos, eos int) (Config, error) {
	c := Config{ModelType: "gpt2", Arch: GPT2Arch, VocabSize: vocab, BOS: bos, EOS: eos, Activation: "gelu_new"}
	if err := ggufDims(f, "gpt2", &c); err != nil {
		return Config{}, err
	}
	if c.NEmbd%c.NHead != 0 {
		return Config{}, fmt.Errorf("%w: gpt2.embedding_length %d is not divisible by gpt2.attention.head_count %d", ErrInvalidConfig, c.NEmbd, c.NHead)
	}
	if err := checkMatrixSizes(&c); err != nil {
		return Config{}, err
	}
	eps, err := ggufEps(f, "gpt2.attention.layer_norm_epsilon")
	if err != nil {
		return Config{}, err
	}
	c.LayerNormEps = eps
	return c, nil
}

// ggufDims reads the shape keys every architecture has.
func ggufDims(f *gguf.File, arch string, c *Config) error {
	for _, d := range []struct {
		key string
		dst *int
		max int
	}{
		{arch + ".context_length", &c.NPositions, maxDim},
		{arch + ".embedding_length", &c.NEmbd, maxDim},
		{arch + ".feed_forward_length", &c.NInner, maxDim},
		{arch + ".block_count", &c.NLayer, maxLayers},
		{arch + ".attention.head_count", &c.NHead, maxDim},
	} {
		v, err := f.Int(d.key)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
		if v <= 0 || v > int64(d.max) {
			return fmt.Errorf("%w: %s %d is outside 1..%d", ErrInvalidConfig, d.key, v, d.max)
		}
		*d.dst = int(v)
	}
	return nil
}

// ggufEps reads a norm epsilon.
func ggufEps(f *gguf.File, key string) (float32, error) {
	eps, err := f.Float(key)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return checkEps(key, eps)
}

// ggufOptionalInt reads an integer key that may be absent (ok false).
func ggufOptionalInt(f *gguf.File, key string, max int) (v int, ok bool, err error) {
	if _, present := f.Lookup(key); !present {
		return 0, false, nil
	}
	n, err := f.Int(key)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if n <= 0 || n > int64(max) {
		return 0, false, fmt.Errorf("%w: %s %d is outside 1..%d", ErrInvalidConfig, key, n, max)
	}
	return int(n), true, nil
}

// ggufTokenizer builds the tokenizer from tokenizer.ggml.*: byte-level BPE
// (model gpt2, with the pre-tokenizer tokenizer.ggml.pre names) from the
// same text form as vocab.json and merges.txt, or SentencePiece BPE (model
// llama) from tokens, scores and types. Tokens typed CONTROL are the
// specials; USER_DEFINED ones are matched in ordinary text too, as llama.cpp
// does.
func ggufTokenizer(f *gguf.File) (tok *tokenizer.Tokenizer, n, bos, eos int, err error) {
	fail := func(err error) (*tokenizer.Tokenizer, int, int, int, error) {
		return nil, 0, 0, 0, fmt.Errorf("tokenizer: %w", err)
	}
	model, err := f.String(ggufTokModelKey)
	if err != nil {
		return fail(err)
	}
	if model != "gpt2" && model != "llama" {
		return fail(fmt.Errorf("%w: %s %q (goformer reads gpt2, byte-level BPE, and llama, SentencePiece BPE)", ErrUnsupported, ggufTokModelKey, model))
	}
	// A byte-level file without a pre-tokenizer is split as llama.cpp
	// splits it, with its "default" one, and the loader says so: llama.cpp
	// warns that generation quality will be degraded. SentencePiece has no
	// pre-tokenizer.
	pre, warning := "", ""
	if model == "gpt2" {
		if _, ok := f.Lookup(ggufTokPreKey); !ok {
			pre = "default"
			warning = fmt.Sprintf("%s is missing: splitting text with llama.cpp's \"default\" pre-tokenizer, as llama.cpp does; the model's own may differ (regenerate the GGUF file with a current converter)", ggufTokPreKey)
		} else if pre, err = f.String(ggufTokPreKey); err != nil {
			return fail(err)
		}
		if !slices.Contains(tokenizer.PreTokenizers(), pre) {
			return fail(fmt.Errorf("%w: %s %q (goformer implements %s)", ErrUnsupported, ggufTokPreKey, pre, strings.Join(tokenizer.PreTokenizers(), ", ")))
		}
	}
	tokens, err := f.Strings(ggufTokensKey)
	if err != nil {
		return fail(err)
	}
	if len(tokens) == 0 || len(tokens) > maxDim {
		return fail(fmt.Errorf("%w: %s has %d tokens, want 1..%d", ErrInvalidConfig, ggufTokensKey, len(tokens), maxDim))
	}

	// llama.cpp's defaults where the keys are absent.
	bos, eos = gpt2EndOfText, gpt2EndOfText
	llama3 := pre == "llama-bpe" || pre == "llama3" || pre == "llama-v3"
	addBOS := llama3
	unknown := 0
	if model == "llama" {
		bos, eos, addBOS = 1, 2, true
	}
	for _, id := range []struct {
		key string
		dst *int
	}{{ggufBOSKey, &bos}, {ggufEOSKey, &eos}, {ggufUnknownKey, &unknown}} {
		v := int64(*id.dst)
		if _, ok := f.Lookup(id.key); ok {
			if v, err = f.Int(id.key); err != nil {
				return fail(err)
			}
		}
		if v < 0 || v >= int64(len(tokens)) {
			return fail(fmt.Errorf("%w: %s %d is outside the vocabulary of %d tokens", ErrInvalidConfig, id.key, v, len(tokens)))
		}
		*id.dst = int(v)
	}
	// llama.cpp gives Llama 3's names ignore_merges, as its tokenizer.json has.
	opts := tokenizer.Options{PreTokenizer: pre, IgnoreMerges: llama3, AddBOS: addBOS, BOS: bos, EOS: eos, Warning: warning}
	for _, b := range []struct {
		key string
		dst *bool
	}{{ggufAddBOSKey, &opts.AddBOS}, {ggufAddEOSKey, &opts.AddEOS}} {
		if _, ok := f.Lookup(b.key); ok {
			if *b.dst, err = f.Bool(b.key); err != nil {
				return fail(err)
			}
		}
	}

	if opts.ChatTemplates, err = ggufChatTemplates(f); err != nil {
		return fail(err)
	}
	fim, err := ggufFIM(f, len(tokens))
	if err != nil {
		return fail(err)
	}
	fim, guessed := tokenizer.GuessFIM(tokens, fim)
	opts.FIM = &fim

	var types []int64
	if _, ok := f.Lookup(ggufTokenTypeKey); ok {
		if types, err = f.Ints(ggufTokenTypeKey); err != nil {
			return fail(err)
		}
		if len(types) != len(tokens) {
			return fail(fmt.Errorf("%w: %s has %d entries for %d tokens", ErrInvalidConfig, ggufTokenTypeKey, len(types), len(tokens)))
		}
		// llama.cpp makes an end-of-generation token that is typed
		// USER_DEFINED (Phi-3's </s>) a control token: ordinary text does
		// not match it.
		for id, t := range types {
			if t == ggufTokenUserDefined && tokenizer.IsEndOfGenerationText(tokens[id]) {
				types[id] = ggufTokenControl
			}
		}
		// So does it with the fill-in-the-middle tokens it finds by their
		// text (DeepSeek Coder's <｜fim▁begin｜>…).
		for _, id := range guessed {
			if types[id] == ggufTokenUserDefined {
				types[id] = ggufTokenControl
			}
		}
	}
	if model == "llama" {
		tok, err = ggufSentencePiece(f, tokens, types, unknown, opts)
	} else {
		tok, err = ggufBPE(f, tokens, types, opts)
	}
	if err != nil {
		return fail(err)
	}
	return tok, len(tokens), bos, eos, nil
}

// ggufFIMKeys are the keys of the fill-in-the-middle token ids, in the
// order llama.cpp reads them: the older prefix, suffix and middle keys come
// last, so where a file has both spellings they win, as in llama.cpp.
var ggufFIMKeys = []struct {
	key string
	dst func(*tokenizer.FIMTokens) *int
}{
	{"tokenizer.ggml.fim_pre_token_id", func(f *tokenizer.FIMTokens) *int { return &f.Prefix }},
	{"tokenizer.ggml.fim_suf_token_id", func(f *tokenizer.FIMTokens) *int { return &f.Suffix }},
	{"tokenizer.ggml.fim_mid_token_id", func(f *tokenizer.FIMTokens) *int { return &f.Middle }},
	{"tokenizer.ggml.fim_pad_token_id", func(f *tokenizer.FIMTokens) *int { return &f.Pad }},
	{"tokenizer.ggml.fim_rep_token_id", func(f *tokenizer.FIMTokens) *int { return &f.Repo }},
	{"tokenizer.ggml.fim_sep_token_id", func(f *tokenizer.FIMTokens) *int { return &f.Sep }},
	{"tokenizer.ggml.prefix_token_id", func(f *tokenizer.FIMTokens) *int { return &f.Prefix }},
	{"tokenizer.ggml.suffix_token_id", func(f *tokenizer.FIMTokens) *int { return &f.Suffix }},
	{"tokenizer.ggml.middle_token_id", func(f *tokenizer.FIMTokens) *int { return &f.Middle }},
}

// ggufFIM reads the fill-in-the-middle token ids a file names, -1 for the
// others. An id outside the vocabulary of n tokens is an error (llama.cpp
// warns and ignores it).
func ggufFIM(f *gguf.File, n int) (tokenizer.FIMTokens, error) {
	fim := tokenizer.NoFIM
	for _, k := range ggufFIMKeys {
		if _, ok := f.Lookup(k.key); !ok {
			continue
		}
		v, err := f.Int(k.key)
		if err != nil {
			return fim, err
		}
		if v < 0 || v >= int64(n) {
			return fim, fmt.Errorf("%w: %s %d is outside the vocabulary of %d tokens", ErrInvalidConfig, k.key, v, n)
		}
		*k.dst(&fim) = int(v)
	}
	return fim, nil
}

// ggufChatTemplates reads tokenizer.chat_template and the named templates
// tokenizer.chat_template.NAME, or returns nil when there are none.
func ggufChatTemplates(f *gguf.File) (map[string]string, error) {
	var out map[string]string
	for _, kv := range f.KVs {
		name, ok := strings.CutPrefix(kv.Key, ggufChatTemplateKey)
		switch {
		case !ok:
			continue
		case name == "":
			name = tokenizer.DefaultChatTemplate
		case strings.HasPrefix(name, ".") && len(name) > 1:
			name = name[1:]
		default:
			continue // tokenizer.chat_templates, the list of names
		}
		src, err := f.String(kv.Key)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = src
	}
	return out, nil
}

// ggufBPE builds a byte-level BPE tokenizer.
func ggufBPE(f *gguf.File, tokens []string, types []int64, opts tokenizer.Options) (*tokenizer.Tokenizer, error) {
	mergeText, err := f.Strings(ggufMergesKey)
	if err != nil {
		return nil, err
	}
	merges := make([][2]string, len(mergeText))
	for i, m := range mergeText {
		left, right, ok := strings.Cut(m, " ")
		if !ok || left == "" || right == "" || strings.Contains(right, " ") {
			return nil, fmt.Errorf("%w: %s[%d] %q is not two tokens separated by one space", ErrInvalidConfig, ggufMergesKey, i, m)
		}
		merges[i] = [2]string{left, right}
	}
	if types == nil {
		opts.Specials = []string{tokens[opts.EOS]}
		if opts.BOS != opts.EOS {
			opts.Specials = append(opts.Specials, tokens[opts.BOS])
		}
	}
	for id, t := range types {
		switch t {
		case ggufTokenControl:
			opts.Specials = append(opts.Specials, tokens[id])
		case ggufTokenUserDefined:
			opts.UserDefined = append(opts.UserDefined, tokens[id])
		}
	}
	tok, err := tokenizer.NewBPE(tokens, merges, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ggufTokensKey, err)
	}
	return tok, nil
}

// ggufScores reads tokenizer.ggml.scores, one for each of n tokens.
func ggufScores(f *gguf.File, n int) ([]float32, error) {
	v, ok := f.Lookup(ggufScoresKey)
	if !ok {
		return nil, fmt.Errorf("%w: %q", gguf.ErrMissingKey, ggufScoresKey)
	}
	a, isArray := v.Array()
	if !isArray || (a.Elem != gguf.Float32 && a.Elem != gguf.Float64) {
		return nil, fmt.Errorf("%w: %q is not an array of floats", gguf.ErrKeyType, ggufScoresKey)
	}
	if a.Len() != n {
		return nil, fmt.Errorf("%w: %s has %d entries for %d tokens", ErrInvalidConfig, ggufScoresKey, a.Len(), n)
	}
	scores := make([]float32, n)
	for i := range scores {
		s, _ := a.Index(i).Float()
		scores[i] = float32(s)
	}
	return scores, nil
}

// ggufSentencePiece builds a SentencePiece BPE tokenizer. llama.cpp adds the
// dummy prefix unless tokenizer.ggml.add_space_prefix says otherwise.
func ggufSentencePiece(f *gguf.File, tokens []string, types []int64, unknown int, opts tokenizer.Options) (*tokenizer.Tokenizer, error) {
	if types == nil {
		return nil, fmt.Errorf("%w: %s is missing (a SentencePiece vocabulary needs its token types)", gguf.ErrMissingKey, ggufTokenTypeKey)
	}
	scores, err := ggufScores(f, len(tokens))
	if err != nil {
		return nil, err
	}
	tt := make([]tokenizer.TokenType, len(types))
	for i, t := range types {
		tt[i] = tokenizer.TokenType(t)
	}
	dummyPrefix := true
	if _, ok := f.Lookup(ggufAddPrefixKey); ok {
		if dummyPrefix, err = f.Bool(ggufAddPrefixKey); err != nil {
			return nil, err
		}
	}
	tok, serr := tokenizer.NewSentencePiece(tokens, scores, tt, unknown, dummyPrefix, opts)
	if serr != nil {
		return nil, fmt.Errorf("%s: %w", ggufTokensKey, serr)
	}
	return tok, nil
}

// LoadGGUFTokenizer reads only the tokenizer of the GGUF file at path, for
// tools that tokenize without running the model.
func LoadGGUFTokenizer(path string) (*tokenizer.Tokenizer, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tok, _, _, _, err := ggufTokenizer(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tok, nil
}
