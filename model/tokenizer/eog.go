package tokenizer

import "slices"

// endOfGenerationTexts are the tokens llama.cpp stops generation at
// whatever the metadata says (llama-vocab.cpp, which finds them by their
// text, llama.cpp issue 9606): end of turn, of message, of text, in the
// spellings of the families that use them. The fill-in-the-middle padding
// and separators end generation too, one token of each kind (FIM).
var endOfGenerationTexts = []string{
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
	"<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
	"<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
	"<｜end▁of▁sentence｜>", "[e~[",
}

// IsEndOfGenerationText reports whether a token of this text ends
// generation in llama.cpp. llama.cpp also makes such a token a control
// token where its vocabulary says otherwise, so that ordinary text never
// matches it; the GGUF loader does the same.
func IsEndOfGenerationText(text string) bool {
	return slices.Contains(endOfGenerationTexts, text)
}

// EndOfGeneration returns the ids that end generation as llama.cpp
// decides them: EOS first where the tokenizer knows it, then, in id order,
// every token whose text IsEndOfGenerationText and the fill-in-the-middle
// padding and separators (FIM's Pad, Repo and Sep). As llama.cpp does,
// <|end|> is left out of a vocabulary that also has <|return|> and
// <|call|> (gpt-oss) or <|calls|> and <|flush|> (Solar Open), where it
// ends a message, not the generation; and </s> out of one with
// <|tool_response> (Gemma 4, PaddleOCR).
func (t *Tokenizer) EndOfGeneration() []int {
	var ids []int
	if t.hasEOS {
		ids = append(ids, t.eos)
	}
	found := map[string]int{}
	for _, id := range []int{t.fim.Pad, t.fim.Repo, t.fim.Sep} {
		if id >= 0 && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for id := range t.VocabSize() {
		b, err := t.Token(id)
		if err != nil || len(b) < 3 || len(b) > 32 {
			continue
		}
		if s := string(b); IsEndOfGenerationText(s) {
			found[s] = id
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	_, ret := found["<|return|>"]
	_, call := found["<|call|>"]
	_, calls := found["<|calls|>"]
	_, flush := found["<|flush|>"]
	if end, ok := found["<|end|>"]; ok && ((ret && call) || (calls && flush)) && !(t.hasEOS && t.eos == end) {
		ids = slices.DeleteFunc(ids, func(id int) bool { return id == end })
	}
	_, toolResponse := found["<|tool_response>"]
	if s, ok := found["</s>"]; ok && toolResponse && !(t.hasEOS && t.eos == s) {
		ids = slices.DeleteFunc(ids, func(id int) bool { return id == s })
	}
	if len(ids) > 0 && t.hasEOS {
		slices.Sort(ids[1:])
	} else {
		slices.Sort(ids)
	}
	return ids
}
