// Package mmap gives the checkpoint loaders a file's bytes: memory-mapped
// read-only where the platform allows, read into memory otherwise.
package mmap

import (
	"fmt"
	"io"
	"math"

	"github.com/goformer/goformer/internal/sidefile"
)

// ReadOrMap returns the bytes of the regular file at path and, when they are
// a mapping, the function that unmaps them (nil when they were read). The
// mapping outlives the file descriptor; writing to it faults.
func ReadOrMap(path string) ([]byte, func() error, error) {
	// sidefile.Open never blocks on a FIFO, and refuses it.
	file, info, err := sidefile.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer file.Close()
	size := info.Size()
	if size > math.MaxInt {
		return nil, nil, fmt.Errorf("%s: %d bytes do not fit in this platform's address space", path, size)
	}
	// Mapping an empty file fails; the parsers report a short one clearly.
	if size > 0 {
		if buf, release, err := mapFile(file, int(size)); err == nil {
			return buf, release, nil
		}
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(file, buf); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return buf, nil, nil
}

// Parse maps (or reads) the file at path and hands its bytes to parse. When
// parse fails, the mapping is released and the error names path; otherwise
// the caller owns the mapping and calls release (nil when nothing was
// mapped) once it is done with the bytes.
func Parse[T any](path string, parse func([]byte) (T, error)) (v T, release func() error, err error) {
	buf, release, err := ReadOrMap(path)
	if err != nil {
		return v, nil, err
	}
	if v, err = parse(buf); err != nil {
		if release != nil {
			release()
		}
		return v, nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, release, nil
}
