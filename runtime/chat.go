package runtime

import (
	"github.com/goformer/goformer/model/chat"
)

// ChatTemplate returns the model's default chat template (GGUF's
// tokenizer.chat_template, or chat_template in tokenizer_config.json or
// chat_template.jinja), parsed once, with ChatSpecials as its bos_token
// and eos_token. It is chat.ErrNoTemplate for a model that ships none:
// goformer does not guess one. Render a conversation with it and
// tokenize the text with Tokenizer().EncodeChat.
func (m *Model) ChatTemplate() (*chat.Template, error) {
	m.chatOnce.Do(func() {
		src, ok := m.tok.ChatTemplate("")
		if !ok {
			m.chatErr = chat.ErrNoTemplate
			return
		}
		m.chat, m.chatErr = chat.Parse(src, m.ChatSpecials())
	})
	return m.chat, m.chatErr
}

// ChatSpecials are the texts of the model's BOS and EOS tokens, as chat
// templates get them: the tokens the tokenizer's files name
// (tokenizer_config.json's bos_token and eos_token, GGUF's ids), else
// those of the model's config. Parse another template of the model (a
// named one, Tokenizer().ChatTemplate(name), or a file) with
// chat.Parse(src, m.ChatSpecials()).
func (m *Model) ChatSpecials() chat.Specials {
	text := func(id int, known bool, fallback int) string {
		if !known {
			id = fallback
		}
		b, err := m.tok.Token(id)
		if err != nil {
			return ""
		}
		return string(b)
	}
	bos, hasBOS := m.tok.BOS()
	eos, hasEOS := m.tok.EOS()
	return chat.Specials{BOS: text(bos, hasBOS, m.cfg.BOS), EOS: text(eos, hasEOS, m.cfg.EOS)}
}
