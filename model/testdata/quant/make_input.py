#!/usr/bin/env python3
"""Write input-f32.gguf: the F32 tensors llama-quantize turns into every block type
for model's TestQuantizedByLlamaCpp (see README.md in this folder).

    python3 make_input.py GGUF_PY_DIR OUT.gguf

A llama-architecture header with just enough keys for llama-quantize, and three
256-column matrices: random normal rows, crafted rows (zeros, a constant, values
near the fp16 limit of every scale, values small enough for subnormal fp16
scales, an outlier per block, alternating signs, ramps through every code), and
random uniform rows. Deterministic: numpy's PCG64 with a fixed seed.
"""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])
import gguf  # noqa: E402

rng = np.random.Generator(np.random.PCG64(20261201))
cols = 256

normal = rng.standard_normal((8, cols)).astype(np.float32) * 0.05

crafted = np.zeros((12, cols), dtype=np.float32)
crafted[1] = 1.0                                        # a constant: min = max
crafted[2] = np.where(np.arange(cols) % 2, 6.0e4, -6.5e4)  # near the fp16 limit of a min
crafted[3] = rng.uniform(-1e-4, 1e-4, cols)             # subnormal fp16 scales
crafted[4] = rng.uniform(-0.01, 0.01, cols)
crafted[4, ::32] = 3.0                                  # one outlier per block of 32
crafted[5] = np.where(np.arange(cols) % 2, 0.5, -0.5)   # alternating signs
crafted[6] = -np.linspace(0.01, 2.0, cols)              # all negative
crafted[7, ::17] = 1.5                                  # sparse
for r in range(8, 12):                                  # ramps: every code of every width
    crafted[r] = np.tile(np.linspace(-1, 1, 32), cols // 32) * (r - 7) + 0.25 * (r - 9)
crafted = crafted.astype(np.float32)

uniform = rng.uniform(-1, 1, (4, cols)).astype(np.float32)

w = gguf.GGUFWriter(sys.argv[2], "llama")
w.add_context_length(64)
w.add_embedding_length(cols)
w.add_block_count(1)
w.add_feed_forward_length(cols)
w.add_head_count(2)
w.add_head_count_kv(2)
w.add_layer_norm_rms_eps(1e-5)
w.add_file_type(0)
w.add_tensor("blk.0.ffn_gate.weight", normal)
w.add_tensor("blk.0.ffn_up.weight", crafted)
w.add_tensor("blk.0.ffn_down.weight", uniform)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
