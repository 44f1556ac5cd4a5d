package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/goformer/goformer/model/chat"
	"github.com/goformer/goformer/model/tokenizer"
	"github.com/goformer/goformer/runtime"
)

// Config configures a Server. The zero value serves 8 slots with no queue,
// up to 4096 tokens a request, 30 s timeouts and 1 MiB bodies.
type Config struct {
	// ModelName is the model's id in /v1/models and in every response
	// (default "goformer"). Requests may name any model: there is one.
	ModelName string
	// Slots is the most requests generating at once: the sequences of the
	// batch (runtime.BatchOptions.Sequences; default 8).
	Slots int
	// Context is the positions each slot's KV cache holds, prompt and
	// completion together (runtime.BatchOptions.Capacity; 0: the model's
	// context, at most 4096 for RoPE). Memory is Slots caches of Context.
	Context int
	// MaxQueue is the most requests waiting for a slot; one more gets a
	// 429 with Retry-After. 0: none waits.
	MaxQueue int
	// MaxTokens is the most tokens a request may ask for (default 4096);
	// more is a 400 naming max_tokens.
	MaxTokens int
	// APIKey, when set, is the key every request but /health and /metrics
	// must send as "Authorization: Bearer KEY" (401 otherwise).
	APIKey string
	// Timeout bounds reading a request, each write of a response (a client
	// that stops reading a stream loses its slot), and an idle keep-alive
	// connection (default 30 s).
	Timeout time.Duration
	// DrainTimeout is how long Run waits, once told to stop, for the
	// requests in flight to finish before it ends them (default 30 s).
	DrainTimeout time.Duration
	// MaxBodyBytes is the largest request body (default 1 MiB).
	MaxBodyBytes int64
	// LogPrompts adds each request's prompt text to its log line.
	LogPrompts bool
	// ChatTemplate, when set, gives the template /v1/chat/completions
	// renders conversations with (as goformer chat --template does); its
	// error fails Start. Without it the model's own is used
	// (runtime.Model.ChatTemplate), and a model without one answers chat
	// requests with a 400.
	ChatTemplate func(*runtime.Model) (*chat.Template, error)
	// Logger gets one line per request (default slog.Default()).
	Logger *slog.Logger
}

func (c *Config) setDefaults() error {
	switch {
	case c.Slots < 0:
		return fmt.Errorf("slots %d: want at least 1", c.Slots)
	case c.Context < 0:
		return fmt.Errorf("context %d: want 0 (the model's) or more", c.Context)
	case c.MaxQueue < 0:
		return fmt.Errorf("max queue %d: want 0 or more", c.MaxQueue)
	case c.MaxTokens < 0:
		return fmt.Errorf("max tokens %d: want at least 1", c.MaxTokens)
	case c.Timeout < 0, c.DrainTimeout < 0:
		return errors.New("timeouts must not be negative")
	case c.MaxBodyBytes < 0:
		return fmt.Errorf("max body %d bytes: want at least 1", c.MaxBodyBytes)
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Slots, 8)
	def(&c.MaxTokens, 4096)
	if c.ModelName == "" {
		c.ModelName = "goformer"
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 30 * time.Second
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// Server answers the OpenAI API for one model. Its handler answers /health
// with 503 until Start gives it the model, and every request with 503 once
// it drains.
type Server struct {
	cfg      Config
	metrics  *metrics
	handler  http.Handler
	engine   atomic.Pointer[engine] // nil while loading
	draining atomic.Bool
	created  int64 // the Unix time /v1/models reports
}

// engine is what serves requests once the model is loaded.
type engine struct {
	m       *runtime.Model
	tok     *tokenizer.Tokenizer
	sched   *scheduler
	room    int          // Batch.Room: the positions a sequence holds
	chat    chatTemplate // nil: the model has none
	chatErr error        // why chat is nil
}

// New makes a server for the model Start will give it.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{cfg: cfg, metrics: newMetrics(), created: time.Now().Unix()}
	s.handler = s.routes()
	return s, nil
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Start serves m: it allocates the batch of Slots sequences of Context
// positions and starts the scheduler. m must stay open until the scheduler
// has stopped (Run returns; or Drain, then Wait).
func (s *Server) Start(m *runtime.Model) error {
	if m.Tokenizer() == nil {
		return errors.New("server: the model has no tokenizer")
	}
	e := &engine{m: m, tok: m.Tokenizer()}
	var tmpl *chat.Template
	if s.cfg.ChatTemplate != nil {
		var err error
		if tmpl, err = s.cfg.ChatTemplate(m); err != nil {
			return fmt.Errorf("server: %w", err)
		}
	} else {
		tmpl, e.chatErr = m.ChatTemplate()
	}
	if tmpl != nil {
		e.chat = modelTemplate{tmpl}
	} else {
		s.cfg.Logger.Warn("no chat template: /v1/chat/completions answers 400", "reason", fmt.Sprint(e.chatErr))
	}
	b, err := m.NewBatch(runtime.BatchOptions{Sequences: s.cfg.Slots, Capacity: s.cfg.Context})
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	e.room, e.sched = b.Room(), newScheduler(b, s.cfg.Slots, s.cfg.MaxQueue, s.metrics)
	go e.sched.run()
	if !s.engine.CompareAndSwap(nil, e) {
		e.sched.abort()
		return errors.New("server: started twice")
	}
	return nil
}

// Drain stops taking requests: /health answers 503, new requests get a 503,
// and the scheduler stops once the requests it has are done (Wait).
func (s *Server) Drain() {
	s.draining.Store(true)
	if e := s.engine.Load(); e != nil {
		e.sched.drain()
	}
}

// Abort ends every request in flight at once with an error (streams get an
// error event) and stops the scheduler.
func (s *Server) Abort() {
	s.draining.Store(true)
	if e := s.engine.Load(); e != nil {
		e.sched.abort()
	}
}

// Wait returns once the scheduler has stopped after Drain or Abort, or
// with ctx's error.
func (s *Server) Wait(ctx context.Context) error {
	e := s.engine.Load()
	if e == nil {
		return nil
	}
	select {
	case <-e.sched.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// HTTPServer is an http.Server for the handler with the timeouts of
// Config.Timeout: reading a request's headers and body, and keeping an
// idle connection. Writes are bounded one by one by the handlers, so that
// a long stream is not cut while a client that stops reading is.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.Timeout,
		ReadTimeout:       s.cfg.Timeout,
		IdleTimeout:       s.cfg.Timeout,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn),
	}
}

// Run serves on ln: it answers /health with 503 while load runs, serves
// the model load returns, and when ctx is done drains (no new requests,
// those in flight finish for up to DrainTimeout, then end with an error)
// and returns nil. The caller closes the model after Run.
func (s *Server) Run(ctx context.Context, ln net.Listener, load func(context.Context) (*runtime.Model, error)) error {
	hs := s.HTTPServer()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	m, err := load(ctx)
	if err == nil {
		err = s.Start(m)
	}
	if err != nil {
		hs.Close()
		if ctx.Err() != nil {
			return nil // stopped while loading
		}
		return err
	}
	s.cfg.Logger.Info("serving", "addr", ln.Addr().String(), "model", s.cfg.ModelName, "slots", s.cfg.Slots)
	select {
	case <-ctx.Done():
	case err := <-served:
		s.Abort()
		s.Wait(context.Background())
		return fmt.Errorf("serving on %s: %w", ln.Addr(), err)
	}
	s.cfg.Logger.Info("draining", "timeout", s.cfg.DrainTimeout.String())
	s.Drain()
	drain, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	if err := hs.Shutdown(drain); err != nil {
		s.cfg.Logger.Warn("drain timed out: ending the requests in flight", "err", err.Error())
		s.Abort()
		// The handlers write their error events and return at once.
		grace, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if hs.Shutdown(grace) != nil {
			hs.Close()
		}
	}
	s.Wait(context.Background())
	s.cfg.Logger.Info("stopped")
	return nil
}
