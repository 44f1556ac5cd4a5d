package chat

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const chatML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"

func TestParseErrors(t *testing.T) {
	_, err := Parse("  \n", Specials{})
	assert.ErrorIs(t, err, ErrNoTemplate)
	_, err = Parse("{% if x %}never closed", Specials{})
	assert.ErrorContains(t, err, "chat template")
	_, err = Parse("{{ unclosed", Specials{})
	assert.ErrorContains(t, err, "unclosed")
}

func TestRenderChatML(t *testing.T) {
	tmpl, err := Parse(chatML, Specials{})
	require.NoError(t, err)
	msgs := []Message{{"system", "Be brief."}, {"user", "Hi {{ there }}"}}
	got, err := tmpl.Render(msgs, true)
	require.NoError(t, err)
	assert.Equal(t, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi {{ there }}<|im_end|>\n<|im_start|>assistant\n", got)
	got, err = tmpl.Render(msgs, false)
	require.NoError(t, err)
	assert.NotContains(t, got, "assistant")
	assert.True(t, tmpl.SupportsSystem())
	assert.Equal(t, chatML, tmpl.Source())
}

func TestSpecialsAndRejection(t *testing.T) {
	const src = "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}[{{ m.content }}]{{ eos_token }}{% endfor %}"
	tmpl, err := Parse(src, Specials{BOS: "<s>", EOS: "</s>"})
	require.NoError(t, err)
	assert.False(t, tmpl.SupportsSystem())
	got, err := tmpl.Render([]Message{{"user", "a"}, {"assistant", "b"}}, false)
	require.NoError(t, err)
	assert.Equal(t, "<s>[a]</s>[b]</s>", got)

	msgs := []Message{{"system", "S"}, {"user", "u"}}
	_, err = tmpl.Render(msgs, true)
	assert.ErrorIs(t, err, ErrRejected)
	assert.EqualError(t, err, "chat template: System role not supported")

	got, err = tmpl.RenderOptions(msgs, Options{FoldSystem: true})
	require.NoError(t, err)
	assert.Equal(t, "<s>[S\nu]</s>", got)
	got, err = tmpl.RenderOptions(msgs[:1], Options{FoldSystem: true})
	require.NoError(t, err)
	assert.Equal(t, "<s>", got, "a system message alone is dropped")
	assert.Equal(t, "S", msgs[0].Content, "the caller's messages are not changed")
}

func TestToolsKeepKeyOrder(t *testing.T) {
	tmpl, err := Parse("{% for t in tools %}{{ t | tojson }}|{{ t.function.name }}{% endfor %}", Specials{})
	require.NoError(t, err)
	tools := json.RawMessage(`[{"type": "function", "function": {"name": "f", "big": 9007199254740993, "x": 1.5, "ok": true, "n": null, "s": "é<>"}}]`)
	got, err := tmpl.RenderOptions(nil, Options{Tools: tools})
	require.NoError(t, err)
	assert.Equal(t, `{"type": "function", "function": {"name": "f", "big": 9007199254740993, "x": 1.5, "ok": true, "n": null, "s": "é<>"}}|f`, got)

	_, err = tmpl.RenderOptions(nil, Options{Tools: json.RawMessage(`[{"a": }]`)})
	assert.ErrorContains(t, err, "tools")
	_, err = tmpl.RenderOptions(nil, Options{Tools: json.RawMessage(`[] []`)})
	assert.ErrorContains(t, err, "tools")
}

func TestVars(t *testing.T) {
	tmpl, err := Parse("{{ enable_thinking }} {{ date_string }} {{ cfg.k }}", Specials{})
	require.NoError(t, err)
	got, err := tmpl.RenderOptions(nil, Options{Vars: map[string]any{
		"enable_thinking": false, "date_string": "26 Jul 2024", "cfg": json.RawMessage(`{"k": [1, 2]}`)}})
	require.NoError(t, err)
	assert.Equal(t, "False 26 Jul 2024 [1, 2]", got)
	_, err = tmpl.RenderOptions(nil, Options{Vars: map[string]any{"x": struct{}{}}})
	assert.ErrorContains(t, err, "variable x")
}

func TestStrftimeNow(t *testing.T) {
	now := time.Date(2024, 7, 6, 15, 4, 5, 0, time.UTC)
	for format, want := range map[string]string{
		"%d %b %Y":          "06 Jul 2024",
		"%-d %B %Y":         "6 July 2024",
		"%A %a %y %m %j":    "Saturday Sat 24 07 188",
		"%H:%M:%S %I %p %%": "15:04:05 03 PM %",
		"%e|%-m|%Q":         " 6|7|%Q",
	} {
		assert.Equal(t, want, strftime(now, format), format)
	}
	tmpl, err := Parse(`{{ strftime_now("%d %b %Y") }}`, Specials{})
	require.NoError(t, err)
	got, err := tmpl.RenderOptions(nil, Options{Now: now})
	require.NoError(t, err)
	assert.Equal(t, "06 Jul 2024", got)
	got, err = tmpl.Render(nil, false)
	require.NoError(t, err)
	assert.Len(t, got, len("06 Jul 2024"), "the time of the call")
}

func TestConcurrentRenders(t *testing.T) {
	tmpl, err := Parse(chatML, Specials{})
	require.NoError(t, err)
	want, err := tmpl.Render([]Message{{"user", "x"}}, true)
	require.NoError(t, err)
	done := make(chan string)
	for range 8 {
		go func() {
			got, _ := tmpl.Render([]Message{{"user", "x"}}, true)
			done <- got
		}()
	}
	for range 8 {
		assert.Equal(t, want, <-done)
	}
}

func TestRange(t *testing.T) {
	for src, want := range map[string]string{
		"{{ range(3) }}":          "[0, 1, 2]",
		"{{ range(1, 4) }}":       "[1, 2, 3]",
		"{{ range(5, 0, -2) }}":   "[5, 3, 1]",
		"{{ range(0, 7, 3) }}":    "[0, 3, 6]",
		"{{ range(3, 1) }}":       "[]",
		"{{ range(-2, -6, -1) }}": "[-2, -3, -4, -5]",
	} {
		tmpl, err := Parse(src, Specials{})
		require.NoError(t, err)
		got, err := tmpl.Render(nil, false)
		require.NoError(t, err, src)
		assert.Equal(t, want, got, src)
	}
	for src, want := range map[string]string{
		"{{ range(10000000000) }}": "more than 1048576 numbers",
		"{{ range(1, 2, 0) }}":     "step must not be zero",
		"{{ range('a') }}":         "want 1 to 3 integers",
		"{{ range() }}":            "got none",
	} {
		tmpl, err := Parse(src, Specials{})
		require.NoError(t, err)
		_, err = tmpl.Render(nil, false)
		assert.ErrorContains(t, err, want, src)
	}
}
