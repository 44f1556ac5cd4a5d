package safetensors

import (
	"fmt"
	"io"
	"math"
	"os"
)

// Open memory-maps the safetensors file at path and parses it. Where mapping
// is unavailable the file is read into memory instead. Close the File to
// release the mapping; a failed Open releases it itself.
func Open(path string) (*File, error) {
	buf, release, err := readOrMap(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(buf)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.release = release
	return f, nil
}

// readOrMap returns the file's bytes and, when they are a mapping, the
// function that unmaps them.
func readOrMap(path string) ([]byte, func() error, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: not a regular file", path)
	}
	size := info.Size()
	if size > math.MaxInt {
		return nil, nil, fmt.Errorf("%s: %d bytes do not fit in this platform's address space", path, size)
	}
	// Mapping an empty file fails; Parse reports a short one clearly.
	if size >= 8 {
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
