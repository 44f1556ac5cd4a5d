package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
)

// The files beside tokenizer.json (or vocab.json) that say how a Hugging
// Face model uses its tokenizer.
const (
	// ConfigFile holds add_bos_token, add_eos_token, the bos and eos
	// tokens and, in most repositories, the chat template.
	ConfigFile = "tokenizer_config.json"
	// ChatTemplateFile is where newer transformers versions save the chat
	// template instead; it wins over ConfigFile's.
	ChatTemplateFile = "chat_template.jinja"
)

// hfConfig is the part of a tokenizer_config.json goformer reads.
type hfConfig struct {
	AddBOS       *bool           `json:"add_bos_token"`
	AddEOS       *bool           `json:"add_eos_token"`
	BOS          json.RawMessage `json:"bos_token"`
	EOS          json.RawMessage `json:"eos_token"`
	ChatTemplate json.RawMessage `json:"chat_template"`
}

// addedTokenText reads a special token as tokenizer_config.json writes
// it: a string, an AddedToken object ({"content": "<s>", …}) or null (none).
func addedTokenText(raw json.RawMessage) (text string, ok bool, err error) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return "", false, nil
	}
	if json.Unmarshal(raw, &text) == nil {
		return text, true, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Content != nil {
		return *obj.Content, true, nil
	}
	return "", false, fmt.Errorf("is %s, want a string or an object with a content string", raw)
}

// chatTemplates reads chat_template: one source, or a list of named ones
// ([{"name": "default", "template": "…"}, {"name": "tool_use", …}]).
func chatTemplates(raw json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var src string
	if json.Unmarshal(raw, &src) == nil {
		return map[string]string{DefaultChatTemplate: src}, nil
	}
	var list []struct {
		Name     *string `json:"name"`
		Template *string `json:"template"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("is neither a string nor a list of {name, template} objects")
	}
	out := make(map[string]string, len(list))
	for i, e := range list {
		switch {
		case e.Name == nil || e.Template == nil:
			return nil, fmt.Errorf("[%d] lacks its name or template", i)
		case out[*e.Name] != "":
			return nil, fmt.Errorf("[%d]: a second template named %q", i, *e.Name)
		}
		out[*e.Name] = *e.Template
	}
	return out, nil
}

// applyConfig reads ConfigFile and ChatTemplateFile, where present, into
// t: the bos and eos tokens (which must be in the vocabulary),
// add_bos_token and add_eos_token (over what tokenizer.json's
// post-processor says), and the chat templates. read reads a file of the
// checkpoint, path names it in errors, which name the key too.
func (t *Tokenizer) applyConfig(read func(name string) ([]byte, error), path func(name string) string) error {
	data, err := read(ConfigFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		data = nil
	case err != nil:
		return fmt.Errorf("tokenizer: %w", err)
	}
	if data != nil {
		if err := t.parseConfig(path(ConfigFile), data); err != nil {
			return err
		}
	}
	src, err := read(ChatTemplateFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("tokenizer: %w", err)
	default:
		t.chatTemplates = withDefault(t.chatTemplates, string(src))
	}
	return nil
}

func withDefault(m map[string]string, src string) map[string]string {
	out := map[string]string{DefaultChatTemplate: src}
	for k, v := range m {
		if k != DefaultChatTemplate {
			out[k] = v
		}
	}
	return out
}

func (t *Tokenizer) parseConfig(name string, data []byte) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("tokenizer: %s: "+format, append([]any{name}, args...)...)
	}
	var c hfConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return fail("%v", err)
	}
	for _, s := range []struct {
		key      string
		raw      json.RawMessage
		id       *int
		has, add *bool
		addKey   string
		want     *bool
	}{
		{"bos_token", c.BOS, &t.bos, &t.hasBOS, &t.addBOS, "add_bos_token", c.AddBOS},
		{"eos_token", c.EOS, &t.eos, &t.hasEOS, &t.addEOS, "add_eos_token", c.AddEOS},
	} {
		text, ok, err := addedTokenText(s.raw)
		if err != nil {
			return fail("%s %v", s.key, err)
		}
		if ok {
			id, found := t.idOf(text)
			if !found {
				return fail("%s %q is not a token of the vocabulary", s.key, text)
			}
			*s.id, *s.has = id, true
		}
		if s.want != nil {
			if *s.want && !*s.has {
				return fail("%s is true, but there is no %s", s.addKey, s.key)
			}
			*s.add = *s.want
		}
	}
	templates, err := chatTemplates(c.ChatTemplate)
	if err != nil {
		return fail("chat_template %v", err)
	}
	if templates != nil {
		t.chatTemplates = templates
	}
	return nil
}

// idOf finds the token whose text is text: a special, or any vocabulary
// entry.
func (t *Tokenizer) idOf(text string) (int, bool) {
	if id, ok := t.SpecialID(text); ok {
		return id, true
	}
	for id := range t.tokenEnd {
		if b, _ := t.Token(id); string(b) == text {
			return id, true
		}
	}
	return 0, false
}
