//go:build !unix

package safetensors

import (
	"errors"
	"os"
)

// mapFile is unavailable here; Open reads the file instead.
func mapFile(*os.File, int) ([]byte, func() error, error) {
	return nil, nil, errors.ErrUnsupported
}
