package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// route is one endpoint: its method and path, the name its metrics and
// logs carry, whether it needs the API key and the model.
type route struct {
	method, path, name string
	public             bool // answered without the API key
	needsModel         bool // 503 while loading or draining
	handle             func(w http.ResponseWriter, r *http.Request, e *engine)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	routes := []route{
		{"POST", "/v1/completions", "completions", false, true, s.handleCompletions},
		{"POST", "/v1/chat/completions", "chat_completions", false, true, s.handleChat},
		{"GET", "/v1/models", "models", false, false, s.handleModels},
		{"POST", "/tokenize", "tokenize", false, true, s.handleTokenize},
		{"POST", "/detokenize", "detokenize", false, true, s.handleDetokenize},
		{"GET", "/health", "health", true, false, s.handleHealth},
		{"GET", "/metrics", "metrics", true, false, func(w http.ResponseWriter, r *http.Request, _ *engine) {
			s.metrics.handler().ServeHTTP(w, r)
		}},
	}
	methods := map[string]string{}
	for _, rt := range routes {
		mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
		methods[rt.path] = rt.method
	}
	// Anything else gets OpenAI's error object, not net/http's text.
	mux.Handle("/", s.wrap(route{name: "other", public: true, handle: func(w http.ResponseWriter, r *http.Request, _ *engine) {
		if m, ok := methods[r.URL.Path]; ok {
			w.Header().Set("Allow", m)
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, Type: "invalid_request_error",
				Message: r.Method + " " + r.URL.Path + ": use " + m})
			return
		}
		writeError(w, &apiError{status: http.StatusNotFound, Type: "invalid_request_error",
			Message: "no endpoint " + r.Method + " " + r.URL.Path})
	}}))
	return mux
}

// record is what a request's log line says, filled by its handler.
type record struct {
	id                             string
	promptTokens, completionTokens int
	finish                         string
	ttft                           time.Duration
	err                            string
	prompt                         string // with Config.LogPrompts only
}

type recordKey struct{}

// recordOf is r's record (a throwaway outside wrap, as in a test).
func recordOf(r *http.Request) *record {
	if rec, ok := r.Context().Value(recordKey{}).(*record); ok {
		return rec
	}
	return &record{}
}

// statusWriter remembers the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (sw *statusWriter) WriteHeader(code int) {
	if sw.status == 0 {
		sw.status = code
	}
	sw.ResponseWriter.WriteHeader(code)
}

func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	return sw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Flush, write
// deadlines).
func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// wrap gives a route what every request gets: an id (the client's
// X-Request-Id, or a new one), a write deadline, the API key check, the
// model (or 503), its metrics, and one log line.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &record{id: requestID(r)}
		r = r.WithContext(context.WithValue(r.Context(), recordKey{}, rec))
		sw := &statusWriter{ResponseWriter: w}
		sw.Header().Set("X-Request-Id", rec.id)
		http.NewResponseController(sw).SetWriteDeadline(start.Add(s.cfg.Timeout))
		defer func() {
			elapsed := time.Since(start)
			status := sw.status
			if status == 0 {
				status = 499 // the client went away before an answer (nginx's code)
			}
			s.metrics.requests.WithLabelValues(rt.name, strconv.Itoa(status)).Inc()
			s.metrics.requestDuration.WithLabelValues(rt.name).Observe(elapsed.Seconds())
			s.log(r, rt.name, status, elapsed, rec)
		}()
		if !rt.public && !s.authorized(r) {
			sw.Header().Set("WWW-Authenticate", "Bearer")
			s.fail(sw, r, errUnauthorized)
			return
		}
		var e *engine
		if rt.needsModel {
			switch e = s.engine.Load(); {
			case s.draining.Load():
				s.fail(sw, r, errDraining)
				return
			case e == nil:
				s.fail(sw, r, errLoading)
				return
			}
		}
		rt.handle(sw, r, e)
	})
}

// authorized checks the bearer key in constant time: both sides are hashed
// first, so neither the key's bytes nor its length show in the timing.
func (s *Server) authorized(r *http.Request) bool {
	if s.cfg.APIKey == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	want := sha256.Sum256([]byte(s.cfg.APIKey))
	have := sha256.Sum256([]byte(strings.TrimSpace(got)))
	return subtle.ConstantTimeCompare(want[:], have[:]) == 1 && ok
}

// requestID is the client's X-Request-Id when it is a short token, else a
// new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 && !strings.ContainsFunc(id, func(c rune) bool { return c <= ' ' || c > '~' }) {
		return id
	}
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// log writes the request's one line: no prompt text unless LogPrompts.
func (s *Server) log(r *http.Request, endpoint string, status int, elapsed time.Duration, rec *record) {
	attrs := []slog.Attr{
		slog.String("id", rec.id),
		slog.String("method", r.Method),
		slog.String("endpoint", endpoint),
		slog.Int("status", status),
		slog.Float64("ms", float64(elapsed.Microseconds())/1000),
		slog.String("remote", r.RemoteAddr),
	}
	if rec.promptTokens > 0 || rec.completionTokens > 0 {
		attrs = append(attrs, slog.Int("prompt_tokens", rec.promptTokens), slog.Int("completion_tokens", rec.completionTokens))
	}
	if rec.ttft > 0 {
		attrs = append(attrs, slog.Float64("ttft_ms", float64(rec.ttft.Microseconds())/1000))
	}
	if rec.finish != "" {
		attrs = append(attrs, slog.String("finish", rec.finish))
	}
	if rec.err != "" {
		attrs = append(attrs, slog.String("error", rec.err))
	}
	if s.cfg.LogPrompts && rec.prompt != "" {
		attrs = append(attrs, slog.String("prompt", rec.prompt))
	}
	s.cfg.Logger.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}
