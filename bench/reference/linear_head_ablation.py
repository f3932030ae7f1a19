"""Why a gradient-trained linear head fell behind logistic regression: the same frozen features
(<out>.features.json from eval:medmnist), a linear head trained like MedTune's trainer (AdamW, warm-up +
cosine, batch 32, best epoch by val quadratic kappa) while one factor changes at a time: class
weighting, learning rate, feature standardisation, epochs. Test metrics of the kept epoch.
Usage: python3 linear_head_ablation.py FEATURES.json [seeds]
"""
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import cohen_kappa_score, roc_auc_score


def load(path):
    d = json.load(open(path))
    dim = d["dim"]
    out = {}
    for s in ("train", "val", "test"):
        out[s] = (torch.tensor(d[s]["features"], dtype=torch.float32).view(-1, dim), torch.tensor(d[s]["labels"]))
    return out


def run(data, lr=5e-3, weighting="balanced", standardise=False, epochs=40, seed=0, batch=32, wd=1e-4):
    torch.manual_seed(seed)
    (xtr, ytr), (xva, yva), (xte, yte) = data["train"], data["val"], data["test"]
    if standardise:
        mu, sd = xtr.mean(0), xtr.std(0).clamp(min=1e-6)
        xtr, xva, xte = (xtr - mu) / sd, (xva - mu) / sd, (xte - mu) / sd
    k, dim = 5, xtr.shape[1]
    bound = 1 / math.sqrt(dim)
    w = torch.empty(k, dim).uniform_(-bound, bound).requires_grad_(True)
    b = torch.empty(k).uniform_(-bound, bound).requires_grad_(True)
    counts = torch.bincount(ytr, minlength=k).float()
    weight = len(ytr) / (k * counts) if weighting == "balanced" else None
    opt = torch.optim.AdamW([{"params": [w], "weight_decay": wd}, {"params": [b], "weight_decay": 0}], lr=lr)
    steps = math.ceil(len(ytr) / batch)
    total, warm = steps * epochs, round(0.1 * steps * epochs)
    step, best = 0, None
    for epoch in range(epochs):
        order = torch.randperm(len(ytr))
        for i in range(steps):
            idx = order[i * batch:(i + 1) * batch]
            cur = lr * (step + 1) / warm if step < warm else 1e-5 + (lr - 1e-5) * 0.5 * (1 + math.cos(math.pi * (step - warm) / (total - warm)))
            for g in opt.param_groups:
                g["lr"] = cur
            loss = F.cross_entropy(xtr[idx] @ w.T + b, ytr[idx], weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        with torch.no_grad():
            kv = cohen_kappa_score(yva, (xva @ w.T + b).argmax(1), weights="quadratic")
            if best is None or kv > best[0]:
                p = (xte @ w.T + b).softmax(1).numpy()
                best = (kv, epoch + 1, p)
    p = best[2]
    pred = p.argmax(1)
    return {"bestEpoch": best[1], "acc": float((pred == yte.numpy()).mean()), "auc": float(roc_auc_score(yte, p, multi_class="ovr")),
            "kappa": float(cohen_kappa_score(yte, pred, weights="quadratic"))}


def main():
    data = load(sys.argv[1])
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    scale = data["train"][0].std(0)
    print(f"feature scale: per-dimension sd median {scale.median():.3f}, range {scale.min():.3f}..{scale.max():.3f}; mean |x| {data['train'][0].abs().mean():.3f}")
    rows = [
        ("MedTune before (lr 5e-3, balanced, raw, 40 ep)", {}),
        ("unweighted", {"weighting": "none"}),
        ("standardised features", {"standardise": True}),
        ("lr 5e-2", {"lr": 5e-2}),
        ("lr 5e-2, standardised", {"lr": 5e-2, "standardise": True}),
        ("3 epochs", {"epochs": 3}),
        ("200 epochs", {"epochs": 200}),
        ("200 epochs, standardised, lr 5e-2", {"epochs": 200, "standardise": True, "lr": 5e-2}),
    ]
    for name, kw in rows:
        rs = [run(data, seed=s, **kw) for s in range(seeds)]
        m = {k: (np.mean([r[k] for r in rs]), np.std([r[k] for r in rs])) for k in ("acc", "auc", "kappa", "bestEpoch")}
        print(f"| {name} | " + " | ".join(f"{m[k][0]:.3f} ± {m[k][1]:.3f}" for k in ("acc", "auc", "kappa")) + f" | {m['bestEpoch'][0]:.1f} |")


if __name__ == "__main__":
    main()
