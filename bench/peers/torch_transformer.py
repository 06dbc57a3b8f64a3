"""PyTorch peer for bench/run.ts: the reference tiny transformer's training step, matmul and softmax.

The model is models/transformer.ts written with torch, layer for layer:
  token embedding N(0, 0.02²) → L pre-norm blocks
    h ← h + Wo·Attn(RoPE(Wq·n), RoPE(Wk·n), Wv·n),  n = RMSNorm(h)   (causal, 1-D RoPE on
        interleaved pairs (x[2i], x[2i+1]) with θ = t·10000^(−2i/hd), q scaled by 1/√hd)
    h ← h + W2·(SiLU(W1·n) ⊙ W3·n),                n = RMSNorm(h)   (SwiGLU)
  → RMSNorm → head (zero-initialised, no bias) → cross-entropy → backward → AdamW
(lr 3e-4, betas (0.9, 0.999), eps 1e-8, weight decay 0.1 — bench/train-step.ts's settings).
RMSNorm: y = x · rsqrt(mean(x²) + 1e-5) · γ; Linear: no bias, U(−1/√in, 1/√in).

Usage: python3 torch_transformer.py CONFIG_JSON  where CONFIG_JSON has
  {"threads", "steps", "vocabSize", "dModel", "nLayers", "nHeads", "mlpHidden", "seqLen", "batch",
   "matmul": [[m, k, n], ...], "matmulReps", "softmax": [[rows, cols], ...], "softmaxReps"}
Prints one JSON object: torch version, the BLAS it reports and the BLAS library actually mapped
into the process, the thread count, and best/median seconds of each measurement.
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

cfg = json.loads(sys.argv[1])
torch.set_num_threads(int(cfg["threads"]))
torch.manual_seed(0)

V, D, L, H = cfg["vocabSize"], cfg["dModel"], cfg["nLayers"], cfg["nHeads"]
FF, T, B = cfg["mlpHidden"], cfg["seqLen"], cfg["batch"]
hd = D // H


def linear(inf, outf):
    bound = 1 / math.sqrt(inf)
    return torch.nn.Parameter(torch.empty(outf, inf).uniform_(-bound, bound))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Parameter(torch.randn(V, D) * 0.02)
        self.blocks = torch.nn.ModuleList()
        for _ in range(L):
            blk = torch.nn.Module()
            blk.attn_norm = torch.nn.Parameter(torch.ones(D))
            blk.wq, blk.wk, blk.wv, blk.wo = (linear(D, D) for _ in range(4))
            blk.mlp_norm = torch.nn.Parameter(torch.ones(D))
            blk.w1, blk.w3, blk.w2 = linear(D, FF), linear(D, FF), linear(FF, D)
            self.blocks.append(blk)
        self.norm = torch.nn.Parameter(torch.ones(D))
        self.head = torch.nn.Parameter(torch.zeros(V, D))
        inv = 10000.0 ** (-2 * torch.arange(hd // 2, dtype=torch.float32) / hd)
        ang = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]  # [T, hd/2]
        self.register_buffer("cos", torch.cos(ang))
        self.register_buffer("sin", torch.sin(ang))
        self.register_buffer("mask", torch.full((T, T), float("-inf")).triu(1))

    @staticmethod
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def rope(self, x):  # x [B, T, H, hd]; pairs (x[2i], x[2i+1])
        x2 = x.unflatten(-1, (hd // 2, 2))
        a, b = x2[..., 0], x2[..., 1]
        c, s = self.cos[:, None, :], self.sin[:, None, :]  # [T, 1, hd/2]
        return torch.stack((a * c - b * s, a * s + b * c), -1).flatten(-2)

    def forward(self, tokens):
        h = F.embedding(tokens, self.embed)  # [B, T, D]
        for blk in self.blocks:
            n = self.rms(h, blk.attn_norm)
            q = self.rope(F.linear(n, blk.wq).view(B, T, H, hd)).transpose(1, 2)  # [B, H, T, hd]
            k = self.rope(F.linear(n, blk.wk).view(B, T, H, hd)).transpose(1, 2)
            v = F.linear(n, blk.wv).view(B, T, H, hd).transpose(1, 2)
            att = torch.softmax((q * (1 / math.sqrt(hd))) @ k.transpose(-2, -1) + self.mask, -1)
            y = (att @ v).transpose(1, 2).reshape(B, T, D)
            h = h + F.linear(y, blk.wo)
            n = self.rms(h, blk.mlp_norm)
            h = h + F.linear(F.silu(F.linear(n, blk.w1)) * F.linear(n, blk.w3), blk.w2)
        return F.linear(self.rms(h, self.norm), self.head)  # [B, T, V]


def timed(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    s = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        s.append(time.perf_counter() - t0)
    s.sort()
    return {"best": s[0], "median": s[len(s) // 2], "reps": reps}


def blas_library():
    """The BLAS shared object the process really mapped (Debian's torch says 'generic')."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return sorted(libs)
    except OSError:
        return []


model = Model()
opt = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
g = torch.Generator().manual_seed(1)
seq = torch.randint(0, V, (B, T + 1), generator=g)
tokens, targets = seq[:, :T], seq[:, 1:]


def step():
    logits = model(tokens)
    loss = F.cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


train = timed(step, int(cfg["steps"]), warmup=2) if int(cfg["steps"]) > 0 else None

mm = []
for m, k, n in cfg.get("matmul", []):
    a, b = torch.randn(m, k), torch.randn(k, n)
    mm.append({"m": m, "k": k, "n": n, **timed(lambda: torch.mm(a, b), int(cfg["matmulReps"]))})
sm = []
for r, c in cfg.get("softmax", []):
    x = torch.randn(r, c) * 1.5
    sm.append({"rows": r, "cols": c, **timed(lambda: torch.softmax(x, -1), int(cfg["softmaxReps"]))})

config_text = torch.__config__.show()
blas_info = next((p.split("=")[1] for p in config_text.replace(",", " ").split() if p.startswith("BLAS_INFO=")), "unknown")
print(json.dumps({
    "torch": torch.__version__, "threads": torch.get_num_threads(), "blasInfo": blas_info,
    "blasLibraries": blas_library(), "train": train, "matmul": mm, "softmax": sm,
}))
