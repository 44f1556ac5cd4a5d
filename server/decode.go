package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// decodeBody reads r's JSON body into v, at most limit bytes. Its errors
// are 400s saying what is wrong and where: a body over the limit, malformed
// JSON (with the byte offset), a field of the wrong type (naming the field),
// anything after the object. Fields the server does not know are ignored,
// as OpenAI clients send some (user, metadata) that change nothing here.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return badRequest("request_too_large", "the request body is over %d bytes (the server's --max-body)", tooBig.Limit)
	case err != nil:
		return badRequest("bad_body", "reading the request body: %v", err)
	case len(bytes.TrimSpace(body)) == 0:
		return badRequest("invalid_json", "the request body is empty: want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return badRequest("invalid_json", "the request body has more after its JSON object, at byte %d", dec.InputOffset())
	}
	return nil
}

// jsonError turns a decoding error into a 400 naming the field or the
// place.
func jsonError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		field  *apiError
	)
	switch {
	case errors.As(err, &field):
		return field
	case errors.As(err, &syntax):
		return badRequest("invalid_json", "malformed JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("invalid_json", "the request body is a JSON %s: want an object", typ.Value)
		}
		// The shared fields' struct is embedded: its name is no part of
		// the JSON.
		field := strings.TrimPrefix(typ.Field, "samplingParams.")
		return fieldError(field, "want %s, got a JSON %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("invalid_json", "malformed JSON: the body ends inside its object")
	}
	return badRequest("invalid_json", "malformed JSON: %v", err)
}

// jsonKind names a Go kind as JSON would.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "another type"
}

// stopList is OpenAI's stop: a string or an array of strings.
type stopList []string

func (s *stopList) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stopList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fieldError("stop", "want a string or an array of strings")
	}
	*s = many
	return nil
}

// promptInput is a completion's prompt: a string, an array of token ids,
// or an array holding one of those (OpenAI's batch form, of one prompt).
type promptInput struct {
	text   string
	ids    []int
	isIDs  bool
	number int // prompts in a batch form: anything but 1 is refused
}

func (p *promptInput) UnmarshalJSON(b []byte) error {
	*p = promptInput{number: 1}
	if string(b) == "null" {
		return nil
	}
	if err := json.Unmarshal(b, &p.text); err == nil {
		return nil
	}
	if err := json.Unmarshal(b, &p.ids); err == nil {
		p.isIDs = true
		return nil
	}
	var texts []string
	if err := json.Unmarshal(b, &texts); err == nil {
		if p.number = len(texts); p.number == 1 {
			p.text = texts[0]
		}
		return nil
	}
	var idLists [][]int
	if err := json.Unmarshal(b, &idLists); err == nil {
		if p.number = len(idLists); p.number == 1 {
			p.ids, p.isIDs = idLists[0], true
		}
		return nil
	}
	return fieldError("prompt", "want a string, an array of token ids, or an array of one of those")
}

// seedValue is a seed: any integer of int64 or uint64, as `goformer run
// --json` reports seeds up to 2^64-1 and OpenAI's are signed.
type seedValue uint64

func (s *seedValue) UnmarshalJSON(b []byte) error {
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		*s = seedValue(v)
		return nil
	}
	if v, err := strconv.ParseUint(string(b), 10, 64); err == nil {
		*s = seedValue(v)
		return nil
	}
	return fieldError("seed", "want an integer of 64 bits, got %s", truncate(string(b), 40))
}

// truncate cuts s to at most n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = marshal(errorBody{Error: serverError(fmt.Errorf("the response cannot be written as JSON: %w", err))})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// marshal is v as JSON and a newline, with <, > and & as they are: the
// text of tokens such as <|endoftext|> reads as itself.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}
