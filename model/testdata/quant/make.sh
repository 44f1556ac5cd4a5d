#!/bin/sh
# Remake the files of this folder (see README.md):
#   GGUF_PY=<llama.cpp source>/gguf-py LLAMA_QUANTIZE=<llama.cpp bin>/llama-quantize ./make.sh
set -e
python3 make_input.py "$GGUF_PY" input-f32.gguf
for t in Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K_M Q4_K_M Q5_K_M Q6_K IQ4_NL IQ4_XS; do
	"$LLAMA_QUANTIZE" --pure input-f32.gguf "${t%_M}.gguf" "$t" >/dev/null 2>&1
done
