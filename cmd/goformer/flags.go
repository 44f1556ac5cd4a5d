package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelp means -h was asked for and the usage has been printed.
var errHelp = errors.New("help requested")

// parseFlags parses flags that may come before or after positional
// arguments ("tokenize FILE --json" as well as "tokenize --json FILE") and
// returns the positional ones; everything after "--" is positional. Errors
// are one line, wrapped in errUsage.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stderr io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(stderr, "usage:", usage)
				fs.SetOutput(stderr)
				fs.PrintDefaults()
				return nil, errHelp
			}
			return nil, fmt.Errorf("%w: %s (usage: %s)", errUsage, strings.TrimSpace(err.Error()), usage)
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
