package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/goformer/goformer/internal/sidefile"
	"github.com/goformer/goformer/kernels"
	"github.com/goformer/goformer/model/chat"
	"github.com/goformer/goformer/runtime"
)

const chatUsage = "goformer chat [-m MODEL] [--system TEXT] [--template FILE] [-n N] [--temp T] [--top-k K] [--top-p P] [--seed S] [--ctx N] [--weights f32|int8] [--embeddings int8|f32] [--activations int8|int8x2] [--threads N] [--messages FILE [--json]]"

// chatHelp is what /help prints in an interactive chat.
const chatHelp = `Type a message and press Enter; end a line with \ to go on to the next.
  /reset        forget the conversation (the system message stays)
  /system TEXT  set the system message and start over (/system alone removes it)
  /exit         leave (so does Ctrl-D); Ctrl-C stops the reply being written`

// runChat talks with the model the way its chat template formats a
// conversation: interactively, one message a line, or once over the
// messages of a JSON file (--messages).
func runChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs, stderr)
	var sf sampleFlags
	sf.register(fs)
	n := fs.Int("n", 512, "the most tokens of one reply")
	system := fs.String("system", "", "the system message the conversation starts with")
	templateFile := fs.String("template", "", "use the chat template (Jinja) in FILE instead of the model's")
	ctxLen := fs.Int("ctx", 0, "session capacity in positions: the KV cache's fixed size (0: the model's n_positions, at most 4096)")
	alias(fs, "c", "ctx")
	messages := fs.String("messages", "", "reply once to the conversation in FILE (a JSON list of {\"role\", \"content\"}; - is standard input) and exit")
	asJSON := fs.Bool("json", false, "with --messages, print one JSON object (the reply, its tokens and timings)")
	rest, err := parseFlags(fs, args, chatUsage, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageError("chat takes no arguments, got %q (type the messages, or give --messages FILE)", rest[0])
	case *n < 1:
		return usageError("-n must be at least 1, got %d", *n)
	case sf.check() != nil:
		return sf.check()
	case *ctxLen < 0:
		return usageError("--ctx must be ≥ 0, got %d", *ctxLen)
	case *asJSON && *messages == "":
		return usageError("--json is for --messages FILE")
	}
	if err := kernels.EnvError(); err != nil {
		return err
	}
	// Ctrl-C ends the chat while it loads or waits for a message; while a
	// reply is written it stops that reply only (chatSession.reply).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	loadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-loadCtx.Done():
		}
	}()

	var msgs []chat.Message
	if *messages != "" {
		if msgs, err = readMessages(loadCtx, *messages, stdin); err != nil {
			return err
		}
	}
	m, err := mf.load(loadCtx)
	if err != nil {
		return err
	}
	defer m.Close()
	tmpl, err := chatTemplate(m, mf.name(), *templateFile)
	if err != nil {
		return err
	}
	s, err := m.NewSession(runtime.SessionOptions{Capacity: *ctxLen})
	if err != nil {
		return usageError("--ctx %d: %v", *ctxLen, err)
	}
	cancel() // loading is over: from here on Ctrl-C is read from sigs
	c := &chatSession{m: m, tmpl: tmpl, s: s, system: *system, sigs: sigs,
		opts: runtime.GenerateOptions{SampleOptions: sf.options(), MaxTokens: *n, Continue: true}}
	if *system != "" && !tmpl.SupportsSystem() {
		fmt.Fprintln(stderr, "goformer chat: the chat template has no system role: the system message is put before the first user message")
	}
	w := bufio.NewWriter(stdout)
	if *messages != "" {
		return c.once(ctx, msgs, *asJSON, w)
	}
	return c.interactive(ctx, stdin, w, stderr)
}

// chatTemplate is the model's chat template, or the one in file.
func chatTemplate(m *runtime.Model, name, file string) (*chat.Template, error) {
	if file != "" {
		src, err := sidefile.Read(file)
		if err != nil {
			return nil, fmt.Errorf("--template: %w", err)
		}
		t, err := chat.Parse(string(src), m.ChatSpecials())
		if err != nil {
			return nil, fmt.Errorf("--template %s: %w", file, err)
		}
		return t, nil
	}
	t, err := m.ChatTemplate()
	if errors.Is(err, chat.ErrNoTemplate) {
		return nil, fmt.Errorf("%s: %w (GGUF's tokenizer.chat_template, tokenizer_config.json's chat_template): give one with --template FILE", name, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// readMessages reads --messages: a JSON list of messages.
func readMessages(ctx context.Context, name string, stdin io.Reader) ([]chat.Message, error) {
	data, err := interruptible(ctx, func() ([]byte, error) {
		if name == "-" {
			return io.ReadAll(sidefile.LimitReader(name, stdin))
		}
		return sidefile.Read(name)
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("--messages: %w", err)
	}
	var msgs []chat.Message
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&msgs); err != nil {
		return nil, fmt.Errorf("--messages %s: want a JSON list of {\"role\": …, \"content\": …}: %w", name, err)
	}
	for i, msg := range msgs {
		if msg.Role == "" {
			return nil, fmt.Errorf("--messages %s: message %d has no role", name, i)
		}
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("--messages %s: no messages", name)
	}
	return msgs, nil
}

// chatSession is a conversation with the model: its messages, and the
// tokens its session holds, which the next turn reuses as far as its
// rendering agrees with them.
type chatSession struct {
	m       *runtime.Model
	tmpl    *chat.Template
	s       *runtime.Session
	opts    runtime.GenerateOptions
	system  string
	history []chat.Message   // the turns so far, without the system message
	cached  []int            // the tokens the session holds, in order; nil: unknown
	sigs    <-chan os.Signal // Ctrl-C
}

// reply is what one turn produced.
type reply struct {
	text         string
	prompt       []int // the rendered conversation's ids
	tokens       []int
	logprobs     []float64
	reused       int // prompt tokens the cache already held
	err          error
	interrupted  bool
	finishReason string
}

// messages is the conversation to render: the system message, the
// history, then more.
func (c *chatSession) messages(more ...chat.Message) []chat.Message {
	var msgs []chat.Message
	if c.system != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: c.system})
	}
	return append(append(msgs, c.history...), more...)
}

// reply renders msgs with the generation prompt and generates the
// assistant's reply, writing each piece to w as it comes. The prompt's
// longest prefix that the session already holds is not run again. Ctrl-C
// (or ctx) stops the reply; what was written of it is kept.
func (c *chatSession) reply(ctx context.Context, msgs []chat.Message, w *bufio.Writer) (reply, error) {
	text, err := c.tmpl.RenderOptions(msgs, chat.Options{AddGenerationPrompt: true, FoldSystem: true})
	if err != nil {
		return reply{}, err
	}
	tok := c.m.Tokenizer()
	ids := tok.EncodeChat(text)
	if len(ids) == 0 {
		return reply{}, errors.New("the chat template rendered an empty prompt")
	}
	// At least the last prompt token runs: its logits start the reply.
	keep := min(commonPrefix(c.cached, ids), len(ids)-1)
	if err := c.s.Rewind(keep); err != nil {
		keep = 0
		c.s.Reset()
	}
	r := reply{prompt: ids, reused: keep}
	turn, cancel := context.WithCancel(ctx)
	defer cancel()
	interrupted := make(chan bool, 1)
	go func() {
		select {
		case <-c.sigs:
			cancel()
			interrupted <- true
		case <-turn.Done():
			interrupted <- false
		}
	}()
	eos, hasEOS := tok.EOS()
	dec := tok.NewStreamDecoder()
	var out strings.Builder
	for t, err := range c.s.Generate(turn, ids[keep:], c.opts) {
		if err != nil {
			r.err = err
			break
		}
		if hasEOS && t.ID == eos {
			break // the tokenizer's end of text, though the config does not list it
		}
		piece, err := dec.Add(t.ID)
		if err != nil {
			return r, err
		}
		r.tokens = append(r.tokens, t.ID)
		r.logprobs = append(r.logprobs, t.Logprob)
		out.WriteString(piece)
		if w != nil {
			w.WriteString(piece)
			if err := w.Flush(); err != nil {
				return r, err
			}
		}
	}
	cancel()
	r.interrupted = <-interrupted
	tail := dec.Flush()
	out.WriteString(tail)
	if w != nil {
		w.WriteString(tail)
	}
	r.text = out.String()
	// The session holds the prompt and the reply's tokens up to its
	// position, unless a context shift re-encoded them.
	c.cached = nil
	if c.s.Stats().ContextShifts == 0 {
		held := append(append([]int{}, ids...), r.tokens...)
		c.cached = held[:min(len(held), c.s.Pos())]
	}
	switch {
	case errors.Is(r.err, context.Canceled) && r.interrupted:
		r.err = nil
	case errors.Is(r.err, runtime.ErrContextFull):
		r.finishReason = "context"
	case r.err == nil && len(r.tokens) == c.opts.MaxTokens:
		r.finishReason = "length"
	case r.err == nil:
		r.finishReason = "stop"
	}
	return r, nil
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []int) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// once replies to msgs and prints the reply (or, asJSON, runResult's
// fields for it).
func (c *chatSession) once(ctx context.Context, msgs []chat.Message, asJSON bool, w *bufio.Writer) error {
	if c.system != "" {
		msgs = append([]chat.Message{{Role: "system", Content: c.system}}, msgs...)
	}
	stream := w
	if asJSON {
		stream = nil
	}
	r, err := c.reply(ctx, msgs, stream)
	if err != nil {
		return err
	}
	if r.interrupted {
		r.err = context.Canceled
	}
	if !asJSON {
		w.WriteByte('\n')
		if err := w.Flush(); err != nil {
			return err
		}
		return r.err
	}
	st := c.s.Stats()
	res := runResult{PromptTokens: r.prompt, Tokens: r.tokens, Text: r.text, Logprobs: r.logprobs, Seed: c.opts.Seed,
		FinishReason: r.finishReason, ISA: kernels.ISA(), PrefillTokensPerS: finite(st.PrefillTokensPerSecond()),
		DecodeTokensPerS: finite(st.DecodeTokensPerSecond()), ContextShifts: st.ContextShifts}
	if res.Tokens == nil {
		res.Tokens, res.Logprobs = []int{}, []float64{}
	}
	out, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("the reply of %d tokens cannot be written as JSON: %w", len(r.tokens), err)
	}
	w.Write(out)
	w.WriteByte('\n')
	if err := w.Flush(); err != nil {
		return err
	}
	return r.err
}

// interactive reads one message a line from stdin and writes each reply
// to w, until /exit, the end of stdin or Ctrl-C at the prompt. On a
// terminal it prompts with "> " on stderr.
func (c *chatSession) interactive(ctx context.Context, stdin io.Reader, w *bufio.Writer, stderr io.Writer) error {
	terminal := isTerminal(stdin)
	if terminal {
		fmt.Fprintln(stderr, "goformer chat: /help lists the commands; Ctrl-D or /exit leaves")
	}
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 64*1024), int(sidefile.Limit()))
		for sc.Scan() {
			lines <- sc.Text()
		}
		readErr <- sc.Err()
		close(lines)
	}()
	for {
		if terminal {
			fmt.Fprint(stderr, "> ")
		}
		msg, ok, err := readMessage(ctx, lines, readErr, c.sigs)
		if err != nil || !ok {
			if terminal {
				fmt.Fprintln(stderr) // end the prompt's line
			}
			return err
		}
		if strings.TrimSpace(msg) == "" {
			continue
		}
		switch cmd, arg, _ := strings.Cut(strings.TrimSpace(msg), " "); {
		case cmd == "/exit" || cmd == "/quit":
			return nil
		case cmd == "/help":
			fmt.Fprintln(stderr, chatHelp)
			continue
		case cmd == "/reset":
			c.history = nil
			continue
		case cmd == "/system":
			c.system, c.history = strings.TrimSpace(arg), nil
			continue
		case strings.HasPrefix(cmd, "/") && !strings.Contains(cmd[1:], "/"):
			fmt.Fprintf(stderr, "goformer chat: unknown command %s (/help lists them)\n", cmd)
			continue
		}
		user := chat.Message{Role: "user", Content: msg}
		r, err := c.reply(ctx, c.messages(user), w)
		if errors.Is(err, chat.ErrRejected) {
			fmt.Fprintf(stderr, "goformer chat: %v\n", err)
			continue
		}
		if err != nil {
			return err
		}
		w.WriteByte('\n')
		if err := w.Flush(); err != nil {
			return err
		}
		if r.interrupted {
			fmt.Fprintln(stderr, "goformer chat: reply interrupted")
		}
		if r.err == nil || len(r.tokens) > 0 {
			c.history = append(c.history, user, chat.Message{Role: "assistant", Content: r.text})
		}
		switch {
		case r.err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(r.err, runtime.ErrContextFull):
			fmt.Fprintf(stderr, "goformer chat: %v: the conversation no longer fits the context (--ctx); /reset starts over\n", r.err)
		default:
			fmt.Fprintf(stderr, "goformer chat: %v\n", r.err)
		}
	}
}

// readMessage waits for the next message: a line, or lines joined while
// each ends with a backslash. ok is false at the end of input; Ctrl-C or
// ctx is context.Canceled.
func readMessage(ctx context.Context, lines <-chan string, readErr <-chan error, sigs <-chan os.Signal) (msg string, ok bool, err error) {
	var parts []string
	for {
		select {
		case line, open := <-lines:
			if !open {
				if err := <-readErr; err != nil {
					return "", false, fmt.Errorf("reading standard input: %w", err)
				}
				return strings.Join(parts, "\n"), len(parts) > 0, nil
			}
			if cont, found := strings.CutSuffix(line, `\`); found {
				parts = append(parts, cont)
				continue
			}
			return strings.Join(append(parts, line), "\n"), true, nil
		case <-sigs:
			return "", false, context.Canceled
		case <-ctx.Done():
			return "", false, ctx.Err()
		}
	}
}
