package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/goformer/goformer/model"
)

const quantizeUsage = "goformer quantize IN.gguf OUT.gguf --type Q8_0|Q4_0|Q4_K_M|Q5_K_M|Q6_K [-v]"

// runQuantize writes OUT.gguf from IN.gguf with the tensor types
// llama-quantize's preset would choose (model.QuantizeRule).
func runQuantize(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quantize", flag.ContinueOnError)
	typ := fs.String("type", "", "the preset: Q8_0, Q4_0, Q4_K_M, Q5_K_M or Q6_K (the tensor types it gives are below)")
	verbose := fs.Bool("v", false, "print every tensor's type, from and to")
	files, err := parseFlags(fs, args, quantizeUsage+"\n\n"+model.QuantizeRule+"\n", stdout)
	if err != nil {
		return err
	}
	if len(files) != 2 {
		return fmt.Errorf("%w: want IN and OUT, got %d arguments (usage: %s)", errUsage, len(files), quantizeUsage)
	}
	if *typ == "" {
		return usageError("--type is required (Q8_0, Q4_0, Q4_K_M, Q5_K_M or Q6_K)")
	}
	preset, err := model.LookupQuantizePreset(*typ)
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	report, err := model.Quantize(ctx, files[0], files[1], preset)
	if err != nil {
		return err
	}
	count := map[string]int{}
	fallbacks := 0
	for _, t := range report.Tensors {
		count[t.To.String()]++
		if t.Fallback {
			fallbacks++
		}
		if *verbose {
			note := ""
			if t.Fallback {
				note = " (fallback: rows of " + fmt.Sprint(t.Dims[0]) + ")"
			}
			dims := strings.Trim(strings.ReplaceAll(fmt.Sprint(t.Dims), " ", "×"), "[]")
			fmt.Fprintf(stderr, "%-32s %-12s %5s -> %s%s\n", t.Name, dims, t.From, t.To, note)
		}
	}
	var types []string
	for k, n := range count {
		types = append(types, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(types)
	fmt.Fprintf(stderr, "wrote %s: %s, %.1f MB, %d tensors (%s)", files[1], preset.Name, float64(report.Bytes)/1e6, len(report.Tensors), strings.Join(types, ", "))
	if fallbacks > 0 {
		fmt.Fprintf(stderr, "; %d fell back for their row width", fallbacks)
	}
	fmt.Fprintln(stderr)
	return nil
}
