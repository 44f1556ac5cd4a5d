package tokenizer

// FIMTokens are a code model's fill-in-the-middle tokens, -1 where the
// vocabulary has none: those that open the prefix, the suffix and the
// middle of a FIM prompt, its padding, and the separators of a
// repository-level prompt (before the repository's name, between files).
// The padding and both separators end generation (EndOfGeneration).
type FIMTokens struct {
	Prefix, Suffix, Middle, Pad, Repo, Sep int
}

// NoFIM is FIMTokens for a vocabulary without them.
var NoFIM = FIMTokens{-1, -1, -1, -1, -1, -1}

// fields are f's ids in the order of fimTexts.
func (f *FIMTokens) fields() [6]*int {
	return [6]*int{&f.Prefix, &f.Suffix, &f.Middle, &f.Pad, &f.Repo, &f.Sep}
}

// fimTexts are the spellings llama.cpp finds each kind by, in the order of
// FIMTokens' fields (llama-vocab.cpp, "auto-detect special tokens by
// text"): Qwen's, StarCoder's, Granite's, DeepSeek's, CodeLlama's, GLM-4.5's
// and Falcon-H1's among them.
var fimTexts = [6][]string{
	{"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"},
	{"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"},
	{"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"},
	{"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"},
	{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"},
	{"<|file_sep|>"},
}

// GuessFIM fills the fields of given that are -1 from the token texts
// (tokens indexed by id, as a GGUF file or tokenizer.json spells them), as
// llama.cpp does where tokenizer.ggml.fim_*_token_id is absent: the token
// with one of the kind's spellings, the lowest id where there are several
// (llama.cpp takes the first its hash map yields). guessed are the ids it
// found so; llama.cpp makes them control tokens.
func GuessFIM(tokens []string, given FIMTokens) (fim FIMTokens, guessed []int) {
	fim = given
	f := fim.fields()
	var want [6]bool
	need := false
	for k, p := range f {
		want[k] = *p < 0
		need = need || want[k]
	}
	if !need {
		return fim, nil
	}
	for id, text := range tokens {
		if len(text) < 5 || len(text) > 20 || (text[0] != '<' && text[0] != '[' && text[0] != 0xe2) {
			continue // no spelling is shorter or longer, or starts otherwise ('▁' is 0xe2 0x96 0x81)
		}
		for k, texts := range fimTexts {
			if !want[k] || *f[k] >= 0 {
				continue
			}
			for _, s := range texts {
				if text == s {
					*f[k] = id
					guessed = append(guessed, id)
				}
			}
		}
	}
	return fim, guessed
}

// FIM returns the tokenizer's fill-in-the-middle tokens.
func (t *Tokenizer) FIM() FIMTokens { return t.fim }
