#!/usr/bin/env python3
"""Dequantize raw ggml blocks with llama.cpp's gguf-py (the numpy reference), for
goformer's tests (package internal/ggufpy).

    python3 dequantize.py GGUF_PY_DIR IN OUT

IN holds records: u32 ggml type, u32 block count, then the blocks. OUT gets, per
record, a u32 count of values and the float32 values (little-endian)
gguf.quants.dequantize gives.
"""
import struct
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])
from gguf import quants  # noqa: E402
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType  # noqa: E402

data = open(sys.argv[2], "rb").read()
out = open(sys.argv[3], "wb")
pos = 0
while pos < len(data):
    typ, n = struct.unpack_from("<II", data, pos)
    pos += 8
    qtype = GGMLQuantizationType(typ)
    block, size = GGML_QUANT_SIZES[qtype]
    raw = np.frombuffer(data, dtype=np.uint8, count=n * size, offset=pos)
    pos += n * size
    values = quants.dequantize(raw.reshape(1, n * size), qtype).astype("<f4")
    out.write(struct.pack("<I", values.size))
    out.write(values.tobytes())
