package tokenizer

import (
	"fmt"
	"unicode/utf8"
)

// jsonSPM is a tokenizer.json of SentencePiece BPE, as transformers
// converts a SentencePiece model (Llama 2, TinyLlama, Mistral): a BPE
// model with byte fallback over "▁"-for-space pieces, with spaces replaced
// and the dummy prefix added by the normalizer (Prepend, Replace) or by a
// Metaspace pre-tokenizer that does not split.
type jsonSPM struct {
	// prefix is when "▁" goes before a text: "always" (at the start and
	// after each added token, as SentencePiece and llama.cpp do), "first"
	// (at the start of the input only) or "never".
	prefix string
}

// jsonSentencePiece recognises a SentencePiece BPE tokenizer.json, or
// returns nil for one of another kind. A file with some but not all of the
// marks of one, or with a normalizer, pre-tokenizer or decoder goformer
// does not implement, is an error naming the key.
func jsonSentencePiece(j *tokenizerJSON) (*jsonSPM, error) {
	norm, pre := j.Normalizer, j.PreTokenizer
	metaspace := pre != nil && pre.Type == "Metaspace"
	if norm == nil && !metaspace && !j.Model.ByteFallback {
		return nil, nil
	}
	sp := &jsonSPM{}
	switch {
	case norm != nil && pre == nil:
		steps := []jsonComponent{*norm}
		if norm.Type == "Sequence" {
			steps = norm.Normalizers
		}
		var err error
		if sp.prefix, err = spmNormalizer(steps); err != nil {
			return nil, err
		}
	case norm == nil && metaspace:
		if err := spmMetaspace(pre, sp); err != nil {
			return nil, err
		}
	case norm != nil:
		return nil, fmt.Errorf("normalizer type %q with pre_tokenizer type %q is not implemented", norm.Type, pre.Type)
	case pre != nil:
		return nil, fmt.Errorf("model.byte_fallback true with pre_tokenizer type %q is not implemented (goformer reads SentencePiece BPE: a Prepend and Replace normalizer, or a Metaspace pre-tokenizer)", pre.Type)
	default:
		return nil, fmt.Errorf("model.byte_fallback true without a normalizer or pre-tokenizer that writes spaces as \"▁\" is not implemented")
	}
	if !j.Model.ByteFallback {
		return nil, fmt.Errorf("model.byte_fallback false for a SentencePiece BPE is not implemented (characters outside the vocabulary would be unk)")
	}
	if err := spmDecoder("decoder", j.Decoder); err != nil {
		return nil, err
	}
	return sp, nil
}

// spmNormalizer reads the steps of a SentencePiece normalizer: an optional
// Prepend("▁"), then Replace(" ", "▁").
func spmNormalizer(steps []jsonComponent) (prefix string, err error) {
	prefix = "never"
	for i, c := range steps {
		key := fmt.Sprintf("normalizer[%d]", i)
		switch {
		case c.Type == "Prepend" && i == 0 && c.Prepend != nil && *c.Prepend == spaceMark:
			prefix = "always"
		case c.Type == "Replace" && i == len(steps)-1 && c.Pattern != nil && c.Pattern.String != nil &&
			*c.Pattern.String == " " && c.Content != nil && *c.Content == spaceMark:
		default:
			return "", fmt.Errorf("%s type %q is not implemented (goformer reads Prepend \"▁\" then Replace \" \" with \"▁\")", key, c.Type)
		}
	}
	if n := len(steps); n == 0 || steps[n-1].Type != "Replace" {
		return "", fmt.Errorf("normalizer: no Replace of \" \" with \"▁\": not a SentencePiece normalizer goformer reads")
	}
	return prefix, nil
}

// spmMetaspace reads a Metaspace pre-tokenizer that writes spaces as "▁"
// and does not split the text at them.
func spmMetaspace(c *jsonComponent, sp *jsonSPM) error {
	const key = "pre_tokenizer"
	switch {
	case c.Replacement == nil || *c.Replacement != spaceMark:
		return fmt.Errorf("%s Metaspace replacement other than \"▁\" is not implemented", key)
	case c.Split == nil || *c.Split:
		return fmt.Errorf("%s Metaspace split true (pieces cut at every space) is not implemented (goformer reads split false, SentencePiece's way)", key)
	}
	switch {
	case c.PrependScheme != nil:
		sp.prefix = *c.PrependScheme
	case c.AddPrefixSpace != nil && !*c.AddPrefixSpace:
		sp.prefix = "never"
	default:
		sp.prefix = "always"
	}
	if sp.prefix != "always" && sp.prefix != "first" && sp.prefix != "never" {
		return fmt.Errorf("%s Metaspace prepend_scheme %q: want always, first or never", key, sp.prefix)
	}
	return nil
}

// spmDecoder accepts the decoders of a SentencePiece tokenizer.json, which
// goformer's SentencePiece decoding does: "▁" to space, byte fallback,
// fuse, strip the dummy prefix.
func spmDecoder(key string, c *jsonComponent) error {
	if c == nil {
		return nil
	}
	switch c.Type {
	case "Sequence":
		for i := range c.Decoders {
			if err := spmDecoder(fmt.Sprintf("%s.decoders[%d]", key, i), &c.Decoders[i]); err != nil {
				return err
			}
		}
		return nil
	case "Replace", "ByteFallback", "Fuse", "Strip", "Metaspace":
		return nil
	}
	return fmt.Errorf("%s type %q is not implemented for a SentencePiece BPE", key, c.Type)
}

// build makes the SentencePiece tokenizer: the merges' ranks become the
// scores of the pieces they make (the first merge's the best), which
// SentencePiece joins best first as transformers' BPE applies them, for a
// file whose merges list every split of each piece (as transformers'
// converter writes them). A piece of several characters that no merge
// makes is never joined. <0xNN> are the byte tokens, the added tokens
// specials.
func (sp *jsonSPM) build(tokens []string, merges [][2]string, specials []string, unk *string) (*Tokenizer, error) {
	ids := make(map[string]int, len(tokens))
	for id, tok := range tokens {
		if _, dup := ids[tok]; !dup {
			ids[tok] = id
		}
	}
	if unk == nil {
		return nil, fmt.Errorf("model.unk_token is missing: a SentencePiece BPE needs one")
	}
	unknown, ok := ids[*unk]
	if !ok {
		return nil, fmt.Errorf("model.unk_token %q is not a token", *unk)
	}
	made := make([]bool, len(tokens))
	scores := make([]float32, len(tokens))
	for i, m := range merges {
		for _, part := range m {
			if _, ok := ids[part]; !ok {
				return nil, fmt.Errorf("model.merges[%d] %q: %q is not a token", i, m[0]+" "+m[1], part)
			}
		}
		id, ok := ids[m[0]+m[1]]
		if !ok {
			return nil, fmt.Errorf("model.merges[%d] %q: its result %q is not a token", i, m[0]+" "+m[1], m[0]+m[1])
		}
		if !made[id] {
			made[id], scores[id] = true, -float32(i)
		}
	}
	types := make([]TokenType, len(tokens))
	special := make(map[string]bool, len(specials))
	for _, s := range specials {
		special[s] = true
	}
	var unjoinable []string
	for id, tok := range tokens {
		_, isByte := parseByteToken(tok)
		switch {
		case id == unknown:
			types[id] = TokenUnknown
		case special[tok]:
			types[id] = TokenControl
		case isByte:
			types[id] = TokenByte
		default:
			types[id] = TokenNormal
			if !made[id] && utf8.RuneCountInString(tok) > 1 {
				unjoinable = append(unjoinable, tok)
			}
		}
	}
	t, err := NewSentencePiece(tokens, scores, types, unknown, sp.prefix != "never", Options{Specials: specials})
	if err != nil {
		return nil, err
	}
	for _, tok := range unjoinable {
		delete(t.spm.pieces, tok)
	}
	t.spm.prefixAtStartOnly = sp.prefix == "first"
	return t, nil
}
