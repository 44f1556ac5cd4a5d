package runtime

import "errors"

// ErrContextFull is returned when a sequence would grow past what the model
// or the session can hold: past the learned position table, or past the
// session's capacity. The wrapping error names the limit.
var ErrContextFull = errors.New("context full")

// ErrBadToken is returned for a token id outside the vocabulary.
var ErrBadToken = errors.New("token id out of range")
