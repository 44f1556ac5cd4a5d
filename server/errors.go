package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// apiError is an error as OpenAI's API returns it: an HTTP status and the
// body {"error": {"message", "type", "param", "code"}}. Param names the
// request field at fault, when one is.
type apiError struct {
	status  int
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
	// retryAfter, for a 429 or 503, is the Retry-After header in seconds.
	retryAfter int
}

func (e *apiError) Error() string { return e.Message }

// errorBody is the JSON an apiError is sent as.
type errorBody struct {
	Error *apiError `json:"error"`
}

// fieldError is a 400 about the request field param (a JSON path such as
// "stream_options.include_usage").
func fieldError(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Param: &param, Message: param + ": " + fmt.Sprintf(format, args...)}
}

// badRequest is a 400 about the request as a whole.
func badRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Code: &code, Message: fmt.Sprintf(format, args...)}
}

var (
	errUnauthorized = &apiError{status: http.StatusUnauthorized, Type: "invalid_request_error", Code: ptr("invalid_api_key"),
		Message: "missing or incorrect API key: send the server's --api-key as Authorization: Bearer KEY"}
	errQueueFull = &apiError{status: http.StatusTooManyRequests, Type: "rate_limit_error", Code: ptr("rate_limit_exceeded"), retryAfter: 1,
		Message: "every slot is busy and the queue is full: retry later"}
	errLoading = &apiError{status: http.StatusServiceUnavailable, Type: "server_error", Code: ptr("model_loading"), retryAfter: 1,
		Message: "the model is loading"}
	errDraining = &apiError{status: http.StatusServiceUnavailable, Type: "server_error", Code: ptr("shutting_down"),
		Message: "the server is shutting down"}
	errAborted = &apiError{status: http.StatusServiceUnavailable, Type: "server_error", Code: ptr("shutting_down"),
		Message: "the server shut down before the request finished"}
	errNoChatTemplate = &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Param: ptr("messages"), Code: ptr("no_chat_template"),
		Message: "messages: the model has no chat template: use /v1/completions with a prompt"}
)

// serverError is a 500 for what went wrong inside.
func serverError(err error) *apiError {
	return &apiError{status: http.StatusInternalServerError, Type: "server_error", Message: err.Error()}
}

// asAPIError is err as an apiError: itself, or a 500.
func asAPIError(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	return serverError(err)
}

func ptr[T any](v T) *T { return &v }

// writeError sends err as OpenAI does.
func writeError(w http.ResponseWriter, err error) {
	e := asAPIError(err)
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, errorBody{Error: e})
}
