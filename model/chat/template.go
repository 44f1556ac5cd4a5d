package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// ErrNoTemplate is returned when a model ships no chat template: goformer
// does not guess one.
var ErrNoTemplate = errors.New("the model has no chat template")

// ErrRejected is returned when the template refuses the conversation: it
// called raise_exception (roles that do not alternate, a system message the
// model does not take). The error's text is the template's message.
var ErrRejected = errors.New("the chat template rejected the conversation")

// Message is one turn of a conversation.
type Message struct {
	// Role is "system", "user" or "assistant" (or another role the
	// template knows, such as "tool").
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Specials are the texts of the special tokens a template may write.
type Specials struct {
	BOS, EOS string // bos_token, eos_token
}

// Options are the inputs of a rendering besides the messages.
type Options struct {
	// AddGenerationPrompt ends the text with the header of an assistant
	// turn, for the model to write the reply.
	AddGenerationPrompt bool
	// Tools, when not nil, is the tools variable: a JSON array of tool
	// definitions, as an OpenAI request's "tools" field holds them. Its
	// objects keep their key order, as Python's json.loads keeps it.
	Tools json.RawMessage
	// Vars are further variables the template may read (enable_thinking,
	// date_string, …): JSON values, in json.RawMessage or as Go values of
	// the kinds encoding/json decodes into.
	Vars map[string]any
	// Now is the time strftime_now formats (Llama 3.2's date line); the
	// zero Time is the time of the call.
	Now time.Time
	// FoldSystem makes a template that ignores or refuses system messages
	// see the first one as the start of the next message ("system\nuser"),
	// as llama.cpp does for such templates (Gemma's, Mistral's v0.1). A
	// template that takes system messages is not affected.
	FoldSystem bool
}

// Template is a parsed chat template. It is immutable and safe for
// concurrent use.
type Template struct {
	src      string
	prog     *jinja.Template
	specials Specials
	system   bool // the template renders a system message's content
}

// Parse parses a template's source. A source the engine cannot parse is an
// error naming the line; ErrNoTemplate for an empty source.
func Parse(src string, specials Specials) (*Template, error) {
	if strings.TrimSpace(src) == "" {
		return nil, ErrNoTemplate
	}
	prog, err := compile(jinja2Whitespace(src))
	if err != nil {
		return nil, fmt.Errorf("chat template: %w", err)
	}
	t := &Template{src: src, prog: prog, specials: specials}
	t.system = t.rendersSystem()
	return t, nil
}

// Source is the template's Jinja source.
func (t *Template) Source() string { return t.src }

// SupportsSystem reports whether the template renders the content of a
// system message (rather than dropping it or raising an exception), found
// by rendering a probe conversation as llama.cpp does.
func (t *Template) SupportsSystem() bool { return t.system }

// systemProbe is a text no template writes by itself.
const systemProbe = "goformer system probe 7f3a"

func (t *Template) rendersSystem() bool {
	msgs := []Message{{Role: "system", Content: systemProbe}, {Role: "user", Content: "User message"}}
	text, err := t.render(msgs, Options{AddGenerationPrompt: true})
	return err == nil && strings.Contains(text, systemProbe)
}

// Render renders msgs, ending with the header of the assistant's reply if
// addGenerationPrompt.
func (t *Template) Render(msgs []Message, addGenerationPrompt bool) (string, error) {
	return t.RenderOptions(msgs, Options{AddGenerationPrompt: addGenerationPrompt})
}

// RenderOptions renders msgs with opts. An exception the template raises
// is ErrRejected; any other failure (an undefined method, a type error) is
// an error saying where.
func (t *Template) RenderOptions(msgs []Message, opts Options) (string, error) {
	if opts.FoldSystem && !t.system {
		msgs = foldSystem(msgs)
	}
	return t.render(msgs, opts)
}

// foldSystem merges a leading system message into the next message, or
// drops it if it is alone: llama.cpp's workaround for templates without a
// system role.
func foldSystem(msgs []Message) []Message {
	if len(msgs) == 0 || msgs[0].Role != "system" {
		return msgs
	}
	if len(msgs) == 1 {
		return nil
	}
	out := append([]Message(nil), msgs[1:]...)
	out[0].Content = msgs[0].Content + "\n" + out[0].Content
	return out
}

func (t *Template) render(msgs []Message, opts Options) (string, error) {
	list := make([]jinja.Value, len(msgs))
	for i, m := range msgs {
		d := jinja.NewDict()
		d.AsDict().Set("role", jinja.NewString(m.Role))
		d.AsDict().Set("content", jinja.NewString(m.Content))
		list[i] = d
	}
	vars := map[string]jinja.Value{
		"messages":              jinja.NewList(list),
		"add_generation_prompt": jinja.NewBool(opts.AddGenerationPrompt),
		"bos_token":             jinja.NewString(t.specials.BOS),
		"eos_token":             jinja.NewString(t.specials.EOS),
		"raise_exception":       raiseException,
		"strftime_now":          strftimeNow(opts.Now),
		"range":                 boundedRange,
	}
	if opts.Tools != nil {
		tools, err := jsonValue(opts.Tools)
		if err != nil {
			return "", fmt.Errorf("chat template: tools: %w", err)
		}
		vars["tools"] = tools
	}
	for name, v := range opts.Vars {
		val, err := goValue(v)
		if err != nil {
			return "", fmt.Errorf("chat template: variable %s: %w", name, err)
		}
		vars[name] = val
	}
	text, err := renderValues(t.prog, vars)
	if err != nil {
		if errors.Is(err, ErrRejected) {
			return "", err
		}
		return "", fmt.Errorf("chat template: %w", err)
	}
	return text, nil
}

// rejection is what raise_exception returns: ErrRejected with the
// template's message.
type rejection string

func (r rejection) Error() string        { return string(r) }
func (r rejection) Is(target error) bool { return target == ErrRejected }

var raiseException = jinja.NewCallable("raise_exception", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	msg := "raise_exception"
	switch {
	case len(args) > 0 && args[0].IsString():
		msg = args[0].AsString()
	case len(args) > 0:
		msg = args[0].String()
	}
	return jinja.Undefined(), rejection("chat template: " + msg)
})
