// Package sidefile reads the small files that come with a model (config.json,
// generation_config.json, vocab.json, merges.txt, tokenizer.json, a shard
// index) and the prompt lists the command reads: only regular files, opened
// so that a FIFO never blocks, and never more than Limit bytes, so that a
// symlink to /dev/zero or a stray 10 GB file is one clear error instead of
// a hang or an out-of-memory crash. It must import nothing of goformer's:
// every loader and the command use it.
package sidefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// DefaultLimit is the largest side file read, 64 MiB: real tokenizer.json
// files are up to about 35 MB (Gemma's), merges.txt and vocab.json a few MB.
const DefaultLimit = 64 << 20

// LimitEnv names the environment variable that replaces DefaultLimit, in
// MiB, for a model whose side files are larger.
const LimitEnv = "GOFORMER_SIDE_FILE_MIB"

// ErrNotRegular marks a path that is a FIFO, a device, a socket or a
// directory where a file was expected.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge marks a file over the limit.
var ErrTooLarge = errors.New("file too large")

// Limit is the largest side file read: DefaultLimit, or LimitEnv's MiB when
// it is set to a positive integer.
func Limit() int64 {
	if s := os.Getenv(LimitEnv); s != "" {
		if mib, err := strconv.ParseInt(s, 10, 64); err == nil && mib > 0 && mib < 1<<43 {
			return mib << 20
		}
	}
	return DefaultLimit
}

// Open opens the regular file at path for reading. It never blocks: a FIFO
// is opened without waiting for a writer (O_NONBLOCK where the platform has
// it) and then refused, like every other kind of file that is not regular.
func Open(path string) (*os.File, fs.FileInfo, error) {
	if info, err := os.Stat(path); err != nil {
		return nil, nil, err
	} else if err := checkRegular(path, info); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	// The path may have changed between the two looks: trust the descriptor.
	info, err := f.Stat()
	if err == nil {
		err = checkRegular(path, info)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// Read reads the regular file at path, of at most Limit bytes.
func Read(path string) ([]byte, error) {
	f, info, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(path, f, info.Size())
}

// ReadFS is Read for a file of fsys.
func ReadFS(fsys fs.FS, name string) ([]byte, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := checkRegular(name, info); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(name, f, info.Size())
}

// LimitReader returns r cut at Limit bytes: reading past them is an
// ErrTooLarge error naming name. For standard input, which has no size.
func LimitReader(name string, r io.Reader) io.Reader {
	limit := Limit()
	return &limitReader{name: name, r: io.LimitReader(r, limit+1), left: limit}
}

type limitReader struct {
	name string
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		return int(l.left), tooLarge(l.name, -1)
	}
	l.left -= int64(n)
	return n, err
}

// CheckSize refuses a file of size bytes over the limit, naming it.
func CheckSize(name string, size int64) error {
	if size > Limit() {
		return tooLarge(name, size)
	}
	return nil
}

func readAll(name string, r io.Reader, size int64) ([]byte, error) {
	if err := CheckSize(name, size); err != nil {
		return nil, err
	}
	limit := Limit()
	// The file may grow while it is read: never take more than the limit.
	buf, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(buf)) > limit {
		return nil, tooLarge(name, -1)
	}
	return buf, nil
}

// tooLarge is the error for a file of size bytes (-1: unknown, more than
// the limit).
func tooLarge(name string, size int64) error {
	what := "more than"
	if size >= 0 {
		what = fmt.Sprintf("%d bytes, over", size)
	}
	return fmt.Errorf("%s: %w: %s the %d MiB limit (set %s to raise it)",
		name, ErrTooLarge, what, Limit()>>20, LimitEnv)
}

// checkRegular refuses anything but a regular file, saying what it is.
func checkRegular(name string, info fs.FileInfo) error {
	m := info.Mode()
	if m.IsRegular() {
		return nil
	}
	kind := "a special file"
	switch {
	case m.IsDir():
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	}
	return fmt.Errorf("%s: %w: it is %s", name, ErrNotRegular, kind)
}
