#!/bin/bash
# Side by side on one GGUF: goformer serve and llama.cpp's llama-server with
# the same slots, context per slot and threads, each measured by
# bench/loadgen at the same concurrency levels, one after the other in the
# same run. Everything listens on 127.0.0.1 and stops when the script ends.
#
#   bench/serve.sh MODEL.gguf [SLOTS=8] [CTX=256] [THREADS=2] [LEVELS=1,4,16,64] [MAX_TOKENS=64]
#
# LLAMA_SERVER names llama-server (default: /tmp/llamacpp-native/bin/llama-server, which
# ../shared/peers/build_llamacpp.sh builds); without it only goformer runs.
# GOFORMER_FLAGS adds flags to goformer serve (e.g. --embeddings f32).
set -euo pipefail
model=${1:?usage: bench/serve.sh MODEL.gguf [SLOTS] [CTX] [THREADS] [LEVELS] [MAX_TOKENS]}
slots=${2:-8} ctx=${3:-256} threads=${4:-2} levels=${5:-1,4,16,64} max_tokens=${6:-64}
llama=${LLAMA_SERVER:-/tmp/llamacpp-native/bin/llama-server}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

(cd "$root" && go build -o "$tmp/goformer" ./cmd/goformer && go build -o "$tmp/loadgen" ./bench/loadgen)

# wait_health URL: until /health answers 200, at most 5 minutes.
wait_health() {
  for _ in $(seq 3000); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1/health")" = 200 ]; then return 0; fi
    sleep 0.1
  done
  echo "serve.sh: $1/health never answered 200" >&2
  return 1
}

name=$(basename "$model" .gguf)
echo "model $name, $slots slots of $ctx positions, $threads threads, $max_tokens tokens a request; $(date -u +%F), $(lscpu | sed -n 's/^Model name: *//p'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

port=$((20000 + RANDOM % 20000))
"$tmp/goformer" serve -m "$model" --addr "127.0.0.1:$port" --slots "$slots" --ctx "$ctx" --threads "$threads" \
  --max-queue 1024 --max-tokens "$max_tokens" ${GOFORMER_FLAGS:-} 2>"$tmp/goformer.log" &
pids+=($!)
wait_health "http://127.0.0.1:$port"
"$tmp/loadgen" -url "http://127.0.0.1:$port" -c "$levels" -max-tokens "$max_tokens" -label "goformer $name" -new-conns
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

if [ -x "$llama" ]; then
  port=$((20000 + RANDOM % 20000))
  # -c is the KV cache of all slots together; each gets ctx. No prompt
  # cache: the load generator's prompts share no prefixes anyway. An HTTP
  # thread per stream: llama-server serves a connection on one thread, and
  # its default (slots + 4) would queue the streams beyond it outside the
  # slots' queue. Every request on a new connection (both servers), since
  # llama-server closes idle keep-alive connections under the client.
  "$llama" -m "$model" --host 127.0.0.1 --port "$port" -np "$slots" -c $((slots * ctx)) -t "$threads" -tb "$threads" \
    -cb --no-webui --cache-ram 0 --threads-http $(( $(echo "$levels" | tr , '\n' | sort -n | tail -1) + 4 )) >"$tmp/llama.log" 2>&1 &
  pids+=($!)
  wait_health "http://127.0.0.1:$port"
  "$tmp/loadgen" -url "http://127.0.0.1:$port" -c "$levels" -max-tokens "$max_tokens" -label "llama-server $name" -new-conns | tail -n +3
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
else
  echo "serve.sh: no llama-server at $llama: goformer alone" >&2
fi
