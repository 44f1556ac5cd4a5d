package runtime_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADMEGoBlocksAreExamples: every Go block of the README is the body
// of an Example function here, so that it compiles and, where the example
// has an Output comment, runs and prints what it says.
func TestREADMEGoBlocksAreExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, blocks, "the README has no Go block")
	bodies := exampleBodies(t, "example_test.go")
	require.NotEmpty(t, bodies)
	for _, b := range blocks {
		assert.Contains(t, bodies, b[1], "a README Go block that is no Example's body:\n%s", b[1])
	}
}

// exampleBodies returns the body of each Example function of file, one tab
// less indented, without its Output comment: what the README copies.
func exampleBodies(t *testing.T, file string) []string {
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	var bodies []string
	for _, fn := range regexp.MustCompile(`(?ms)^func Example\w*\(\) \{\n(.*?)^\}\n`).FindAllStringSubmatch(string(src), -1) {
		var b strings.Builder
		for _, line := range strings.SplitAfter(fn[1], "\n") {
			if strings.HasPrefix(line, "\t// Output:") {
				break
			}
			b.WriteString(strings.TrimPrefix(line, "\t"))
		}
		bodies = append(bodies, b.String())
	}
	return bodies
}
