package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"

	"github.com/goformer/goformer/kernels"
)

// runVersion prints what a bug report needs: goformer's module version,
// the Go toolchain, the kernel tier this CPU runs and the CPU itself.
func runVersion(_ context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
	if len(args) > 0 {
		return usageError("version takes no arguments, got %q", args[0])
	}
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	cpu := "unknown"
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := cpuModel(info); m != "" {
			cpu = m
		}
	}
	w := bufio.NewWriter(stdout)
	fmt.Fprintf(w, "goformer %s\n", version)
	fmt.Fprintf(w, "go: %s %s/%s\n", goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
	fmt.Fprintf(w, "kernels: %s\n", kernels.ISA())
	fmt.Fprintf(w, "cpu: %s\n", cpu)
	return w.Flush()
}

// cpuModel is the CPU's name in the text of /proc/cpuinfo: x86's "model
// name", else (arm64, where the kernel often gives none) the implementer
// and part codes; "" when neither is there.
func cpuModel(cpuinfo []byte) string {
	fields := map[string]string{}
	for line := range bytes.Lines(cpuinfo) {
		key, value, ok := strings.Cut(string(line), ":")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || value == "" || fields[key] != "" {
			continue
		}
		fields[key] = value
	}
	switch {
	case fields["model name"] != "":
		return fields["model name"]
	case fields["CPU implementer"] != "" && fields["CPU part"] != "":
		return fmt.Sprintf("CPU implementer %s, part %s", fields["CPU implementer"], fields["CPU part"])
	}
	return ""
}
