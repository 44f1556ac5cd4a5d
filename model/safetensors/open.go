package safetensors

import (
	"fmt"

	"github.com/goformer/goformer/model/internal/mmap"
)

// Open memory-maps the safetensors file at path and parses it. Where mapping
// is unavailable the file is read into memory instead. Close the File to
// release the mapping; a failed Open releases it itself.
func Open(path string) (*File, error) {
	buf, release, err := mmap.ReadOrMap(path)
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
