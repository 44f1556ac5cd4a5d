package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/goformer/goformer/model"
	"github.com/goformer/goformer/model/demo"
	"github.com/goformer/goformer/model/tokenizer"
)

const tokenizeUsage = "goformer tokenize [-m MODEL] [--special] [--json] [FILE | -p TEXT]"

// runTokenize prints the token ids of FILE, or of standard input, read byte
// for byte: no newline is added or removed.
func runTokenize(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	modelDir := fs.String("m", "", "checkpoint directory holding vocab.json and merges.txt, or a GGUF file (default: the demo model built into goformer)")
	asJSON := fs.Bool("json", false, `print {"tokens":[...],"tokenizer":KIND} instead of space-separated ids (KIND: bpe/PRE-TOKENIZER or sentencepiece)`)
	special := fs.Bool("special", false, "parse special tokens' text (<|im_start|>, <s>) into their ids, as a chat prompt is tokenized")
	textFlag := fs.String("prompt", "", "the text, instead of FILE")
	alias(fs, "p", "prompt")
	files, err := parseFlags(fs, args, tokenizeUsage, stdout)
	if err != nil {
		return err
	}
	textSet := flagSet(fs, "prompt")
	if len(files) > 1 {
		return fmt.Errorf("%w: one FILE at most, got %d (usage: %s)", errUsage, len(files), tokenizeUsage)
	}
	if textSet && len(files) > 0 {
		return usageError("give a FILE or -p TEXT, not both")
	}
	tok, err := loadTokenizer(*modelDir)
	if err != nil {
		return err
	}
	warnTokenizer(stderr, tok)
	text := []byte(*textFlag)
	if !textSet {
		if text, err = readInput(ctx, files, stdin); err != nil {
			return err
		}
	}
	encode := tok.Encode
	if *special {
		encode = tok.EncodeSpecial
	}
	ids := encode(string(text))

	w := bufio.NewWriter(stdout)
	if *asJSON {
		if ids == nil {
			ids = []int{}
		}
		out, _ := json.Marshal(struct {
			Tokens    []int  `json:"tokens"`
			Tokenizer string `json:"tokenizer"`
		}{ids, tok.Kind()})
		w.Write(out)
		w.WriteByte('\n')
	} else {
		var buf []byte
		for i, id := range ids {
			if i > 0 {
				buf = append(buf, ' ')
			}
			buf = strconv.AppendInt(buf, int64(id), 10)
		}
		w.Write(append(buf, '\n'))
	}
	return w.Flush()
}

// loadTokenizer reads the tokenizer of a checkpoint directory, of a GGUF
// file's metadata when path is a file, or of the demo model when path is "".
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
		return model.LoadGGUFTokenizer(path)
	}
	if path == "" {
		return tokenizer.LoadFS(demo.FS, ".")
	}
	return tokenizer.LoadDir(path)
}
