package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/model/modeltest"
)

// cliCorpusPerKind is how many cases of each format of the bad-input corpus
// TestBadInputCorpusCLI runs through the built command, spread over the
// format's cases; GOFORMER_CLI_CORPUS=all runs every case.
const cliCorpusPerKind = 6

// TestBadInputCorpusCLI runs the bad-input corpus (modeltest.BadInputs), a
// few cases of each format, through the built goformer command: run and
// score for weights, configs and GGUF files, tokenize for the tokenizer's
// files. Each ends with a non-zero status and one line on stderr naming the
// file at fault, with no panic and no goroutine trace.
func TestBadInputCorpusCLI(t *testing.T) {
	bin := goformerBinary(t)
	all := os.Getenv("GOFORMER_CLI_CORPUS") == "all"
	byKind := map[string][]modeltest.BadInput{}
	var kinds []string
	for _, c := range modeltest.BadInputs() {
		if byKind[c.Kind()] == nil {
			kinds = append(kinds, c.Kind())
		}
		byKind[c.Kind()] = append(byKind[c.Kind()], c)
	}
	ran := map[string]int{}
	for _, kind := range kinds {
		cases := byKind[kind]
		step := 1
		if !all {
			step = max(1, (len(cases)+cliCorpusPerKind-1)/cliCorpusPerKind)
		}
		for i := 0; i < len(cases); i += step {
			c := cases[i]
			var args []string
			switch {
			case kind == "vocab" || kind == "merges" || kind == "tokenizer.json":
				args = []string{"tokenize", "-m"}
			case ran[kind]%2 == 0:
				args = []string{"run", "-n", "1", "-m"}
			default:
				args = []string{"score", "-m"}
			}
			ran[kind]++
			t.Run(c.Name+" "+args[0], func(t *testing.T) {
				path, want, err := c.Write(t.TempDir())
				require.NoError(t, err)
				cmd := exec.Command(bin, append(args, path)...)
				cmd.Stdin = strings.NewReader("Hello world")
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err = cmd.Run()
				var exit *exec.ExitError
				require.ErrorAs(t, err, &exit, "a non-zero exit status")
				assert.NotZero(t, exit.ExitCode())
				msg := stderr.String()
				assert.Equal(t, 1, strings.Count(msg, "\n"), "one line: %q", msg)
				assert.True(t, strings.HasSuffix(msg, "\n"), "%q", msg)
				for _, trace := range []string{"panic:", "goroutine ", "fatal error:"} {
					assert.NotContains(t, msg, trace)
				}
				assert.Contains(t, msg, want, "names the file")
			})
		}
	}
	t.Logf("bad-input corpus through the command: %v cases", ran)
}
