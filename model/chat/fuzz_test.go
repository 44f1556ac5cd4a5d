package chat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzTemplate: any source either fails to parse with an error or renders
// a conversation to a text or an error; neither panics. The corpus starts
// from the real templates of testdata/templates. Sources with macros or
// call blocks (which can recurse without end, a fatal stack overflow in
// the engine) or * (a string repeated a trillion times) are left out:
// guard.go says what it cannot catch.
func FuzzTemplate(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "templates", "*.jinja"))
	for _, name := range names {
		if src, err := os.ReadFile(name); err == nil && len(src) < 8<<10 {
			f.Add(string(src))
		}
	}
	f.Add("{% for m in messages %}{{ m.content | tojson(indent=2) }}{% endfor %}{{ strftime_now('%-d') }}")
	f.Add("{% raw %}{{ x }}{% endraw %}{%- if true -%} {{- '\\n' -}} {%+ endif +%}")
	msgs := []Message{{"system", "S"}, {"user", "{{ u }}"}, {"assistant", "a"}, {"user", "ü\n"}}
	f.Fuzz(func(t *testing.T, src string) {
		if strings.Contains(src, "macro") || strings.Contains(src, "call") || strings.Contains(src, "*") {
			return
		}
		tmpl, err := Parse(src, Specials{BOS: "<s>", EOS: "</s>"})
		if err != nil {
			return
		}
		tmpl.RenderOptions(msgs, Options{AddGenerationPrompt: true, FoldSystem: true, Tools: []byte(`[{"type": "function"}]`)})
	})
}
