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
	"strings"

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
	var in io.Reader = strings.NewReader(*textFlag)
	if !textSet {
		r, err := openInput(ctx, files, stdin)
		if err != nil {
			return err
		}
		defer r.Close()
		in = r
	}
	return writeTokens(ctx, bufio.NewWriter(stdout), tok, in, *special, *asJSON)
}

// writeTokens writes the ids of the text in reads, as it encodes them chunk
// by chunk (Tokenizer.EncodeReader): a text of any size takes the memory of
// a chunk, and the output is that of the whole text's ids, space-separated
// or as {"tokens":[...],"tokenizer":KIND}, then a newline.
func writeTokens(ctx context.Context, w *bufio.Writer, tok *tokenizer.Tokenizer, in io.Reader, special, asJSON bool) error {
	sep := byte(' ')
	if asJSON {
		w.WriteString(`{"tokens":[`)
		sep = ','
	}
	var buf []byte
	n := 0
	for ids, err := range tok.EncodeReader(in, special) {
		if err != nil {
			return err
		}
		for _, id := range ids {
			if n > 0 {
				buf = append(buf, sep)
			}
			buf = strconv.AppendInt(buf, int64(id), 10)
			n++
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		buf = buf[:0]
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if asJSON {
		kind, _ := json.Marshal(tok.Kind())
		w.WriteString(`],"tokenizer":`)
		w.Write(kind)
		w.WriteByte('}')
	}
	w.WriteByte('\n')
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
