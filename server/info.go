package server

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"
)

// handleHealth is GET /health: 200 {"status": "ok"} once the model is
// loaded, a 503 error while it loads or the server drains (llama-server's
// answers), so that a load balancer sends requests only where they can
// run.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request, _ *engine) {
	switch {
	case s.draining.Load():
		writeError(w, errDraining)
	case s.engine.Load() == nil:
		writeError(w, errLoading)
	default:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}

// handleModels is GET /v1/models: the one model, with llama-server's meta.
func (s *Server) handleModels(w http.ResponseWriter, r *http.Request, _ *engine) {
	card := modelCard{ID: s.cfg.ModelName, Object: "model", Created: s.created, OwnedBy: "goformer", Meta: modelMeta{Slots: s.cfg.Slots}}
	if e := s.engine.Load(); e != nil {
		c := e.m.Config()
		card.Meta.VocabSize, card.Meta.TrainedCtx, card.Meta.Embedding = c.VocabSize, c.NPositions, c.NEmbd
		card.Meta.Context = e.sched.batch.Capacity()
	}
	writeJSON(w, http.StatusOK, modelList{Object: "list", Data: []modelCard{card}})
}

// tokenizeRequest is llama-server's POST /tokenize body.
type tokenizeRequest struct {
	Content      *string `json:"content"`
	AddSpecial   bool    `json:"add_special"`
	ParseSpecial *bool   `json:"parse_special"`
	WithPieces   bool    `json:"with_pieces"`
}

// tokenPiece is a token with its text: a string when it is valid UTF-8,
// else its bytes.
type tokenPiece struct {
	ID    int `json:"id"`
	Piece any `json:"piece"`
}

// handleTokenize is POST /tokenize: the ids of content, with BOS (and EOS)
// where the model adds them when add_special, special tokens' text as
// their ids unless parse_special is false, and each token's text when
// with_pieces.
func (s *Server) handleTokenize(w http.ResponseWriter, r *http.Request, e *engine) {
	var req tokenizeRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Content == nil {
		s.fail(w, r, fieldError("content", "required: the text to tokenize"))
		return
	}
	var ids []int
	if req.ParseSpecial == nil || *req.ParseSpecial {
		ids = e.tok.EncodeSpecial(*req.Content)
	} else {
		ids = e.tok.Encode(*req.Content)
	}
	if req.AddSpecial {
		if bos, ok := e.tok.AddsBOS(); ok {
			ids = append([]int{bos}, ids...)
		}
		if eos, ok := e.tok.AddsEOS(); ok {
			ids = append(ids, eos)
		}
	}
	if !req.WithPieces {
		writeJSON(w, http.StatusOK, map[string][]int{"tokens": ids})
		return
	}
	pieces := make([]tokenPiece, len(ids))
	for i, id := range ids {
		b, _ := e.tok.Token(id) // the tokenizer's own ids
		pieces[i] = tokenPiece{ID: id, Piece: string(b)}
		if !utf8.Valid(b) {
			pieces[i].Piece = byteValues(string(b))
		}
	}
	writeJSON(w, http.StatusOK, map[string][]tokenPiece{"tokens": pieces})
}

// handleDetokenize is POST /detokenize: {"tokens": [ids]} to {"content":
// text}.
func (s *Server) handleDetokenize(w http.ResponseWriter, r *http.Request, e *engine) {
	var req struct {
		Tokens json.RawMessage `json:"tokens"`
	}
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	var ids []int
	if len(req.Tokens) == 0 {
		s.fail(w, r, fieldError("tokens", "required: the token ids to turn into text"))
		return
	}
	if err := json.Unmarshal(req.Tokens, &ids); err != nil {
		s.fail(w, r, fieldError("tokens", "want an array of token ids"))
		return
	}
	if err := checkIDs("tokens", ids, e.tok.VocabSize()); err != nil {
		s.fail(w, r, err)
		return
	}
	text, err := e.tok.Decode(ids)
	if err != nil {
		s.fail(w, r, fieldError("tokens", "%v", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"content": text})
}
