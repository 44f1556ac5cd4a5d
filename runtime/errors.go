package runtime

import "errors"

// ErrContextFull is returned when a sequence with absolute positions would
// grow past what the model or the session can hold (the learned position
// table or the session's capacity) and the session has no context shift.
// The wrapping error names the limit.
var ErrContextFull = errors.New("context full")

// ErrBadToken is returned for a token id outside the vocabulary.
var ErrBadToken = errors.New("token id out of range")

// ErrClosed is a session or batch used after its Model's Close.
var ErrClosed = errors.New("the model is closed")

// ErrEvicted is returned by Session.Rewind when the cache no longer holds
// the positions to keep: a RoPE session has slid past them.
var ErrEvicted = errors.New("the positions are no longer in the cache")
