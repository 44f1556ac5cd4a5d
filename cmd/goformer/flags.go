package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// errHelp means -h was asked for and the usage has been printed.
var errHelp = errors.New("help requested")

// aliasPrefix starts the usage of a short form registered by alias.
const aliasPrefix = "same as --"

// alias registers short as another name of the flag long, as llama-cli
// spells them (-t for --threads); the help lists both on one line.
func alias(fs *flag.FlagSet, short, long string) {
	fs.Var(fs.Lookup(long).Value, short, aliasPrefix+long)
}

// parseFlags parses flags that may come before or after positional
// arguments ("tokenize FILE --json" as well as "tokenize --json FILE") and
// returns the positional ones; everything after "--" is positional. -h
// prints the usage and the flags on stdout and returns errHelp. Errors are
// one line, wrapped in errUsage; an unknown flag names the closest one.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(stdout, "usage:", usage)
				printFlags(stdout, fs)
				return nil, errHelp
			}
			return nil, fmt.Errorf("%w: %s (see 'goformer help %s')", errUsage, flagError(fs, err), fs.Name())
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

// flagError is the flag package's error, with the closest flag suggested
// for one it does not know.
func flagError(fs *flag.FlagSet, err error) string {
	msg := strings.TrimSpace(err.Error())
	name, unknown := strings.CutPrefix(msg, "flag provided but not defined: -")
	if !unknown {
		return msg
	}
	msg = "flag provided but not defined: " + dashed(name)
	best, bestDist := "", len(name)
	fs.VisitAll(func(f *flag.Flag) {
		if d := editDistance(name, f.Name); d < bestDist || (d == bestDist && len(f.Name) > len(best)) {
			best, bestDist = f.Name, d
		}
	})
	if best != "" && bestDist <= 2 && bestDist < len(name) {
		if long, ok := strings.CutPrefix(fs.Lookup(best).Usage, aliasPrefix); ok {
			best = long
		}
		msg += "; did you mean " + dashed(best) + "?"
	}
	return msg
}

// dashed is a flag as the help spells it: -m, --temp.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// printFlags lists fs's flags in the README's spelling (--temp, with the
// short form beside the long: -t, --threads N), each default once: a usage
// that states its default itself gets no "(default …)" from the value.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	short := map[string]string{}
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if long, ok := strings.CutPrefix(f.Usage, aliasPrefix); ok {
			short[long] = f.Name
			return
		}
		flags = append(flags, f)
	})
	sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
	for _, f := range flags {
		value, usage := flag.UnquoteUsage(f)
		names := dashed(f.Name)
		if s, ok := short[f.Name]; ok {
			names = dashed(s) + ", " + names
		}
		if value != "" {
			names += " " + value
		}
		switch f.DefValue {
		case "", "0", "false":
		default:
			if !strings.Contains(usage, "(default") {
				if value == "string" {
					usage += fmt.Sprintf(" (default %q)", f.DefValue)
				} else {
					usage += fmt.Sprintf(" (default %s)", f.DefValue)
				}
			}
		}
		fmt.Fprintf(w, "  %s\n    \t%s\n", names, strings.ReplaceAll(usage, "\n", "\n    \t"))
	}
}

// flagSet reports whether the flag name (or an alias of it) was given, so
// that an empty value ("-p ”") counts as given.
func flagSet(fs *flag.FlagSet, name string) bool {
	target := fs.Lookup(name)
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f == target || f.Value == target.Value })
	return set
}
