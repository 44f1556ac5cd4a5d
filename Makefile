# goformer: the whole test suite is `make test`; CI runs it through .ci/run.
GO ?= go
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# The tier the native CPU must get, read from /proc/cpuinfo independently of
# x/sys/cpu, so a detection bug fails the suite instead of silently running a
# slower tier.
NATIVE_ISA := $(shell if grep -qw avx512bw /proc/cpuinfo 2>/dev/null && grep -qw avx512vl /proc/cpuinfo; then echo avx512; \
	elif grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo; then echo avx2; \
	elif [ "$$(uname -m)" = aarch64 ]; then echo neon; else echo generic; fi)
# Packages holding kernels: they run on every tier, emulated ones included.
KERNEL_PKGS := ./kernels ./quant
QEMU_ARM64 ?= qemu-aarch64-static
QEMU_X86 ?= qemu-x86_64-static
TMP := $(shell mktemp -d)

.PHONY: all generate check-generated vet test test-native test-race test-purego test-arm64 test-haswell bench fuzz fuzz-short

all: test

generate:
	$(GO) generate ./gen

# Regenerate into the work tree and fail if anything changed.
check-generated:
	@rm -rf $(TMP)/asm-before && cp -r asm $(TMP)/asm-before
	$(GO) generate ./gen
	@diff -r $(TMP)/asm-before asm || { echo "go generate ./gen changed asm/: commit the generated files" >&2; exit 1; }

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out" >&2; exit 1; fi
	$(GO) vet ./...
	GOARCH=arm64 $(GO) vet ./...
	$(GO) vet -tags purego ./...

test-native:
	GOFORMER_EXPECT_ISA=$(NATIVE_ISA) $(GO) test -count=1 -timeout 30m ./...

# Sessions share one model across goroutines, the kernels' worker pool
# across sessions, and the server its scheduler across request handlers:
# prove them under the race detector.
test-race:
	$(GO) test -count=1 -short -race ./runtime ./model/tokenizer ./server
	$(GO) test -count=1 -short -race -run 'Parallel|Threads' ./kernels

test-purego:
	GOFORMER_EXPECT_ISA=generic $(GO) test -count=1 -short -tags purego $(KERNEL_PKGS)

# NEON under qemu: the default CPU (dotprod, SVE) and a plain ARMv8.0 core.
test-arm64:
	@set -e; for p in $(KERNEL_PKGS); do \
		GOARCH=arm64 $(GO) test -c -o $(TMP)/arm64.test $$p; \
		echo "$$p under $(QEMU_ARM64) (default CPU: dotprod)"; \
		(cd $$p && GOFORMER_EXPECT_ISA=neon $(QEMU_ARM64) $(TMP)/arm64.test -test.short -test.count=1); \
		echo "$$p under $(QEMU_ARM64) (cortex-a53: ARMv8.0)"; \
		(cd $$p && GOFORMER_EXPECT_ISA=neon QEMU_CPU=cortex-a53 $(QEMU_ARM64) $(TMP)/arm64.test -test.short -test.count=1); \
	done

# The AVX2 tier through real detection on a CPU without AVX-512.
test-haswell:
	@set -e; for p in $(KERNEL_PKGS); do \
		$(GO) test -c -o $(TMP)/amd64.test $$p; \
		echo "$$p under $(QEMU_X86) -cpu Haswell"; \
		(cd $$p && GOFORMER_EXPECT_ISA=avx2 $(QEMU_X86) -cpu Haswell $(TMP)/amd64.test -test.short -test.count=1) 2>&1 \
			| grep -v "TCG doesn't support requested feature"; \
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

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s

test: check-generated vet test-native test-race test-purego test-haswell test-arm64 fuzz-short

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./kernels/...
