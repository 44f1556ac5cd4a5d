package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// jsonLines are the texts of a file of JSON strings and the line each came
// from, so that a result's error can name its line.
type jsonLines struct {
	texts []string
	lines []int
}

// readJSONLines reads a file of one JSON string per line (blank lines are
// skipped), as run --prompts and score --lines take it; "-" is standard
// input. A line that is not a JSON string is an error naming the file and
// line. It returns ctx's error as soon as ctx is done, even while the read
// blocks.
func readJSONLines(ctx context.Context, name string, stdin io.Reader) (jsonLines, error) {
	return interruptible(ctx, func() (jsonLines, error) { return scanJSONLines(name, stdin) }, nil)
}

// scanJSONLines is readJSONLines without the context.
func scanJSONLines(name string, stdin io.Reader) (jsonLines, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return jsonLines{}, err
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<30)
	var out jsonLines
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var s string
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			return jsonLines{}, fmt.Errorf("%s:%d: want one JSON string per line: %v", name, n, err)
		}
		out.texts = append(out.texts, s)
		out.lines = append(out.lines, n)
	}
	if err := sc.Err(); err != nil {
		return jsonLines{}, fmt.Errorf("reading %s: %w", name, err)
	}
	return out, nil
}
