package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/goformer/goformer/internal/sidefile"
	"github.com/goformer/goformer/model/safetensors"
	"github.com/goformer/goformer/model/tokenizer"
)

// ErrTensorMismatch marks checkpoint weights that do not fit the config: a
// tensor missing, unknown, of the wrong shape or of a dtype goformer cannot
// convert.
var ErrTensorMismatch = errors.New("checkpoint does not match its config")

// The files of a Hugging Face GPT-2 checkpoint directory.
const (
	ConfigFile      = "config.json"
	SafetensorsFile = "model.safetensors"
	VocabFile       = "vocab.json"
	MergesFile      = "merges.txt"
	TokenizerFile   = "tokenizer.json"
	// GenerationFile, when present, adds its eos_token_id (an id or a list)
	// to the tokens that end generation.
	GenerationFile = "generation_config.json"
)

// readGenerationConfig adds generation_config.json's end-of-generation ids
// to cfg.EndIDs.
func readGenerationConfig(files checkpointFiles, cfg *Config) error {
	data, err := files.readFile(GenerationFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var g struct {
		EOS *tokenIDs `json:"eos_token_id"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		return fmt.Errorf("%s: %w", files.path(GenerationFile), jsonConfigError(err))
	}
	if g.EOS == nil {
		return nil
	}
	if len(cfg.EndIDs) == 0 {
		cfg.EndIDs = []int{cfg.EOS}
	}
	for _, id := range *g.EOS {
		if id < 0 || id >= cfg.VocabSize {
			return fmt.Errorf("%s: %w: eos_token_id %d is outside the vocabulary of %d tokens", files.path(GenerationFile), ErrInvalidConfig, id, cfg.VocabSize)
		}
		if !slices.Contains(cfg.EndIDs, id) {
			cfg.EndIDs = append(cfg.EndIDs, id)
		}
	}
	return nil
}

// Checkpoint is a loaded GPT-2 checkpoint: its config, its weights in
// goformer's run-time layout, and its tokenizer or where the tokenizer finds
// its files.
type Checkpoint struct {
	Config  Config
	Weights Weights
	// FS holds the checkpoint's files; the tokenizer reads VocabFile and
	// MergesFile from it. Nil for a GGUF file.
	FS fs.FS
	// Dir is the directory LoadDir read, "" for LoadFS and LoadGGUF. The
	// tokenizer's files are filepath.Join(Dir, VocabFile) and
	// filepath.Join(Dir, MergesFile).
	Dir string
	// Tokenizer is the tokenizer a GGUF file carries in its metadata; nil for
	// a directory, whose tokenizer is in FS.
	Tokenizer *tokenizer.Tokenizer
	// Warnings are doubts about the files that did not stop the load, each
	// one line naming the file: an lm_head the config's tie_word_embeddings
	// leaves unused. The tokenizer's own doubt is its Warning.
	Warnings []string

	release func() error
}

// Close releases the memory map that a GGUF checkpoint's F32 weights alias;
// the Weights must not be used after. It does nothing for a directory, whose
// weights are copies.
func (c *Checkpoint) Close() error {
	if c.release == nil {
		return nil
	}
	err := c.release()
	c.release = nil
	return err
}

// Load loads path: a GGUF file (LoadGGUF) or a checkpoint directory
// (LoadDir).
func Load(path string) (*Checkpoint, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if info.IsDir() {
		return LoadDir(path)
	}
	return LoadGGUF(path)
}

// LoadDir loads the checkpoint in dir: config.json, vocab.json, merges.txt and
// either model.safetensors or the shards listed in
// model.safetensors.index.json. The safetensors files are memory-mapped while
// the weights are converted to fp32 in run-time layout, and unmapped before
// LoadDir returns, whether it succeeds or fails.
func LoadDir(dir string) (*Checkpoint, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("checkpoint directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("checkpoint directory %s: not a directory", dir)
	}
	ck, err := load(dirFiles(dir))
	if err != nil {
		return nil, err
	}
	ck.FS, ck.Dir = os.DirFS(dir), dir
	return ck, nil
}

// LoadFS loads a checkpoint from the root of fsys, laid out as for LoadDir;
// an embed.FS serves a model built into the binary (use fs.Sub for a
// subdirectory). Files are read, not mapped.
func LoadFS(fsys fs.FS) (*Checkpoint, error) {
	ck, err := load(fsFiles{fsys})
	if err != nil {
		return nil, err
	}
	ck.FS = fsys
	return ck, nil
}

// checkpointFiles reads a checkpoint's files from a directory or an fs.FS.
// The JSON files are read through sidefile: regular files only, of at most
// sidefile.Limit bytes.
type checkpointFiles interface {
	path(name string) string // the file's name in error messages
	readFile(name string) ([]byte, error)
	stat(name string) error
	openSafetensors(name string) (*safetensors.File, error)
}

type dirFiles string

func (d dirFiles) path(name string) string              { return filepath.Join(string(d), name) }
func (d dirFiles) readFile(name string) ([]byte, error) { return sidefile.Read(d.path(name)) }
func (d dirFiles) stat(name string) error {
	_, err := os.Stat(d.path(name))
	return err
}
func (d dirFiles) openSafetensors(name string) (*safetensors.File, error) {
	return safetensors.Open(d.path(name))
}

type fsFiles struct{ fsys fs.FS }

func (f fsFiles) path(name string) string              { return name }
func (f fsFiles) readFile(name string) ([]byte, error) { return sidefile.ReadFS(f.fsys, name) }
func (f fsFiles) stat(name string) error {
	_, err := fs.Stat(f.fsys, name)
	return err
}
func (f fsFiles) openSafetensors(name string) (*safetensors.File, error) {
	buf, err := fs.ReadFile(f.fsys, name)
	if err != nil {
		return nil, err
	}
	st, err := safetensors.Parse(buf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return st, nil
}

func load(files checkpointFiles) (*Checkpoint, error) {
	data, err := files.readFile(ConfigFile)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", files.path(ConfigFile), err)
	}
	if err := readGenerationConfig(files, &cfg); err != nil {
		return nil, err
	}
	if err := files.stat(TokenizerFile); err != nil {
		for _, name := range []string{VocabFile, MergesFile} {
			if err := files.stat(name); err != nil {
				return nil, fmt.Errorf("tokenizer file: %w (and no %s)", err, TokenizerFile)
			}
		}
	}
	tensors, closeAll, err := openTensors(files)
	if err != nil {
		return nil, err
	}
	// The weights are converted copies, so nothing needs the mappings after
	// this function, whatever its outcome.
	defer closeAll()
	weights := gpt2Weights
	if cfg.ModelType != "gpt2" {
		weights = llamaWeights
	}
	w, warning, err := weights(&cfg, tensors)
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{Config: cfg, Weights: w}
	if warning != "" {
		ck.Warnings = append(ck.Warnings, warning)
	}
	return ck, nil
}

// storedTensor is one tensor of the checkpoint and the file that holds it.
type storedTensor struct {
	safetensors.Tensor
	file string // for error messages
}

// tensorTable holds a checkpoint's tensors by name, without the optional
// "transformer." prefix.
type tensorTable struct {
	byName map[string]storedTensor
	source string // the weights file or index, for errors about absent tensors
}

const transformerPrefix = "transformer."

// add files t under its prefix-free name; a checkpoint that holds a tensor
// both with and without the prefix is ambiguous.
func (tt *tensorTable) add(t safetensors.Tensor, file string) error {
	name := strings.TrimPrefix(t.Name, transformerPrefix)
	if prev, dup := tt.byName[name]; dup {
		return fmt.Errorf("%w: tensor %q appears twice: as %q in %s and as %q in %s",
			ErrTensorMismatch, name, prev.Name, prev.file, t.Name, file)
	}
	tt.byName[name] = storedTensor{t, file}
	return nil
}

// openTensors opens model.safetensors or, failing that, the shards of
// model.safetensors.index.json, and tables their tensors. closeAll releases
// every file opened; on error openTensors has already released them.
func openTensors(files checkpointFiles) (*tensorTable, func(), error) {
	var opened []*safetensors.File
	closeAll := func() {
		for _, f := range opened {
			f.Close()
		}
	}
	fail := func(err error) (*tensorTable, func(), error) {
		closeAll()
		return nil, nil, err
	}
	tt := &tensorTable{byName: map[string]storedTensor{}}

	singleErr := files.stat(SafetensorsFile)
	if singleErr == nil {
		tt.source = files.path(SafetensorsFile)
		st, err := files.openSafetensors(SafetensorsFile)
		if err != nil {
			return fail(err)
		}
		opened = append(opened, st)
		for _, t := range st.Tensors() {
			if err := tt.add(t, files.path(SafetensorsFile)); err != nil {
				return fail(err)
			}
		}
		return tt, closeAll, nil
	}
	if !errors.Is(singleErr, fs.ErrNotExist) {
		return fail(singleErr)
	}

	data, err := files.readFile(safetensors.IndexFile)
	if errors.Is(err, fs.ErrNotExist) {
		return fail(fmt.Errorf("no %s or %s: %w", SafetensorsFile, safetensors.IndexFile, singleErr))
	}
	if err != nil {
		return fail(err)
	}
	tt.source = files.path(safetensors.IndexFile)
	index, err := safetensors.ParseIndex(data)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", files.path(safetensors.IndexFile), err))
	}
	// Every shard opens before any placement is checked: a missing shard
	// is reported as missing, not as the misplacement of a tensor that an
	// earlier shard holds and the index assigns to it.
	shards := index.Shards()
	for _, shard := range shards {
		st, err := files.openSafetensors(shard)
		if err != nil {
			return fail(fmt.Errorf("shard listed in %s: %w", files.path(safetensors.IndexFile), err))
		}
		opened = append(opened, st)
	}
	for i, shard := range shards {
		for _, t := range opened[i].Tensors() {
			switch listed, ok := index.WeightMap[t.Name]; {
			case !ok:
				return fail(fmt.Errorf("%w: %s holds tensor %q, which %s does not list",
					ErrTensorMismatch, files.path(shard), t.Name, safetensors.IndexFile))
			case listed != shard:
				return fail(fmt.Errorf("%w: %s holds tensor %q, which %s places in %s",
					ErrTensorMismatch, files.path(shard), t.Name, safetensors.IndexFile, listed))
			}
			if err := tt.add(t, files.path(shard)); err != nil {
				return fail(err)
			}
		}
	}
	names := make([]string, 0, len(index.WeightMap))
	for name := range index.WeightMap {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if t, ok := tt.byName[strings.TrimPrefix(name, transformerPrefix)]; !ok || t.Name != name {
			shard := index.WeightMap[name]
			return fail(fmt.Errorf("%w: %s places tensor %q in %s, which does not hold it",
				ErrTensorMismatch, safetensors.IndexFile, name, files.path(shard)))
		}
	}
	return tt, closeAll, nil
}
