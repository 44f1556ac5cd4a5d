//go:build unix

package mmap

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps size bytes of file read-only. The mapping outlives the file
// descriptor.
func mapFile(file *os.File, size int) ([]byte, func() error, error) {
	buf, err := unix.Mmap(int(file.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return buf, func() error { return unix.Munmap(buf) }, nil
}
