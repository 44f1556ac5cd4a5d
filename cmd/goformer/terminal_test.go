package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIsTerminal: a pseudo-terminal is one; a pipe, /dev/null and a
// reader that is no file are not, so run only says it reads standard input
// when a person would be typing it.
func TestIsTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	assert.False(t, isTerminal(r))
	assert.False(t, isTerminal(strings.NewReader("")))
	null, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer null.Close()
	assert.False(t, isTerminal(null))
	pty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("skipping the terminal case: no /dev/ptmx (%v)", err)
	}
	defer pty.Close()
	assert.True(t, isTerminal(pty))
}
