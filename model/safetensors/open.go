package safetensors

import (
	"github.com/goformer/goformer/model/internal/mmap"
)

// Open memory-maps the safetensors file at path and parses it. Where mapping
// is unavailable the file is read into memory instead. Close the File to
// release the mapping; a failed Open releases it itself.
func Open(path string) (*File, error) {
	f, release, err := mmap.Parse(path, Parse)
	if err != nil {
		return nil, err
	}
	f.release = release
	return f, nil
}
