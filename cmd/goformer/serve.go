package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/goformer/goformer/model/chat"
	"github.com/goformer/goformer/runtime"
	"github.com/goformer/goformer/server"
)

const serveUsage = "goformer serve [-m MODEL] [--addr 127.0.0.1:8080] [--slots N] [--ctx N] [--threads N] [--api-key KEY] [--max-queue N] [--max-tokens N] [--timeout D] [--drain-timeout D] [--max-body BYTES] [--alias NAME] [--template FILE] [--log-prompts] [--weights f32|int8] [--embeddings int8|f32] [--activations int8|int8x2]"

// runServe serves the model over HTTP with OpenAI's API until SIGINT or
// SIGTERM, then drains and returns nil: exit status 0.
func runServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs, stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen on `HOST:PORT` (port 0: any free one, which the log's first line names)")
	slots := fs.Int("slots", 8, "requests generating at once, decoded together in one batch")
	ctxLen := fs.Int("ctx", 0, "positions of each slot's KV cache, prompt and completion together (0: the model's context, at most 4096 for RoPE)")
	alias(fs, "c", "ctx")
	apiKey := fs.String("api-key", "", "require Authorization: Bearer KEY on every request but /health and /metrics (default: $GOFORMER_API_KEY; none if unset)")
	maxQueue := fs.Int("max-queue", 64, "requests waiting for a slot; one more gets a 429")
	maxTokens := fs.Int("max-tokens", 4096, "the most tokens one request may ask for")
	timeout := fs.Duration("timeout", 30*time.Second, "bound on reading a request, on each write of a response, and on an idle connection")
	drain := fs.Duration("drain-timeout", 30*time.Second, "on SIGINT or SIGTERM, how long requests in flight may take to finish before they are ended")
	maxBody := fs.Int64("max-body", 1<<20, "the largest request body in bytes")
	name := fs.String("alias", "", "the model's id in /v1/models and responses (default: the file or directory name of -m, or \"demo\")")
	logPrompts := fs.Bool("log-prompts", false, "add each request's prompt text to its log line")
	templateFile := fs.String("template", "", "render /v1/chat/completions with the chat template (Jinja) in FILE instead of the model's")
	rest, err := parseFlags(fs, args, serveUsage, stdout)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usageError("serve takes no arguments, got %q", rest[0])
	case *slots < 1:
		return usageError("--slots must be at least 1, got %d", *slots)
	case *ctxLen < 0:
		return usageError("--ctx must be ≥ 0, got %d", *ctxLen)
	case *maxQueue < 0:
		return usageError("--max-queue must be ≥ 0, got %d", *maxQueue)
	case *maxTokens < 1:
		return usageError("--max-tokens must be at least 1, got %d", *maxTokens)
	case *timeout <= 0 || *drain <= 0:
		return usageError("--timeout and --drain-timeout must be positive")
	case *maxBody < 1:
		return usageError("--max-body must be at least 1, got %d", *maxBody)
	}
	if !flagSet(fs, "api-key") {
		*apiKey = os.Getenv("GOFORMER_API_KEY")
	}
	if *name == "" {
		*name = modelName(mf.name())
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := server.Config{
		ModelName: *name, Slots: *slots, Context: *ctxLen, MaxQueue: *maxQueue, MaxTokens: *maxTokens,
		APIKey: *apiKey, Timeout: *timeout, DrainTimeout: *drain, MaxBodyBytes: *maxBody,
		LogPrompts: *logPrompts, Logger: logger,
	}
	if *templateFile != "" {
		cfg.ChatTemplate = func(m *runtime.Model) (*chat.Template, error) { return chatTemplate(m, mf.name(), *templateFile) }
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	// The port is open before the model loads, so that /health can say 503
	// meanwhile.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("--addr %s: %w", *addr, err)
	}
	logger.Info("listening", "addr", ln.Addr().String(), "model", *name)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	var m *runtime.Model
	defer func() {
		if m != nil {
			m.Close()
		}
	}()
	return srv.Run(ctx, ln, func(ctx context.Context) (*runtime.Model, error) {
		var err error
		m, err = mf.load(ctx)
		if err != nil {
			return nil, err
		}
		bopts := runtime.BatchOptions{Sequences: *slots, Capacity: *ctxLen}
		if err := checkBatchMemory(m, bopts, availableMemory(), "--slots", true); err != nil {
			return nil, err
		}
		mem, err := m.BatchMemory(bopts)
		if err != nil {
			return nil, usageError("--slots %d --ctx %d: %v", *slots, *ctxLen, err)
		}
		logger.Info("loaded", "model", mf.name(), "slots", *slots, "batch_mib", mem>>20, "threads", mf.threadCount())
		return m, nil
	})
}

// modelName is the id a model path serves under: its file or directory
// name without a .gguf extension.
func modelName(path string) string {
	if path == "demo" {
		return path
	}
	return strings.TrimSuffix(filepath.Base(filepath.Clean(path)), ".gguf")
}
