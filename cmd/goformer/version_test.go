package main

import (
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/goformer/goformer/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVersion: goformer version and goformer --version print the module
// version, the Go version, the kernel tier and the CPU, on standard
// output, and exit 0.
func TestVersion(t *testing.T) {
	code, out, errOut := runCLI("", "version")
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 4, out)
	assert.True(t, strings.HasPrefix(lines[0], "goformer "), lines[0])
	assert.Equal(t, "go: "+goruntime.Version()+" "+goruntime.GOOS+"/"+goruntime.GOARCH, lines[1])
	assert.Equal(t, "kernels: "+kernels.ISA(), lines[2])
	assert.True(t, strings.HasPrefix(lines[3], "cpu: "), lines[3])

	code, again, _ := runCLI("", "--version")
	assert.Equal(t, 0, code)
	assert.Equal(t, out, again)

	code, _, errOut = runCLI("", "version", "extra")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "takes no arguments")
}

func TestCPUModel(t *testing.T) {
	x86 := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8488C\nflags\t\t: fpu\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) Platinum 8488C\n"
	assert.Equal(t, "Intel(R) Xeon(R) Platinum 8488C", cpuModel([]byte(x86)))
	// arm64 kernels often list no model name: the implementer and part
	// say what the core is.
	arm := "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU part\t: 0xd0c\n"
	assert.Equal(t, "CPU implementer 0x41, part 0xd0c", cpuModel([]byte(arm)))
	assert.Equal(t, "", cpuModel(nil))
}
