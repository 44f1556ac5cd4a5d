package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model/chat"
	"github.com/goformer/goformer/model/demo"
	"github.com/goformer/goformer/runtime"
)

// llamaMiniDir is the llama-mini fixture: tokenizer.json and a
// tokenizer_config.json with a ChatML chat template.
var llamaMiniDir = filepath.Join("..", "..", "..", "shared", "fixtures", "llama-mini")

func needLlamaMini(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the llama-mini fixture in -short mode")
	}
	if _, err := os.Stat(filepath.Join(llamaMiniDir, "tokenizer_config.json")); err != nil {
		t.Skipf("skipping: the llama-mini fixture is not at %s (it lives in the project's shared/ folder)", llamaMiniDir)
	}
}

// writeFile writes text to a file of the test's and returns its path.
func writeFile(t *testing.T, name, text string) string {
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// plainTemplate is a template for the demo model, which has none.
const plainTemplate = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"

// TestChatInteractive drives the chat through standard input: the same
// first message after /reset gets the same greedy reply, commands are not
// messages, and /exit ends it before the lines after.
func TestChatInteractive(t *testing.T) {
	needLlamaMini(t)
	in := "Hi there!\n\nWhat do bees \\\nmake?\n/reset\nHi there!\n/help\n/nope\n/exit\nnever read\n"
	code, out, errOut := runCLI(in, "chat", "-m", llamaMiniDir, "--temp", "0", "-n", "10")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "/reset")
	assert.Contains(t, errOut, "unknown command /nope")
	assert.NotContains(t, errOut, "> ", "no prompt when standard input is not a terminal")

	first, _ := chatReplies(t, llamaMiniDir, "", []string{"Hi there!"})
	assert.True(t, strings.HasPrefix(out, first[0]+"\n"), "%q does not start with %q", out, first[0])
	assert.Equal(t, 2, strings.Count(out, first[0]), "the first reply again after /reset")
}

// chatReplies runs a conversation through a chatSession, without a
// terminal, and returns its replies and what each reused of the cache.
func chatReplies(t *testing.T, path, system string, users []string) ([]string, []int) {
	t.Helper()
	m, err := runtime.Load(path, runtime.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return chatWith(t, m, nil, system, users)
}

func chatWith(t *testing.T, m *runtime.Model, tmpl *chat.Template, system string, users []string) ([]string, []int) {
	t.Helper()
	if tmpl == nil {
		var err error
		tmpl, err = m.ChatTemplate()
		require.NoError(t, err)
	}
	s, err := m.NewSession(runtime.SessionOptions{})
	require.NoError(t, err)
	c := &chatSession{m: m, tmpl: tmpl, s: s, system: system,
		opts: runtime.GenerateOptions{SampleOptions: runtime.SampleOptions{}, MaxTokens: 10, Continue: true}}
	var replies []string
	var reused []int
	for _, u := range users {
		user := chat.Message{Role: "user", Content: u}
		r, err := c.reply(context.Background(), c.messages(user), nil)
		require.NoError(t, err)
		require.NoError(t, r.err)
		replies = append(replies, r.text)
		reused = append(reused, r.reused)
		c.history = append(c.history, user, chat.Message{Role: "assistant", Content: r.text})
	}
	return replies, reused
}

// TestChatReusesTheCache: each turn after the first runs only what its
// rendering adds to the tokens the session holds, and replies what a new
// session given the whole conversation replies, token for token.
func TestChatReusesTheCache(t *testing.T) {
	needLlamaMini(t)
	users := []string{"Hi there!", "What do bees make?", "And ants?"}
	replies, reused := chatReplies(t, llamaMiniDir, "Be brief.", users)
	assert.Equal(t, 0, reused[0])
	for i := 1; i < len(users); i++ {
		assert.Greater(t, reused[i], 20, "turn %d reran the history", i)
		// The same turn from scratch: one session per conversation prefix.
		m, err := runtime.Load(llamaMiniDir, runtime.Options{})
		require.NoError(t, err)
		tmpl, err := m.ChatTemplate()
		require.NoError(t, err)
		msgs := []chat.Message{{Role: "system", Content: "Be brief."}}
		for j := range i {
			msgs = append(msgs, chat.Message{Role: "user", Content: users[j]}, chat.Message{Role: "assistant", Content: replies[j]})
		}
		msgs = append(msgs, chat.Message{Role: "user", Content: users[i]})
		text, err := tmpl.Render(msgs, true)
		require.NoError(t, err)
		s, err := m.NewSession(runtime.SessionOptions{})
		require.NoError(t, err)
		var got []int
		for tok, err := range s.Generate(context.Background(), m.Tokenizer().EncodeChat(text), runtime.GenerateOptions{MaxTokens: 10}) {
			require.NoError(t, err)
			got = append(got, tok.ID)
		}
		want, err := m.Tokenizer().Decode(got)
		require.NoError(t, err)
		assert.Equal(t, want, replies[i], "turn %d", i)
		m.Close()
	}
}

// TestChatMessagesJSON: --messages with --json prints the rendered prompt's
// ids and the reply; --template replaces a model's (here the demo's
// missing) template; --system comes first.
func TestChatMessagesJSON(t *testing.T) {
	msgs := writeFile(t, "msgs.json", `[{"role": "user", "content": "Once upon a time"}]`)
	tmpl := writeFile(t, "t.jinja", plainTemplate)
	code, out, errOut := runCLI("", "chat", "--template", tmpl, "--messages", msgs, "--system", "Tell a story.", "--json", "--temp", "0", "-n", "5")
	require.Equal(t, 0, code, errOut)
	var res runResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	m, err := runtime.LoadFS(demo.FS, runtime.Options{})
	require.NoError(t, err)
	assert.Equal(t, m.Tokenizer().EncodeChat("system: Tell a story.\nuser: Once upon a time\nassistant:"), res.PromptTokens)
	assert.Len(t, res.Tokens, 5)
	assert.Equal(t, "length", res.FinishReason)
	text, err := m.Tokenizer().Decode(res.Tokens)
	require.NoError(t, err)
	assert.Equal(t, text, res.Text)

	// The same from standard input, as text.
	code, out2, errOut := runCLI(`[{"role": "user", "content": "Once upon a time"}]`, "chat", "--template", tmpl, "--messages", "-", "--system", "Tell a story.", "--temp", "0", "-n", "5")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, res.Text+"\n", out2)
}

func TestChatErrors(t *testing.T) {
	tmpl := writeFile(t, "t.jinja", plainTemplate)
	for _, c := range []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{[]string{"chat", "--messages", writeFile(t, "m.json", `[]`)}, "", 1, "no messages"},
		{[]string{"chat"}, "hi\n", 1, "demo: the model has no chat template (GGUF's tokenizer.chat_template, tokenizer_config.json's chat_template): give one with --template FILE"},
		{[]string{"chat", "--template", writeFile(t, "bad.jinja", "{% if %}")}, "", 1, "--template"},
		{[]string{"chat", "--template", filepath.Join(t.TempDir(), "absent.jinja")}, "", 1, "absent.jinja"},
		{[]string{"chat", "--template", tmpl, "--messages", writeFile(t, "m.json", `{"role": "user"}`)}, "", 1, "want a JSON list"},
		{[]string{"chat", "--template", tmpl, "--messages", writeFile(t, "m.json", `[{"content": "x"}]`)}, "", 1, "message 0 has no role"},
		{[]string{"chat", "--template", tmpl, "--messages", writeFile(t, "m.json", `[{"role": "user", "text": "x"}]`)}, "", 1, `unknown field "text"`},
		{[]string{"chat", "hello"}, "", 2, "chat takes no arguments"},
		{[]string{"chat", "--json"}, "", 2, "--json is for --messages FILE"},
		{[]string{"chat", "-n", "0"}, "", 2, "-n must be at least 1"},
		{[]string{"chat", "--temp", "-1"}, "", 2, "--temp must be"},
		{[]string{"chat", "--ctx", "-1"}, "", 2, "--ctx must be"},
	} {
		code, _, errOut := runCLI(c.stdin, c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, errOut)
		assert.Contains(t, errOut, c.want, c.args)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
	}
}

// TestChatRejectedTurn: a message the template refuses is reported and
// dropped; the chat goes on with the next.
func TestChatRejectedTurn(t *testing.T) {
	tmpl := writeFile(t, "t.jinja", "{% for m in messages %}{% if m.content == 'bad' %}{{ raise_exception('no bad words') }}{% endif %}{{ m.content }}\n{% endfor %}")
	code, out, errOut := runCLI("bad\nOnce upon a time\n", "chat", "--template", tmpl, "--temp", "0", "-n", "3")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "goformer chat: chat template: no bad words\n")
	assert.Equal(t, 1, strings.Count(out, "\n"), "one reply: %q", out)
}

// TestChatSystemFolded: a template without a system role gets the system
// message at the start of the first user message, and chat says so.
func TestChatSystemFolded(t *testing.T) {
	tmpl := writeFile(t, "t.jinja", "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}[{{ m.content }}]{% endfor %}")
	msgs := writeFile(t, "m.json", `[{"role": "user", "content": "Once upon a time"}]`)
	code, out, errOut := runCLI("", "chat", "--template", tmpl, "--messages", msgs, "--system", "Tell a story.", "--json", "--temp", "0", "-n", "2")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "has no system role")
	var res runResult
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	m, err := runtime.LoadFS(demo.FS, runtime.Options{})
	require.NoError(t, err)
	assert.Equal(t, m.Tokenizer().EncodeChat("[Tell a story.\nOnce upon a time]"), res.PromptTokens)
}

// signalOnWrite is a writer that sends Ctrl-C on its first write: the
// reply is interrupted after its first piece.
type signalOnWrite struct {
	w    io.Writer
	sigs chan os.Signal
	sent bool
}

func (s *signalOnWrite) Write(p []byte) (int, error) {
	if !s.sent {
		s.sent = true
		s.sigs <- os.Interrupt
		// Wait until the chat has read it, so that the reply's remaining
		// tokens, not the scheduler, decide whether it stops early.
		for len(s.sigs) > 0 {
			goruntime.Gosched()
		}
	}
	return s.w.Write(p)
}

// TestChatInterruptStopsTheReply: Ctrl-C while a reply is written stops
// that reply, keeps what was written, and the chat goes on.
func TestChatInterruptStopsTheReply(t *testing.T) {
	m, err := runtime.LoadFS(demo.FS, runtime.Options{})
	require.NoError(t, err)
	tmpl, err := chat.Parse(plainTemplate, m.ChatSpecials())
	require.NoError(t, err)
	s, err := m.NewSession(runtime.SessionOptions{})
	require.NoError(t, err)
	sigs := make(chan os.Signal, 1)
	c := &chatSession{m: m, tmpl: tmpl, s: s, sigs: sigs,
		opts: runtime.GenerateOptions{MaxTokens: 50, Continue: true, IgnoreEOS: true}}
	var out strings.Builder
	w := bufio.NewWriter(&signalOnWrite{w: &out, sigs: sigs})
	r, err := c.reply(context.Background(), c.messages(chat.Message{Role: "user", Content: "Once upon a time"}), w)
	require.NoError(t, err)
	assert.True(t, r.interrupted)
	assert.NoError(t, r.err)
	assert.Less(t, len(r.tokens), 50)
	assert.NotEmpty(t, r.tokens)
	require.NoError(t, w.Flush())
	assert.Equal(t, r.text, out.String())

	// The next reply runs to its end.
	r, err = c.reply(context.Background(), c.messages(chat.Message{Role: "user", Content: "Again"}), nil)
	require.NoError(t, err)
	assert.False(t, r.interrupted)
	assert.Len(t, r.tokens, 50)
	assert.Positive(t, r.reused)
}

// TestChatInterruptedAtThePrompt: Ctrl-C while the chat waits for a
// message ends it with status 130 and one line.
func TestChatInterruptedAtThePrompt(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var errOut strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"chat", "--template", writeFile(t, "t.jinja", plainTemplate), "-n", "4"}, r, outW, &errOut)
		outW.Close()
	}()
	_, err = w.WriteString("Once upon a time\n")
	require.NoError(t, err)
	// The reply ends with a newline before the chat waits for the next
	// message.
	line, err := bufio.NewReader(outR).ReadString('\n')
	require.NoError(t, err)
	assert.NotEmpty(t, line)
	go io.Copy(io.Discard, outR)
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 130, code)
		assert.Equal(t, "goformer chat: interrupted\n", errOut.String())
	case <-time.After(20 * time.Second):
		t.Fatal("chat did not return 20 s after the interrupt")
	}
}

// TestChatMatchesReference: llama-mini's chat prompt, formatted by its
// template from the reference's messages, has the reference's ids, and
// the greedy reply is PyTorch's.
func TestChatMatchesReference(t *testing.T) {
	needLlamaMini(t)
	raw, err := os.ReadFile(filepath.Join(llamaMiniDir, "reference.json"))
	require.NoError(t, err)
	var ref struct {
		Prompts []struct {
			Messages []chat.Message `json:"messages"`
			TokenIDs []int          `json:"token_ids"`
			Greedy   struct {
				TokenIDs []int `json:"token_ids"`
			} `json:"greedy"`
		} `json:"prompts"`
	}
	require.NoError(t, json.Unmarshal(raw, &ref))
	for _, p := range ref.Prompts {
		if p.Messages == nil {
			continue
		}
		data, err := json.Marshal(p.Messages)
		require.NoError(t, err)
		n := min(len(p.Greedy.TokenIDs), 16)
		code, out, errOut := runCLI(string(data), "chat", "-m", llamaMiniDir, "--embeddings", "f32", "--messages", "-", "--json", "--temp", "0", "-n", strconv.Itoa(n))
		require.Equal(t, 0, code, errOut)
		var res runResult
		require.NoError(t, json.Unmarshal([]byte(out), &res))
		assert.Equal(t, p.TokenIDs, res.PromptTokens)
		assert.Equal(t, p.Greedy.TokenIDs[:n], res.Tokens)
	}
}

// TestChatContextFull: a turn that outgrows a model with learned
// positions is reported with what to do and left out of the history: the
// next, shorter one fits.
func TestChatContextFull(t *testing.T) {
	tmpl := writeFile(t, "t.jinja", plainTemplate)
	long := strings.Repeat("Once upon a time there was a story. ", 6)
	code, out, errOut := runCLI("Hi\n"+long+"\nHello\n", "chat", "--template", tmpl, "--ctx", "64", "--temp", "0", "-n", "8")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, 1, strings.Count(errOut, "context full: the conversation no longer fits the context (--ctx); /reset starts over"), errOut)
	lines := strings.Split(out, "\n")
	require.Len(t, lines, 4, "a reply, the refused turn's empty line, a reply: %q", out)
	assert.NotEmpty(t, lines[0])
	assert.Empty(t, lines[1])
	assert.NotEmpty(t, lines[2])
}
