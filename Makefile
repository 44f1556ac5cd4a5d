# goformer: the whole test suite is `make test`; CI runs it through .ci/run.
GO ?= go
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# The tier the native CPU must get, read from /proc/cpuinfo independently of
# x/sys/cpu, so a detection bug fails the suite instead of silently running a
# slower tier.
NATIVE_ISA := $(shell if grep -qw amx_int8 /proc/cpuinfo 2>/dev/null && grep -qw amx_tile /proc/cpuinfo && grep -qw avx512_vnni /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo; then echo amx; \
	elif grep -qw avx512bw /proc/cpuinfo 2>/dev/null && grep -qw avx512vl /proc/cpuinfo; then echo avx512; \
	elif grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo; then echo avx2; \
	elif [ "$$(uname -m)" = aarch64 ]; then echo neon; else echo generic; fi)
# Whether the avx512 tier must run the VNNI int8 kernels, read the same way.
NATIVE_VNNI := $(shell grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null && echo 1 || echo 0)
# Whether the amx tier must exist (AMX-INT8 and the tiles, on the avx512
# tier with VNNI), read the same way.
NATIVE_AMX := $(if $(filter amx,$(NATIVE_ISA)),1,0)
# Packages holding kernels: they run on every tier, emulated ones included.
KERNEL_PKGS := ./kernels ./quant
QEMU_ARM64 ?= qemu-aarch64-static
QEMU_X86 ?= qemu-x86_64-static
# The runtime package's forward pass on the emulated and pure-Go tiers: the
# float64-reference forward pass (prefill, chunked prefill, decode through
# the KV cache) and batch == alone, on GPT-2's, Llama's and Qwen2's
# architecture, on the tier $(1) only (the full sizes would take minutes
# under qemu).
RUNTIME_SHORT = ^(TestForwardMatchesReference|TestBatchLogitsMatchAlone)$$/^($(1)|small)$$/^(gpt2|llama-gqa2|qwen2-bias)$$
# A recipe's shell starts with $(MKTMP) to get a folder in $$tmp: the one
# `make test` gives its steps (TMP in the environment), or a new one it
# removes when it exits.
MKTMP = tmp=$${TMP:-}; if [ -z "$$tmp" ]; then tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; fi
# TESTFMT LABEL reads go test -json and prints what plain go test would
# (a line a package, a failed test's output), then what skipped and why;
# under `make test` (SKIPS in the environment) the skips are kept for its
# summary at the end instead.
TESTFMT = $(GO) run ./internal/testreport -skips "$${SKIPS:-}" -label

.PHONY: all generate check-generated vet test test-native test-race test-purego test-arm64 test-haswell bench fuzz fuzz-short

all: test

generate:
	$(GO) generate ./gen

# Regenerate into the work tree and fail if anything changed.
check-generated:
	@$(MKTMP); rm -rf "$$tmp/asm-before" && cp -r asm "$$tmp/asm-before" && \
	echo "$(GO) generate ./gen" && $(GO) generate ./gen && \
	{ diff -r "$$tmp/asm-before" asm || { echo "go generate ./gen changed asm/: commit the generated files" >&2; exit 1; }; }

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out" >&2; exit 1; fi
	$(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...
	$(GO) vet -tags purego ./...

test-native:
	GOFORMER_EXPECT_ISA=$(NATIVE_ISA) GOFORMER_EXPECT_VNNI=$(NATIVE_VNNI) GOFORMER_EXPECT_AMX=$(NATIVE_AMX) $(GO) test -json -count=1 -timeout 30m ./... | $(TESTFMT) native

# Sessions share one model across goroutines, the kernels' worker pool
# across sessions, and the server its scheduler across request handlers:
# prove them under the race detector.
test-race:
	$(GO) test -json -count=1 -short -race ./runtime ./model/tokenizer ./server | $(TESTFMT) race
	$(GO) test -json -count=1 -short -race -run 'Parallel|Threads' ./kernels | $(TESTFMT) race

test-purego:
	GOFORMER_EXPECT_ISA=generic $(GO) test -json -count=1 -short -tags purego $(KERNEL_PKGS) | $(TESTFMT) purego
	GOFORMER_EXPECT_ISA=generic $(GO) test -json -count=1 -short -tags purego -run '$(call RUNTIME_SHORT,generic)' ./runtime | $(TESTFMT) purego

# NEON under qemu: the default CPU (dotprod, SVE) and a plain ARMv8.0 core.
# Each test binary's -test.v=test2json output goes through test2json to
# TESTFMT, as go test -json's would.
test-arm64:
	@set -e; $(MKTMP); for p in $(KERNEL_PKGS) ./runtime; do \
		run=.; [ $$p != ./runtime ] || run='$(call RUNTIME_SHORT,neon)'; \
		GOARCH=arm64 $(GO) test -c -o "$$tmp/arm64.test" $$p; \
		echo "$$p under $(QEMU_ARM64) (default CPU: dotprod)"; \
		(cd $$p && GOFORMER_EXPECT_ISA=neon GOFORMER_EMULATED=1 $(QEMU_ARM64) "$$tmp/arm64.test" -test.short -test.count=1 -test.v=test2json -test.run "$$run") 2>&1 \
			| $(GO) tool test2json -p $${p#./} | $(TESTFMT) arm64; \
		echo "$$p under $(QEMU_ARM64) (cortex-a53: ARMv8.0)"; \
		(cd $$p && GOFORMER_EXPECT_ISA=neon GOFORMER_EMULATED=1 QEMU_CPU=cortex-a53 $(QEMU_ARM64) "$$tmp/arm64.test" -test.short -test.count=1 -test.v=test2json -test.run "$$run") 2>&1 \
			| $(GO) tool test2json -p $${p#./} | $(TESTFMT) arm64-a53; \
	done

# The AVX2 tier through real detection on a CPU without AVX-512.
test-haswell:
	@set -e; $(MKTMP); for p in $(KERNEL_PKGS) ./runtime; do \
		run=.; [ $$p != ./runtime ] || run='$(call RUNTIME_SHORT,avx2)'; \
		$(GO) test -c -o "$$tmp/amd64.test" $$p; \
		echo "$$p under $(QEMU_X86) -cpu Haswell"; \
		(cd $$p && GOFORMER_EXPECT_ISA=avx2 GOFORMER_EMULATED=1 $(QEMU_X86) -cpu Haswell "$$tmp/amd64.test" -test.short -test.count=1 -test.v=test2json -test.run "$$run") 2>&1 \
			| grep -v "TCG doesn't support requested feature" | $(GO) tool test2json -p $${p#./} | $(TESTFMT) haswell; \
	done

# The fuzz targets of the parsers and the tokenizer, package:Target. `make
# fuzz` runs each for FUZZTIME (FUZZTIME=10m for a longer hunt; new
# failures land in the package's testdata/fuzz and then run as tests);
# `make test` runs each for a few seconds.
FUZZ_TARGETS := ./model/gguf:FuzzParse ./model/safetensors:FuzzParseHeader ./model/tokenizer:FuzzRoundTrip ./model/tokenizer:FuzzSentencePiece ./model/tokenizer:FuzzTokenizerJSON ./model/tokenizer:FuzzTokenizerConfig ./model/chat:FuzzTemplate
FUZZTIME ?= 1m
# Fuzzing workers; empty means GOMAXPROCS.
FUZZ_WORKERS ?=

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; name=$${t##*:}; \
		echo "$$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $(if $(FUZZ_WORKERS),-parallel $(FUZZ_WORKERS)) $$pkg; \
	done

# A count, not a duration: with a duration Go 1.26's fuzz coordinator can
# report its own deadline as a failure ("context deadline exceeded", no
# input written) when a worker is slow to stop at the boundary on a
# loaded machine (go.dev/issue/75804, fixed in Go 1.27); a count has no
# deadline to race.
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=10000x

# make test runs the steps in one temporary folder, which the tests' own
# temporary files share (TMPDIR) and which is removed at the end, then says
# what skipped and why in every step. The openai npm client the serve test
# installs stays cached where it was.
TEST_STEPS := check-generated vet test-native test-race test-purego test-haswell test-arm64 fuzz-short
test:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	GOFORMER_OPENAI_NPM=$${GOFORMER_OPENAI_NPM:-$${TMPDIR:-/tmp}/goformer-openai-npm} TMP=$$tmp TMPDIR=$$tmp SKIPS=$$tmp/skips.json \
		$(MAKE) --no-print-directory $(TEST_STEPS); status=$$?; \
	$(GO) run ./internal/testreport -report $$tmp/skips.json; exit $$status

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./kernels/...
