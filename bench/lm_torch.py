#!/usr/bin/env python3
"""examples/train_lm.cpp's recipe in PyTorch, for comparing validation losses.

The same corpus reading (data/text.cpp: regular files in name order, fortune's .dat/.u8 index
files and symlinks skipped, each "%" line made empty), vocabulary (sorted bytes), split (the last
10% validates), model (nn/char_lm.hpp's GPT: names, GELU, GPT-2 init), optimizer (AdamW,
lr 2e-3, weight decay 0.01) with OneCycleLR's defaults per step, batch, context, steps, and the
same evenly spaced validation windows. The batches are drawn from torch's generator, so the runs
see different windows of the same training text.

    /usr/bin/python3 bench/lm_torch.py                    # the default recipe, 2 threads
    /usr/bin/python3 bench/lm_torch.py --epochs 1 --steps 20
"""
import argparse
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_corpus(path):
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path)
                       if not n.startswith(".") and not n.endswith((".dat", ".u8"))
                       and not os.path.islink(os.path.join(path, n))
                       and os.path.isfile(os.path.join(path, n)))
        files = [os.path.join(path, n) for n in names]
    else:
        files = [path]
    text = b""
    for f in files:
        with open(f, "rb") as fh:
            lines = fh.read().split(b"\n")
        text += b"\n".join(b"" if line == b"%" else line for line in lines)
    return text


class CausalSelfAttention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)
        self.heads = heads

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.heads)
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        return self.c_proj((att @ v).transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = CausalSelfAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, 4 * width)
        self.c_proj = nn.Linear(4 * width, width)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, vocab, context, layers, width, heads):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.h = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        self.lm_head = nn.Linear(width, vocab, bias=False)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if "ln_" in name:
                    continue
                if name.endswith(".bias"):
                    p.zero_()
                else:
                    std = 0.02 / math.sqrt(2 * layers) if name.endswith("c_proj.weight") else 0.02
                    p.normal_(0.0, std)

    def forward(self, ids):
        T = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(T))
        for b in self.h:
            x = b(x)
        return self.lm_head(self.ln_f(x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.environ.get("XGRAD_TEXT_CORPUS",
                                                     "/usr/share/games/fortunes"))
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--steps", type=int, default=125)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-windows", type=int, default=256)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    text = read_corpus(a.data)
    chars = sorted(set(text))
    lookup = {c: i for i, c in enumerate(chars)}
    tokens = torch.tensor([lookup[c] for c in text], dtype=torch.int64)
    n = len(tokens)
    split = n - int(n * 0.1)
    train, val = tokens[:split], tokens[split:]
    T = a.context
    print(f"corpus {a.data}: {n} characters, vocabulary {len(chars)}, {split} train / {n - split} "
          f"validation")

    def windows(part, starts):
        x = torch.stack([part[s:s + T] for s in starts])
        y = torch.stack([part[s + 1:s + T + 1] for s in starts])
        return x, y

    val_size = len(val) - T
    nv = min(a.val_windows, val_size)
    val_starts = [0] if nv == 1 else [j * (val_size - 1) // (nv - 1) for j in range(nv)]

    model = GPT(len(chars), T, a.layers, a.width, a.heads)
    print(f"gpt with {sum(p.numel() for p in model.parameters())} parameters")
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, epochs=a.epochs,
                                                steps_per_epoch=a.steps)
    gen = torch.Generator().manual_seed(a.seed)

    def evaluate():
        model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for i in range(0, len(val_starts), a.batch):
                x, y = windows(val, val_starts[i:i + a.batch])
                logits = model(x)
                total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                         y.reshape(-1)).item() * y.numel()
                count += y.numel()
        model.train()
        return total / count

    t_start = time.time()
    val_loss = float("nan")
    for epoch in range(a.epochs):
        t0 = time.time()
        loss_sum = 0.0
        for _ in range(a.steps):
            starts = torch.randint(0, split - T, (a.batch,), generator=gen).tolist()
            x, y = windows(train, starts)
            logits = model(x)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item()
        train_s = time.time() - t0
        val_loss = evaluate()
        tr = loss_sum / a.steps
        print(f"epoch {epoch + 1}/{a.epochs}: train {tr:.4f} nats/char (perplexity "
              f"{math.exp(tr):.2f}) | validation {val_loss:.4f} nats/char (perplexity "
              f"{math.exp(val_loss):.2f}) | {time.time() - t0:.1f} s, "
              f"{a.steps / train_s:.2f} steps/s")
    print(f"trained in {time.time() - t_start:.1f} s")
    print(f"validation loss: {val_loss:.4f} nats/char (perplexity {math.exp(val_loss):.2f})")


if __name__ == "__main__":
    main()
