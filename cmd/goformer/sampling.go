package main

import (
	"flag"
	"math"

	"github.com/goformer/goformer/runtime"
)

// sampleFlags are the sampling flags of the commands that generate (run,
// chat).
type sampleFlags struct {
	temp, topP float64
	topK       int
	seed       seedFlag
}

func (f *sampleFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&f.temp, "temp", 0.8, "sampling temperature; 0 is greedy")
	fs.IntVar(&f.topK, "top-k", 40, "keep the K most likely tokens (0: all)")
	fs.Float64Var(&f.topP, "top-p", 0.95, "keep the most likely tokens up to this total probability (1: all)")
	f.seed = seedFlag{random: true}
	fs.Var(&f.seed, "seed", "random seed `S`: 0 to 2^64-1, or -1 for a new one each run, which --json reports")
	alias(fs, "s", "seed")
}

// check reports a flag out of range as a usage error.
func (f *sampleFlags) check() error {
	switch {
	case !(f.temp >= 0) || math.IsInf(f.temp, 1):
		return usageError("--temp must be a finite number ≥ 0, got %g", f.temp)
	case f.topK < 0:
		return usageError("--top-k must be ≥ 0, got %d", f.topK)
	case !(f.topP > 0 && f.topP <= 1):
		return usageError("--top-p must be in (0, 1], got %g", f.topP)
	}
	return nil
}

// options are the sampling options the flags ask for, with a new random
// seed for --seed -1.
func (f *sampleFlags) options() runtime.SampleOptions {
	o := runtime.SampleOptions{Temperature: f.temp, TopK: f.topK, TopP: f.topP, Seed: f.seed.value}
	if f.seed.random {
		o.Seed = runtime.RandomSeed()
	}
	return o
}
