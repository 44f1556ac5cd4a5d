//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// goformerBinary builds the goformer command once per test run.
func goformerBinary(t *testing.T) string {
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "goformer-bin")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "goformer")
		out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput()
		if err != nil {
			binaryErr = errors.New(string(out))
		}
	})
	require.NoError(t, binaryErr, "go build")
	return binaryPath
}

// served is a goformer serve process on 127.0.0.1.
type served struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stderr strings.Builder
}

func (s *served) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

var listeningLine = regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:\d+)`)

// startServe runs goformer serve on a free port of 127.0.0.1 and waits for
// its /health to answer 200. The process is killed if the test leaves it
// running.
func startServe(t *testing.T, args ...string) *served {
	cmd := exec.Command(goformerBinary(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--threads", "1"}, args...)...)
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	s := &served{cmd: cmd}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case <-time.After(20 * time.Second):
		t.Fatalf("goformer serve never said where it listens: %s", s.log())
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.url + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health never answered 200: %s", s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its status.
func (s *served) wait(t *testing.T) int {
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		require.NoError(t, err)
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("goformer serve did not exit: %s", s.log())
		return -1
	}
}

// sseEvents reads a stream's events after the first: each "data:" JSON,
// and whether [DONE] came.
func sseEvents(t *testing.T, r io.Reader) (events []map[string]any, done bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		switch {
		case !ok:
		case data == "[DONE]":
			done = true
		default:
			var ev map[string]any
			require.NoError(t, json.Unmarshal([]byte(data), &ev))
			events = append(events, ev)
		}
	}
	return events, done
}

// TestServeDrainsOnSIGTERM: the real binary, signalled while it streams,
// stops taking connections, finishes the stream and exits 0; with a short
// --drain-timeout, SIGINT ends the stream with a clean error event instead,
// and the exit status is 0 too.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	for _, c := range []struct {
		name   string
		sig    syscall.Signal
		args   []string
		finish bool
	}{
		{"SIGTERM finishes the stream", syscall.SIGTERM, nil, true},
		{"SIGINT past the drain timeout", syscall.SIGINT, []string{"--drain-timeout", "50ms"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := startServe(t, append([]string{"--slots", "2"}, c.args...)...)
			body := `{"prompt": "The", "max_tokens": 250, "ignore_eos": true, "temperature": 0, "stream": true}`
			resp, err := http.Post(s.url+"/v1/completions", "application/json", strings.NewReader(body))
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			br := bufio.NewReader(resp.Body)
			_, err = br.ReadString('\n') // the first token is out
			require.NoError(t, err)
			require.NoError(t, s.cmd.Process.Signal(c.sig))
			events, done := sseEvents(t, br)
			require.NotEmpty(t, events)
			last := events[len(events)-1]
			if c.finish {
				assert.True(t, done, "the stream ends with [DONE]")
				assert.Equal(t, "length", last["choices"].([]any)[0].(map[string]any)["finish_reason"])
			} else {
				e, ok := last["error"].(map[string]any)
				require.True(t, ok, "an error event: %v", last)
				assert.Equal(t, "shutting_down", e["code"])
			}
			assert.Equal(t, 0, s.wait(t), "exit status: %s", s.log())
			assert.Contains(t, s.log(), "msg=draining")
			assert.Contains(t, s.log(), "msg=stopped")
			_, err = http.Get(s.url + "/health")
			assert.Error(t, err, "nothing listens after the exit")
		})
	}
}

// TestServeFlags: bad flags are usage errors (status 2).
func TestServeFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--slots", "0"},
		{"serve", "--max-tokens", "0"},
		{"serve", "--timeout", "0s"},
		{"serve", "extra"},
	} {
		code, _, errOut := runInterrupted(t, t.Context(), nil, args...)
		assert.Equal(t, 2, code, "%v: %s", args, errOut)
	}
	code, out, _ := runInterrupted(t, t.Context(), nil, "serve", "-h")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "--api-key")
	assert.Equal(t, "demo", modelName("demo"))
	assert.Equal(t, "smollm2-135m", modelName("/tmp/bench-models/smollm2-135m/"))
	assert.Equal(t, "model-q8_0", modelName("dir/model-q8_0.gguf"))
}
