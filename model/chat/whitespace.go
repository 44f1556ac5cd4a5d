package chat

import (
	"strings"
	"unicode"
)

// Whitespace control, done here rather than by the engine.
//
// Hugging Face renders templates with trim_blocks and lstrip_blocks, and
// the - and + markers of Jinja strip around tags. Jinja2 applies each to
// the text right next to the tag; ardanlabs/jinja v1.8.0 applies them to
// the nearest text on that side even across other tags, so that
// "\n  {{ x }}{% endif %}" loses the indentation before {{ x }} and
// "{% if %}{{ x }}\ny" loses the newline after it. jinja2Whitespace
// therefore does Jinja2's whitespace control on the source, then writes
// the source so that the engine's has nothing to do: no tag keeps a
// marker, and no text begins with a newline or ends with spaces or tabs
// (those characters move into string expressions, which print them, as
// does a "{" that would open a tag with what follows). It also does what
// Jinja2's lexer does to every source: line endings become "\n" and one
// trailing newline is dropped.

// tag is a piece of a template: text, or a tag with its kind ('{', '%' or
// '#'), its markers ('-', '+' or 0) and what is between them.
type tag struct {
	kind        byte // 0 for text
	text        string
	left, right byte
}

// isBlock reports whether trim_blocks and lstrip_blocks apply to the tag:
// statements and comments, not expressions.
func (t tag) isBlock() bool { return t.kind == '%' || t.kind == '#' }

// splitTags cuts src into text and tags as the engine's scanner does:
// quotes are skipped inside expressions and statements, not comments.
// ok is false for an unclosed tag, which the engine reports.
func splitTags(src string) (tags []tag, ok bool) {
	closers := map[byte]byte{'{': '}', '%': '%', '#': '#'}
	start := 0
	for i := 0; i+1 < len(src); {
		c, kind := src[i], src[i+1]
		closer, isTag := closers[kind]
		if c != '{' || !isTag {
			i++
			continue
		}
		if i > start {
			tags = append(tags, tag{text: src[start:i]})
		}
		t := tag{kind: kind}
		j := i + 2
		if j < len(src) && (src[j] == '-' || src[j] == '+') {
			t.left = src[j]
			j++
		}
		body := j
		end := -1
		for j+1 < len(src) {
			if q := src[j]; kind != '#' && (q == '\'' || q == '"') {
				for j++; j < len(src) && src[j] != q; j++ {
					if src[j] == '\\' {
						j++
					}
				}
				j++
				continue
			}
			if src[j] == closer && src[j+1] == '}' {
				end = j
				break
			}
			j++
		}
		if end < 0 {
			return nil, false
		}
		t.text = src[body:end]
		if n := len(t.text); n > 0 && (t.text[n-1] == '-' || t.text[n-1] == '+') {
			t.right, t.text = t.text[n-1], t.text[:n-1]
		}
		tags = append(tags, t)
		i = end + 2
		start = i
	}
	if start < len(src) {
		tags = append(tags, tag{text: src[start:]})
	}
	return tags, true
}

// pythonSpace is Python's str.isspace, which Jinja2's \s and rstrip use.
func pythonSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// jinja2Whitespace rewrites src as the comment above says.
func jinja2Whitespace(src string) string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	src = strings.TrimSuffix(src, "\n")
	tags, ok := splitTags(src)
	if !ok {
		return src
	}
	tags = rawAsText(tags)
	// Jinja2's lexer: each text loses what the tag before it consumes
	// (after -: all whitespace; after a block without +: one newline),
	// then what the tag after it asks (before -: all trailing whitespace;
	// before a block without +: the spaces from its line's start, if only
	// spaces are there).
	lineStarting := true
	for i := range tags {
		t := &tags[i]
		if t.kind != 0 {
			continue
		}
		if t.left == 'r' { // text of a raw block: no whitespace control
			lineStarting = false
			continue
		}
		if i > 0 {
			prev := tags[i-1]
			consumed := ""
			switch {
			case prev.right == '-':
				trimmed := strings.TrimLeftFunc(t.text, pythonSpace)
				consumed = t.text[:len(t.text)-len(trimmed)]
			case prev.isBlock() && prev.right != '+' && strings.HasPrefix(t.text, "\n"):
				consumed = "\n"
			}
			t.text = t.text[len(consumed):]
			lineStarting = strings.HasSuffix(consumed, "\n")
		}
		if i+1 < len(tags) {
			next := tags[i+1]
			switch {
			case next.left == '-':
				t.text = strings.TrimRightFunc(t.text, pythonSpace)
			case next.isBlock() && next.left != '+':
				lpos := strings.LastIndexByte(t.text, '\n') + 1
				if rest := t.text[lpos:]; (lpos > 0 || lineStarting) && rest != "" && strings.TrimLeftFunc(rest, pythonSpace) == "" {
					t.text = t.text[:lpos]
				}
			}
		}
		lineStarting = false
	}

	var b strings.Builder
	for _, t := range tags {
		if t.kind != 0 {
			b.WriteByte('{')
			b.WriteByte(t.kind)
			b.WriteString(t.text)
			b.WriteByte(map[byte]byte{'{': '}', '%': '%', '#': '#'}[t.kind])
			b.WriteByte('}')
			continue
		}
		if t.left == 'r' {
			writeString(&b, t.text)
			continue
		}
		text := t.text
		body := strings.TrimLeft(text, "\n")
		if lead := text[:len(text)-len(body)]; lead != "" {
			writeString(&b, lead)
		}
		// A "{" at the end would open a tag with what follows.
		trimmed := strings.TrimSuffix(strings.TrimRight(body, " \t"), "{")
		b.WriteString(trimmed)
		if trail := body[len(trimmed):]; trail != "" {
			writeString(&b, trail)
		}
	}
	return b.String()
}

// writeString writes an expression printing s.
func writeString(b *strings.Builder, s string) {
	b.WriteString("{{ '")
	b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s))
	b.WriteString("' }}")
}

// rawAsText turns each {% raw %}…{% endraw %} into one text, marked as
// raw (left 'r'), whose content is the source between the two tags, with
// the whitespace control of the raw tags applied to the text around them.
func rawAsText(tags []tag) []tag {
	keyword := func(t tag) string {
		if t.kind != '%' {
			return ""
		}
		f := strings.Fields(t.text)
		if len(f) != 1 {
			return ""
		}
		return f[0]
	}
	var out []tag
	for i := 0; i < len(tags); i++ {
		if keyword(tags[i]) != "raw" {
			out = append(out, tags[i])
			continue
		}
		end := i + 1
		for end < len(tags) && keyword(tags[end]) != "endraw" {
			end++
		}
		if end == len(tags) {
			return tags // unclosed: the engine says so
		}
		var content strings.Builder
		for _, t := range tags[i+1 : end] {
			if t.kind == 0 {
				content.WriteString(t.text)
				continue
			}
			content.WriteByte('{')
			content.WriteByte(t.kind)
			if t.left != 0 {
				content.WriteByte(t.left)
			}
			content.WriteString(t.text)
			if t.right != 0 {
				content.WriteByte(t.right)
			}
			content.WriteString(map[byte]string{'{': "}}", '%': "%}", '#': "#}"}[t.kind])
		}
		text := content.String()
		// The markers of the raw tags strip the content's edges, as Jinja2's
		// raw rule does ({% raw -%} and {%- endraw %}).
		if tags[i].right == '-' {
			text = strings.TrimLeftFunc(text, pythonSpace)
		}
		if tags[end].left == '-' {
			text = strings.TrimRightFunc(text, pythonSpace)
		}
		// The raw tags keep their own outer markers, and become empty
		// comments so that the text around them is treated as around them.
		out = append(out,
			tag{kind: '#', left: tags[i].left},
			tag{text: text, left: 'r'},
			tag{kind: '#', right: tags[end].right})
		i = end
	}
	return out
}
