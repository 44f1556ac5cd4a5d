//go:build unix

package sidefile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRead: a regular file reads whole; a FIFO (without a writer, which
// would block a plain open forever), a device behind a symlink and a
// directory are refused at once, naming the path and what it is.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "config.json")
	require.NoError(t, os.WriteFile(ok, []byte(`{}`), 0o644))
	fifo := filepath.Join(dir, "vocab.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	zero := filepath.Join(dir, "merges.txt")
	require.NoError(t, os.Symlink("/dev/zero", zero))

	got, err := Read(ok)
	require.NoError(t, err)
	assert.Equal(t, []byte(`{}`), got)

	for path, kind := range map[string]string{fifo: "a named pipe (FIFO)", zero: "a character device", dir: "a directory"} {
		done := make(chan error, 1)
		go func() { _, err := Read(path); done <- err }()
		select {
		case err := <-done:
			require.ErrorIs(t, err, ErrNotRegular)
			assert.EqualError(t, err, path+": not a regular file: it is "+kind)
		case <-time.After(5 * time.Second):
			t.Fatalf("Read(%s) blocked", path)
		}
	}
	_, err = Read(filepath.Join(dir, "absent"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestLimit: a file over the limit is refused before it is read, naming the
// limit and how to raise it; the environment variable raises it.
func TestLimit(t *testing.T) {
	assert.Equal(t, int64(64<<20), Limit())
	t.Setenv(LimitEnv, "1")
	assert.Equal(t, int64(1<<20), Limit())
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	require.NoError(t, os.WriteFile(path, make([]byte, 1<<20+1), 0o644))
	_, err := Read(path)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.EqualError(t, err, path+": file too large: 1048577 bytes, over the 1 MiB limit (set GOFORMER_SIDE_FILE_MIB to raise it)")

	_, err = ReadFS(fstest.MapFS{"vocab.json": {Data: make([]byte, 1<<20+1)}}, "vocab.json")
	assert.ErrorIs(t, err, ErrTooLarge)
	got, err := ReadFS(fstest.MapFS{"vocab.json": {Data: []byte("{}")}}, "vocab.json")
	require.NoError(t, err)
	assert.Equal(t, []byte("{}"), got)

	_, err = io.ReadAll(LimitReader("-", bytes.NewReader(make([]byte, 1<<20+1))))
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "-: file too large: more than the 1 MiB limit")
	got, err = io.ReadAll(LimitReader("-", bytes.NewReader(make([]byte, 1<<20))))
	require.NoError(t, err)
	assert.Len(t, got, 1<<20)

	t.Setenv(LimitEnv, "x")
	assert.Equal(t, int64(DefaultLimit), Limit())
}
