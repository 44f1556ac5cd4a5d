package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/goformer/goformer/runtime"
)

// format renders a job's output in one endpoint's shapes.
type format interface {
	// start is the stream's first chunk, or nil: chat sends the role
	// before any content.
	start() any
	// chunk is a stream chunk of c's text and logprobs.
	chunk(c chunk) any
	// last is the stream's chunk that carries finish.
	last(finish string) any
	// usage is the stream's chunk that carries u alone
	// (stream_options.include_usage).
	usage(u usage) any
	// whole is the answer without streaming.
	whole(text string, tokens []tokenInfo, finish string, u usage) any
}

// respond submits j and answers with its output, streamed as server-sent
// events or whole. The client going away, or a write that blocks past the
// timeout (a client that stopped reading), ends the handler, which cancels
// the request's context: the scheduler then frees its slot before its next
// forward pass.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, e *engine, j *job, g *generation, f format) {
	rec := recordOf(r)
	rec.promptTokens = len(j.req.Prompt)
	if err := e.sched.submit(j); err != nil {
		s.fail(w, r, err)
		return
	}
	var (
		text   strings.Builder
		tokens []tokenInfo
		sse    *eventStream
	)
	for {
		if !j.wait(r.Context()) {
			rec.finish = "cancelled"
			return
		}
		chunks, ended := j.take()
		if len(chunks) > 0 && g.stream && sse == nil {
			sse = s.startStream(w, f)
		}
		for _, c := range chunks {
			if !g.stream {
				text.WriteString(c.text)
				tokens = append(tokens, c.tokens...)
				continue
			}
			if err := sse.send(f.chunk(c)); err != nil {
				rec.finish = "write failed"
				return
			}
		}
		if ended {
			break
		}
	}
	finish, err, u := j.result()
	rec.completionTokens, rec.finish = u.CompletionTokens, finish
	if first := j.timing(); !first.IsZero() {
		rec.ttft = first.Sub(j.arrived)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			rec.finish = "cancelled"
			return
		}
		if sse == nil {
			s.fail(w, r, jobError(err))
			return
		}
		rec.err = err.Error()
		sse.send(errorBody{Error: asAPIError(jobError(err))})
		return
	}
	if !g.stream {
		s.extendWrite(w)
		writeJSON(w, http.StatusOK, f.whole(text.String(), tokens, finish, u))
		return
	}
	if sse == nil {
		sse = s.startStream(w, f)
	}
	if sse.send(f.last(finish)) != nil {
		return
	}
	if g.includeUsage && sse.send(f.usage(u)) != nil {
		return
	}
	sse.done()
}

// jobError is the answer to a job that failed: a request the batch refused
// is the client's fault, anything else the server's.
func jobError(err error) error {
	switch {
	case errors.Is(err, runtime.ErrBadToken), errors.Is(err, runtime.ErrBadOptions):
		return badRequest("invalid_request", "%v", err)
	case errors.Is(err, runtime.ErrContextFull):
		return fieldError("prompt", "%v", err)
	}
	return err
}

// eventStream writes server-sent events: "data: JSON" and a blank line
// each, flushed at once, every write bounded by the server's timeout.
type eventStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	failed  error
}

// startStream sends the stream's headers and f's first chunk, if any.
func (s *Server) startStream(w http.ResponseWriter, f format) *eventStream {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold chunks back
	w.WriteHeader(http.StatusOK)
	es := &eventStream{w: w, rc: http.NewResponseController(w), timeout: s.cfg.Timeout}
	if first := f.start(); first != nil {
		es.send(first)
	}
	return es
}

// send writes one event; after a failed write it writes nothing more.
func (es *eventStream) send(v any) error {
	if es.failed != nil {
		return es.failed
	}
	b, err := marshal(v) // ends with a newline
	if err != nil {
		b, _ = marshal(errorBody{Error: serverError(err)})
	}
	return es.write(append(append([]byte("data: "), b...), '\n'))
}

// done ends the stream as OpenAI does.
func (es *eventStream) done() { es.write([]byte("data: [DONE]\n\n")) }

func (es *eventStream) write(b []byte) error {
	if es.failed != nil {
		return es.failed
	}
	es.rc.SetWriteDeadline(time.Now().Add(es.timeout))
	if _, err := es.w.Write(b); err != nil {
		es.failed = err
		return err
	}
	if err := es.rc.Flush(); err != nil {
		es.failed = err
	}
	return es.failed
}

// extendWrite gives the response's one write the server's timeout from
// now: a generation may have taken longer than that.
func (s *Server) extendWrite(w http.ResponseWriter) {
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
}

// fail answers with err and records it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	recordOf(r).err = err.Error()
	s.extendWrite(w)
	writeError(w, err)
}
