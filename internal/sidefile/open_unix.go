//go:build unix

package sidefile

import "syscall"

// openFlags makes opening a FIFO return at once instead of waiting for a
// writer; it changes nothing for a regular file.
const openFlags = syscall.O_NONBLOCK
