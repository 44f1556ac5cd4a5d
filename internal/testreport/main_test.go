package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stream is a go test -json run of three packages: one passes with a
// skip, one fails a subtest, one times out inside a test; plus a line that
// is not JSON; then a test binary's run through test2json, which ends
// with PASS alone.
const stream = `{"Action":"start","Package":"p/a"}
{"Action":"run","Package":"p/a","Test":"TestPass"}
{"Action":"output","Package":"p/a","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Action":"output","Package":"p/a","Test":"TestPass","Output":"    a_test.go:9: a log nobody needs\n"}
{"Action":"pass","Package":"p/a","Test":"TestPass"}
{"Action":"run","Package":"p/a","Test":"TestSkip"}
{"Action":"output","Package":"p/a","Test":"TestSkip","Output":"=== RUN   TestSkip\n"}
{"Action":"output","Package":"p/a","Test":"TestSkip","Output":"    a_test.go:12: skipping: GOFORMER_X is not set\n"}
{"Action":"output","Package":"p/a","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"p/a","Test":"TestSkip"}
{"Action":"output","Package":"p/a","Output":"PASS\n"}
{"Action":"output","Package":"p/a","Output":"ok  \tp/a\t0.1s\n"}
{"Action":"pass","Package":"p/a"}
{"Action":"run","Package":"p/b","Test":"TestOuter"}
{"Action":"output","Package":"p/b","Test":"TestOuter","Output":"=== RUN   TestOuter\n"}
{"Action":"run","Package":"p/b","Test":"TestOuter/x"}
{"Action":"output","Package":"p/b","Test":"TestOuter/x","Output":"    b_test.go:20: \n"}
{"Action":"output","Package":"p/b","Test":"TestOuter/x","Output":"        Error: not equal\n"}
{"Action":"output","Package":"p/b","Test":"TestOuter/x","Output":"    --- FAIL: TestOuter/x (0.00s)\n"}
{"Action":"fail","Package":"p/b","Test":"TestOuter/x"}
{"Action":"output","Package":"p/b","Test":"TestOuter","Output":"--- FAIL: TestOuter (0.00s)\n"}
{"Action":"fail","Package":"p/b","Test":"TestOuter"}
{"Action":"output","Package":"p/b","Output":"FAIL\n"}
{"Action":"output","Package":"p/b","Output":"FAIL\tp/b\t0.2s\n"}
{"Action":"fail","Package":"p/b"}
not json: a line from the build
{"Action":"run","Package":"p/c","Test":"TestHangs"}
{"Action":"output","Package":"p/c","Test":"TestHangs","Output":"=== RUN   TestHangs\n"}
{"Action":"output","Package":"p/c","Test":"TestHangs","Output":"panic: test timed out after 1s\n"}
{"Action":"output","Package":"p/c","Output":"FAIL\tp/c\t1.0s\n"}
{"Action":"fail","Package":"p/c"}
{"Action":"run","Package":"d","Test":"TestBinary"}
{"Action":"pass","Package":"d","Test":"TestBinary"}
{"Action":"output","Package":"d","Output":"PASS\n"}
{"Action":"pass","Package":"d","Elapsed":2.5}
`

func TestRead(t *testing.T) {
	r := newRun("native")
	var out strings.Builder
	failed, err := r.read(strings.NewReader(stream), &out)
	require.NoError(t, err)
	assert.True(t, failed)
	assert.Equal(t, `ok  	p/a	0.1s
    b_test.go:20: 
        Error: not equal
    --- FAIL: TestOuter/x (0.00s)
=== RUN   TestOuter
--- FAIL: TestOuter (0.00s)
FAIL
FAIL	p/b	0.2s
not json: a line from the build
FAIL	p/c	1.0s
=== RUN   TestHangs
panic: test timed out after 1s
ok  	d	2.500s
`, out.String())
	assert.Equal(t, []skip{{Label: "native", Package: "p/a", Test: "TestSkip", Reason: "skipping: GOFORMER_X is not set"}}, r.skips)

	r = newRun("")
	failed, err = r.read(strings.NewReader(strings.SplitAfter(stream, `"Action":"pass","Package":"p/a"}`+"\n")[0]), &out)
	require.NoError(t, err)
	assert.False(t, failed, "a skip is no failure")
}

// TestSummary: skips appended by several runs are summed up by run,
// package and reason.
func TestSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skips")
	require.NoError(t, appendSkips(path, []skip{
		{"native", "github.com/goformer/goformer/runtime", "TestA", "no llama.cpp"},
		{"native", "github.com/goformer/goformer/runtime", "TestB", "no llama.cpp"},
	}))
	var reasons []skip
	for i := range 5 {
		reasons = append(reasons, skip{"purego", "github.com/goformer/goformer/runtime", "TestV/" + string(rune('a'+i)), "heavy: skipped under -short"})
	}
	require.NoError(t, appendSkips(path, reasons))
	all, err := readSkips(path)
	require.NoError(t, err)
	var out strings.Builder
	summarize(&out, all)
	assert.Equal(t, `
skipped: 7 tests, for these reasons:
  native  runtime  2: no llama.cpp (TestA, TestB)
  purego  runtime  5: heavy: skipped under -short (TestV/a, TestV/b, TestV/c, +2 more)
`, out.String())

	none, err := readSkips(filepath.Join(t.TempDir(), "absent"))
	require.NoError(t, err)
	assert.Empty(t, none)
}
