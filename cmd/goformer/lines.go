package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/goformer/goformer/internal/sidefile"
)

// jsonLines are the texts of a file of JSON strings and the line each came
// from, so that a result's error can name its line.
type jsonLines struct {
	texts []string
	lines []int
}

// readJSONLines reads a file of one JSON string per line (blank lines are
// skipped), as run --prompts and score --lines take it; "-" is standard
// input. A named file must be a regular file; either is read up to
// sidefile.Limit bytes. A line that is not a JSON string is an error naming the file and
// line. It returns ctx's error as soon as ctx is done, even while the read
// blocks.
func readJSONLines(ctx context.Context, name string, stdin io.Reader) (jsonLines, error) {
	return interruptible(ctx, func() (jsonLines, error) { return scanJSONLines(name, stdin) }, nil)
}

// scanJSONLines is readJSONLines without the context.
func scanJSONLines(name string, stdin io.Reader) (jsonLines, error) {
	r := stdin
	if name != "-" {
		f, info, err := sidefile.Open(name)
		if err != nil {
			return jsonLines{}, err
		}
		if err := sidefile.CheckSize(name, info.Size()); err != nil {
			f.Close()
			return jsonLines{}, err
		}
		defer f.Close()
		r = f
	}
	// A file of prompts is held in memory whole: no more than a side file.
	r = sidefile.LimitReader(name, r)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), int(sidefile.Limit())+1)
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
	if err := sc.Err(); errors.Is(err, sidefile.ErrTooLarge) {
		return jsonLines{}, err
	} else if err != nil {
		return jsonLines{}, fmt.Errorf("reading %s: %w", name, err)
	}
	return out, nil
}
