//go:build !unix

package mmap

import (
	"errors"
	"os"
)

// mapFile is unavailable here; ReadOrMap reads the file instead.
func mapFile(*os.File, int) ([]byte, func() error, error) {
	return nil, nil, errors.ErrUnsupported
}
