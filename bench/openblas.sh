#!/usr/bin/env bash
# bench/openblas.sh: goformer's fp32 MatMul next to OpenBLAS sgemm/sgemv, on
# the same shapes, single thread, in one sitting.
#
#   bench/openblas.sh [ROUNDS]       (default 2; run from anywhere)
#
# Each round runs OpenBLAS with its AVX-512 core (SkylakeX) and its AVX2 core
# (Haswell), then BenchmarkMatMul for our avx512 and avx2 tiers, so every
# tier is compared with the OpenBLAS kernels of the same instruction set. A
# cell is the best over the rounds (OpenBLAS: best of 5 reps per round; ours:
# best of BENCH_COUNT (5) runs of BENCH_TIME (50ms) per round, the same as the peer). M = 1 is compared with sgemv, since
# OpenBLAS does not route an M = 1 sgemm to its GEMV.
#
# Needs gcc, libopenblas-dev (apt-get install -y libopenblas-dev) and the peer
# tools in ../shared/peers (set SHARED to use another folder). The machine is
# shared: only the ratios of one run mean anything, and the load average is
# printed with them.
set -euo pipefail

rounds=${1:-2}
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$repo/../shared}
src=$shared/peers/openblas_bench.c
if [ ! -f "$src" ]; then
	echo "bench/openblas.sh: $src is absent: the OpenBLAS peer tools (../shared relative to the repository, or \$SHARED) are not on this machine, so there is nothing to compare with." >&2
	exit 2
fi
if ! echo '#include <cblas.h>' | gcc -E - >/dev/null 2>&1; then
	echo "bench/openblas.sh: gcc or OpenBLAS's cblas.h is missing: apt-get install -y gcc libopenblas-dev" >&2
	exit 2
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$src" "$scratch/"
gcc -O2 -o "$scratch/openblas_bench" "$scratch/openblas_bench.c" -lopenblas -lm
(cd "$repo" && go test -c -o "$scratch/kernels.test" ./kernels)

# M K N; M = 1 runs as sgemv N K.
# GPT-2 124M's decode and prefill products, then the prefill products of
# SmolLM2-135M and Qwen2.5-0.5B (kernels.prefillShapes).
shapes=("1 768 2304" "1 768 3072" "1 768 50257" "7 768 3072" "64 3072 768" "128 768 2304" "512 768 3072"
	"512 768 2304" "512 768 768" "512 3072 768"
	"512 576 960" "512 576 576" "512 576 3072" "512 1536 576"
	"512 896 1152" "512 896 896" "512 896 9728" "512 4864 896")
blas_args=()
for s in "${shapes[@]}"; do
	read -r m k n <<<"$s"
	if [ "$m" = 1 ]; then blas_args+=(sgemv "$n" "$k"); else blas_args+=(sgemm "$m" "$k" "$n"); fi
done

cores=(SkylakeX Haswell)
tiers=(avx512 avx2)
grep -qw avx512f /proc/cpuinfo || { cores=(Haswell); tiers=(avx2); }

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $rounds rounds, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
results=$scratch/results # lines: source shape GFLOP/s
: >"$results"
for ((r = 1; r <= rounds; r++)); do
	for core in "${cores[@]}"; do
		OPENBLAS_CORETYPE=$core "$scratch/openblas_bench" -t 1 "${blas_args[@]}" >"$scratch/blas.out"
		chosen=$(sed -n 's/^OpenBLAS core: \([^ ]*\).*/\1/p' "$scratch/blas.out")
		if [ "${chosen,,}" != "${core,,}" ]; then
			echo "OpenBLAS ran core $chosen for OPENBLAS_CORETYPE=$core: its figures are not the $core kernels" >&2
		fi
		# "sgemm 64x3072x768" and "sgemv 3072x768" (= N×K) back to our M×K×N.
		awk -v core="$core" '$1 == "sgemm" { print "openblas-" core, $2, $6 }
			$1 == "sgemv" { split($2, d, "x"); print "openblas-" core, "1x" d[2] "x" d[1], $6 }' "$scratch/blas.out" >>"$results"
	done
	# BenchmarkMatMul takes W row-major and packs it per call, as sgemm
	# does; BenchmarkPanels takes it packed at load (kernels.Panels), as the
	# runtime's fp32 linears hold it.
	(cd "$repo/kernels" && GOMAXPROCS=1 "$scratch/kernels.test" -test.run '^$' -test.bench "^Benchmark(MatMul|Panels)/($(
		IFS='|'
		echo "${tiers[*]}"
	))/" -test.benchtime "${BENCH_TIME:-50ms}" -test.count "${BENCH_COUNT:-5}") >"$scratch/go.out"
	awk '/^Benchmark(MatMul|Panels)\// { split($1, p, "/"); sub(/-[0-9]+$/, "", p[3]);
		src = "goformer-" p[2] (p[1] == "BenchmarkPanels" ? "-packed" : "")
		for (i = 3; i < NF; i++) if ($(i + 1) == "GFLOP/s") print src, p[3], $i }' "$scratch/go.out" >>"$results"
done

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# Best GFLOP/s per (source, shape), then one row per shape.
awk -v shapes="$(printf '%s,' "${shapes[@]}")" -v tiers="${tiers[*]}" -v cores="${cores[*]}" '
	{ if ($3 > best[$1 " " $2]) best[$1 " " $2] = $3 }
	END {
		nt = split(tiers, t, " "); split(cores, c, " ")
		head = "| M×K×N |"; rule = "|---|"
		for (i = 1; i <= nt; i++) {
			head = head " OpenBLAS " c[i] " | goformer " t[i] " | ratio | packed at load | ratio |"; rule = rule "---:|---:|---:|---:|---:|"
		}
		print head; print rule
		ns = split(shapes, s, ",")
		for (j = 1; j < ns; j++) {
			split(s[j], d, " "); shape = d[1] "x" d[2] "x" d[3]
			line = "| " shape (d[1] == 1 ? " (sgemv)" : "") " |"
			for (i = 1; i <= nt; i++) {
				b = best["openblas-" c[i] " " shape]; g = best["goformer-" t[i] " " shape]
				pk = best["goformer-" t[i] "-packed " shape]
				line = line sprintf(" %.1f | %.1f | %s | %.1f | %s |", b, g, b > 0 ? sprintf("%.2f×", g / b) : "–",
					pk, b > 0 ? sprintf("%.2f×", pk / b) : "–")
			}
			print line
		}
		print ""
		print "GFLOP/s (2·M·K·N per call), best over the rounds, 1 thread. For M = 1, GB/s of weights = 2 × GFLOP/s."
	}' "$results"
