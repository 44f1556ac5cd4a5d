//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demoWith is a copy of the demo checkpoint (symlinks to its files) in
// which file name is replaced by what make leaves at the path it is given.
func demoWith(t *testing.T, name string, make func(path string)) string {
	dir := t.TempDir()
	demo, err := filepath.Abs(filepath.Join("..", "..", "model", "demo"))
	require.NoError(t, err)
	for _, f := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt"} {
		if f != name {
			require.NoError(t, os.Symlink(filepath.Join(demo, f), filepath.Join(dir, f)))
		}
	}
	make(filepath.Join(dir, name))
	return dir
}

func mkfifo(t *testing.T) func(string) {
	return func(path string) { fifo(t, path) }
}

// TestSideFilesMustBeRegular: a FIFO among a checkpoint's files or as the
// --prompts file, which used to block open() forever, and a file over the
// side-file limit, which used to be read whole whatever its size, each end
// the command at once with one line naming the file and the fault.
func TestSideFilesMustBeRegular(t *testing.T) {
	t.Setenv("GOFORMER_SIDE_FILE_MIB", "1")
	big := func(path string) { require.NoError(t, os.WriteFile(path, make([]byte, 1<<20+1), 0o644)) }
	fifoPrompts := filepath.Join(t.TempDir(), "prompts.jsonl")
	mkfifo(t)(fifoPrompts)
	bigLines := filepath.Join(t.TempDir(), "lines.jsonl")
	require.NoError(t, os.WriteFile(bigLines, []byte(strings.Repeat(`"a"`+"\n", 300_000)), 0o644))

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"config FIFO", []string{"run", "-m", demoWith(t, "config.json", mkfifo(t)), "-n", "1", "Hi"}, "config.json: not a regular file: it is a named pipe (FIFO)"},
		{"vocab FIFO", []string{"tokenize", "-m", demoWith(t, "vocab.json", mkfifo(t))}, "vocab.json: not a regular file: it is a named pipe (FIFO)"},
		{"merges FIFO", []string{"run", "-m", demoWith(t, "merges.txt", mkfifo(t)), "-n", "1", "Hi"}, "merges.txt: not a regular file: it is a named pipe (FIFO)"},
		{"weights FIFO", []string{"run", "-m", demoWith(t, "model.safetensors", mkfifo(t)), "-n", "1", "Hi"}, "model.safetensors: not a regular file: it is a named pipe (FIFO)"},
		{"prompts FIFO", []string{"run", "--json", "--prompts", fifoPrompts}, "prompts.jsonl: not a regular file: it is a named pipe (FIFO)"},
		{"big vocab", []string{"tokenize", "-m", demoWith(t, "vocab.json", big)}, "vocab.json: file too large: 1048577 bytes, over the 1 MiB limit"},
		{"big config", []string{"score", "-m", demoWith(t, "config.json", big)}, "config.json: file too large: 1048577 bytes, over the 1 MiB limit"},
		{"big lines", []string{"score", "--lines", bigLines}, "lines.jsonl: file too large: 1200000 bytes, over the 1 MiB limit"},
		{"big stdin lines", []string{"score", "--lines", "-"}, "-: file too large: more than the 1 MiB limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			type result struct {
				code           int
				stdout, stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, out, errOut := runCLI(strings.Repeat(`"a"`+"\n", 300_000), c.args...)
				done <- result{code, out, errOut}
			}()
			select {
			case r := <-done:
				assert.Equal(t, 1, r.code)
				assert.Empty(t, r.stdout)
				assert.Contains(t, r.stderr, c.want)
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			case <-time.After(20 * time.Second):
				t.Fatal("the command blocked")
			}
		})
	}
}
