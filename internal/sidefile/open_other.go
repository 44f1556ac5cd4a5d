//go:build !unix

package sidefile

// openFlags: without O_NONBLOCK, Open relies on its stat before opening.
const openFlags = 0
