// Command goformer runs transformer language models on the CPU.
//
//	goformer <command> [flags] [args]
//
// Each command lives in its own file and is listed once in commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// A command runs with its arguments (after the command name) and the
// process's streams; an error it returns is printed as one line.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"bench":    {"measure prefill and decode tokens/s (llama-bench's pp and tg)", runBench},
	"chat":     {"talk with an instruction-tuned model, formatted by its chat template", runChat},
	"quantize": {"write a GGUF file in Q8_0, Q4_0, Q4_K_M, Q5_K_M or Q6_K, as llama-quantize does", runQuantize},
	"run":      {"generate text from a prompt", runRun},
	"score":    {"print the log-likelihood and perplexity of a text", runScore},
	"serve":    {"serve the model over HTTP with OpenAI's API (completions, chat, streaming)", runServe},
	"tokenize": {"print the token ids of a text", runTokenize},
	"version":  {"print the goformer, Go and kernel versions and the CPU (also --version)", runVersion},
}

// errUsage reports bad command-line usage; main exits with status 2 for it.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches to a command and returns the process exit status: 0 on
// success, 2 for a usage error, 130 when ctx or Ctrl-C ended the command,
// 1 for any other error (among them a failedLinesError: some lines of run
// --prompts or score --lines failed).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		printCommands(stderr)
		return 2
	case len(args) >= 2 && args[0] == "help":
		// "goformer help run" is "goformer run -h".
		args = []string{args[1], "-h"}
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		printCommands(stdout)
		return 0
	}
	name := args[0]
	if name == "--version" {
		name = "version"
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "goformer: unknown command %q (run 'goformer help' for the list)\n", name)
		return 2
	}
	if err := cmd.run(ctx, args[1:], stdin, stdout, stderr); err != nil {
		if errors.Is(err, errHelp) {
			return 0
		}
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "goformer %s: %v\n", name, errInterrupted)
			return 130
		}
		fmt.Fprintf(stderr, "goformer %s: %v\n", name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func printCommands(w io.Writer) {
	fmt.Fprintln(w, "usage: goformer <command> [flags] [args]   (goformer help <command> for its flags)")
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].summary)
	}
}
