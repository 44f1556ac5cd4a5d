// Command testreport shows `go test -json` as plain `go test` does and
// says at the end what skipped and why, so that a run without the
// fixtures, llama.cpp or a native tool says which comparisons did not run.
// `make test` pipes every go test run through it:
//
//	go test -json ./... | go run ./internal/testreport -label native
//
// It prints a package's lines (ok, FAIL, build errors) as they come, a
// failed test's whole output (its logs, the --- FAIL line) when it ends,
// and the output of tests still running when their package fails (a
// timeout, a panic). A passed or skipped test's output is dropped; a
// skipped test's log lines are its reason. The exit status is 1 when a test
// or package failed. Lines that are not JSON pass through unchanged.
//
// With -skips FILE it appends the skips to FILE (one JSON object a line)
// instead of printing them, and `-report FILE` prints the summary of every
// run that appended to FILE: how make test sums up its runs at the end.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// event is one line of go test -json (cmd/test2json's TestEvent).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string  // build-output events name the package here
	Elapsed    float64 // seconds, in pass and fail events
}

// skip is one skipped test and the reason its log gave.
type skip struct {
	Label   string `json:"label,omitempty"`
	Package string `json:"package"`
	Test    string `json:"test"`
	Reason  string `json:"reason"`
}

func main() {
	label := flag.String("label", "", "the run's name in the summary (native, race, purego, ...)")
	skips := flag.String("skips", "", "append the skips to FILE instead of printing them")
	report := flag.String("report", "", "print the summary of the skips appended to FILE, and nothing else")
	flag.Parse()
	if *report != "" {
		all, err := readSkips(*report)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(1)
		}
		summarize(os.Stdout, all)
		return
	}
	r := newRun(*label)
	failed, err := r.read(os.Stdin, os.Stdout)
	if err == nil {
		if *skips != "" {
			err = appendSkips(*skips, r.skips)
		} else {
			summarize(os.Stdout, r.skips)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// run is the state of one go test -json stream: each running test's
// output so far, and the skips seen.
type run struct {
	label   string
	pending map[string][]string // package + "\x00" + test → output lines
	said    map[string]bool     // packages whose ok or FAIL line go test printed
	order   []string            // pending's keys in the order the tests started
	skips   []skip
}

func newRun(label string) *run {
	return &run{label: label, pending: map[string][]string{}, said: map[string]bool{}}
}

// read copies the stream from in to out as described in the package doc,
// and reports whether anything failed.
func (r *run) read(in io.Reader, out io.Writer) (failed bool, err error) {
	w := bufio.NewWriter(out)
	defer w.Flush()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
			w.Write(line)
			w.WriteByte('\n')
			continue
		}
		if r.handle(e, w) {
			failed = true
		}
		// A failure shows as soon as it happens, not when the buffer fills.
		if e.Action == "fail" || e.Test == "" {
			w.Flush()
		}
	}
	return failed, sc.Err()
}

// handle applies one event and reports whether it is a failure.
func (r *run) handle(e event, w io.Writer) bool {
	switch {
	case e.Action == "build-output":
		io.WriteString(w, e.Output)
		return false
	case e.Action == "build-fail":
		return true
	case e.Test == "":
		if e.Action == "output" && e.Output != "PASS\n" {
			io.WriteString(w, e.Output)
			if strings.HasPrefix(e.Output, "ok  \t") || strings.HasPrefix(e.Output, "FAIL\t") {
				r.said[e.Package] = true
			}
		}
		// A test binary run through test2json (the emulated tiers) ends
		// with PASS or FAIL alone: say the package's line go test would.
		if (e.Action == "pass" || e.Action == "fail") && !r.said[e.Package] {
			status := map[bool]string{true: "ok  ", false: "FAIL"}[e.Action == "pass"]
			if e.Elapsed > 0 {
				fmt.Fprintf(w, "%s\t%s\t%.3fs\n", status, e.Package, e.Elapsed)
			} else {
				fmt.Fprintf(w, "%s\t%s\n", status, e.Package)
			}
		}
		if e.Action == "fail" {
			// Tests that never ended (a timeout, a panic) show what they
			// printed: the panic's stack is in their output.
			for _, k := range r.order {
				if pkg, _, _ := strings.Cut(k, "\x00"); pkg == e.Package {
					r.flush(k, w)
				}
			}
			return true
		}
		return false
	}
	k := e.Package + "\x00" + e.Test
	switch e.Action {
	case "run":
		if _, ok := r.pending[k]; !ok {
			r.order = append(r.order, k)
		}
		r.pending[k] = r.pending[k][:0]
	case "output":
		r.pending[k] = append(r.pending[k], e.Output)
	case "fail":
		r.flush(k, w)
		return true
	case "skip":
		r.skips = append(r.skips, skip{Label: r.label, Package: e.Package, Test: e.Test, Reason: reason(r.pending[k])})
		r.drop(k)
	case "pass":
		r.drop(k)
	}
	return false
}

func (r *run) flush(k string, w io.Writer) {
	for _, s := range r.pending[k] {
		io.WriteString(w, s)
	}
	r.drop(k)
}

func (r *run) drop(k string) {
	delete(r.pending, k)
	if i := slices.Index(r.order, k); i >= 0 {
		r.order = slices.Delete(r.order, i, i+1)
	}
}

// logPrefix is what testing puts before a logged line: indentation and
// file:line.
var logPrefix = regexp.MustCompile(`^\s*[\w.-]+\.go:\d+: `)

// reason is a skipped test's log without the framing lines and the
// file:line prefixes, on one line.
func reason(lines []string) string {
	var parts []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		parts = append(parts, logPrefix.ReplaceAllString(strings.TrimRight(l, "\n"), ""))
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

func appendSkips(path string, skips []skip) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, s := range skips {
		if err := enc.Encode(s); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func readSkips(path string) ([]skip, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil // no run skipped anything
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var skips []skip
	dec := json.NewDecoder(f)
	for {
		var s skip
		if err := dec.Decode(&s); err == io.EOF {
			return skips, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		skips = append(skips, s)
	}
}

// summarize prints the skips grouped by run, package and reason, each
// group with its count and first tests, e.g.
//
//	skipped: 14 tests
//	  native  runtime  3: skipping: GOFORMER_LLAMACPP is not set (TestLlamaCppAgreement, TestX, TestY)
func summarize(w io.Writer, skips []skip) {
	if len(skips) == 0 {
		return
	}
	type group struct {
		skip
		tests []string
	}
	var groups []*group
	index := map[skip]*group{}
	for _, s := range skips {
		k := s
		k.Test = ""
		g := index[k]
		if g == nil {
			g = &group{skip: k}
			index[k] = g
			groups = append(groups, g)
		}
		g.tests = append(g.tests, s.Test)
	}
	slices.SortStableFunc(groups, func(a, b *group) int {
		return cmp.Or(cmp.Compare(a.Label, b.Label), cmp.Compare(a.Package, b.Package))
	})
	fmt.Fprintf(w, "\nskipped: %d %s, for these reasons:\n", len(skips), map[bool]string{true: "test", false: "tests"}[len(skips) == 1])
	for _, g := range groups {
		tests := g.tests
		more := ""
		if len(tests) > 3 {
			more = fmt.Sprintf(", +%d more", len(tests)-3)
			tests = tests[:3]
		}
		label := ""
		if g.Label != "" {
			label = g.Label + "  "
		}
		fmt.Fprintf(w, "  %s%s  %d: %s (%s%s)\n", label, strings.TrimPrefix(g.Package, "github.com/goformer/goformer/"),
			len(g.tests), g.Reason, strings.Join(tests, ", "), more)
	}
}
