#!/usr/bin/python3
"""PyTorch reference training for eval:medmnist: the same frozen stand-in backbone, the same adapter
config and initial tensors, the same recipe, trained with torch so MedTune's numbers have a
like-for-like reference. The model maths is vit_adapters.py's VitWithAdapter (parity-checked).

Recipe (read from <dir>/recipe.json, written by eval:medmnist): AdamW (decay on *.weight matrices
only, like MedTune), linear warm-up then cosine to minLr per step, class-weighted cross-entropy
(inverse frequency, 'balanced'), shuffled batches, validation quadratic-weighted kappa after every
epoch, the best epoch kept, early stopping after `patience` epochs in which neither the val kappa nor
the val loss improved, once
`minEpochs` have run. No augmentation (run eval:medmnist with --augmentation none to compare).

Usage: python3 train_reference.py DIR METHOD [--npz retinamnist.npz] [--threads N]
Prints one JSON object: method, bestEpoch, epochs, seconds, val.kappa, test {accuracy, macroAuc, kappa}.
"""
import json
import math
import os
import sys
import time

import numpy as np
from sklearn.metrics import cohen_kappa_score, roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from vit_adapters import VitWithAdapter, read_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_NPZ = os.path.join(HERE, "..", "..", "..", "shared", "data", "medmnist", "retinamnist.npz")


def option(argv, name, default):
    return argv[argv.index(name) + 1] if name in argv else default


def images(x: np.ndarray, norm: dict) -> torch.Tensor:
    t = torch.from_numpy(x.astype(np.float32) / 255.0)
    if t.ndim == 3:
        t = t[..., None].expand(-1, -1, -1, 3)
    t = t.permute(0, 3, 1, 2).contiguous()
    mean = torch.tensor(norm["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(norm["std"]).view(1, 3, 1, 1)
    return (t - mean) / std


def lr_at(step: int, base: float, min_lr: float, total: int, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    if step >= total:
        return min_lr
    progress = (step - warmup) / (total - warmup)
    return min_lr + (base - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def predict(model: VitWithAdapter, x: torch.Tensor, batch: int = 256) -> torch.Tensor:
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            _, logits = model.head(model.blocks(model.embed(x[i:i + batch]), 0, model.cfg["depth"]))
            out.append(logits.softmax(-1))
    return torch.cat(out)


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    folder, method = argv[1], argv[2]
    torch.set_num_threads(int(option(argv, "--threads", str(os.cpu_count() or 1))))
    recipe = json.load(open(os.path.join(folder, "recipe.json")))
    spec = json.load(open(os.path.join(folder, f"adapter-{method}.json")))
    cfg = recipe["backbone"]
    backbone, _ = read_safetensors(os.path.join(folder, "backbone.safetensors"))
    init, _ = read_safetensors(os.path.join(folder, f"init-{method}.safetensors"))
    adapter = {k: v.clone().float().requires_grad_(True) for k, v in init.items()}
    backbone = {k: v.float() for k, v in backbone.items()}
    model = VitWithAdapter(cfg, backbone, spec, adapter)

    data = np.load(option(argv, "--npz", DEFAULT_NPZ))
    xtr, xva, xte = (images(data[f"{s}_images"], recipe["normalization"]) for s in ("train", "val", "test"))
    ytr, yva, yte = (torch.from_numpy(data[f"{s}_labels"][:, 0].astype(np.int64)) for s in ("train", "val", "test"))
    classes = spec["numClasses"]
    counts = torch.bincount(ytr, minlength=classes).double()
    present = int((counts > 0).sum())
    weight = None
    if recipe["classWeighting"] != "none":
        weight = torch.where(counts > 0, len(ytr) / (present * counts.clamp(min=1)), torch.zeros_like(counts)).float()

    decay = [v for k, v in adapter.items() if k.endswith(".weight") and ".norm" not in k]
    other = [v for k, v in adapter.items() if not (k.endswith(".weight") and ".norm" not in k)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": recipe["weightDecay"]}, {"params": other, "weight_decay": 0.0}],
                            lr=recipe["lr"], betas=(0.9, 0.999), eps=1e-8)
    batch, epochs = recipe["batchSize"], recipe["epochs"]
    steps_per_epoch = math.ceil(len(ytr) / batch)
    total = steps_per_epoch * epochs
    warmup = min(total, round(recipe["warmupFraction"] * total))
    min_lr = min(recipe.get("minLr", 0.0), recipe["lr"])
    gen = torch.Generator().manual_seed(int(recipe["seed"]))
    started = time.time()
    best = None
    best_val_loss = math.inf
    since = 0
    step = 0
    ran = 0
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(ytr), generator=gen)
        for b in range(steps_per_epoch):
            idx = order[b * batch:(b + 1) * batch]
            for g in opt.param_groups:
                g["lr"] = lr_at(step, recipe["lr"], min_lr, total, warmup)
            _, logits = model.head(model.blocks(model.embed(xtr[idx]), 0, cfg["depth"]))
            loss = F.cross_entropy(logits, ytr[idx], weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        ran = epoch
        p = predict(model, xva)
        kappa = cohen_kappa_score(yva.numpy(), p.argmax(1).numpy(), weights="quadratic")
        # Mean (unweighted) cross-entropy on val, as MedTune's validation loss.
        val_loss = float(F.nll_loss(torch.log(p.clamp_min(1e-12)), yva))
        # Progress only when it falls by more than a relative 1e-4 (core/train/early-stopping.ts).
        loss_improved = best_val_loss == math.inf or val_loss < best_val_loss - 1e-4 * abs(best_val_loss)
        best_val_loss = min(best_val_loss, val_loss)
        if best is None or kappa > best[0]:
            best = (kappa, epoch, {k: v.detach().clone() for k, v in adapter.items()})
            since = 0
        elif loss_improved:
            since = 0
        else:
            since += 1
            if recipe["patience"] > 0 and since >= recipe["patience"] and epoch >= recipe.get("minEpochs", 0):
                break
    with torch.no_grad():
        for k, v in best[2].items():
            adapter[k].copy_(v)
    p = predict(model, xte).numpy()
    pred = p.argmax(1)
    y = yte.numpy()
    result = {
        "method": method,
        "reference": "pytorch",
        "seed": recipe["seed"],
        "bestEpoch": best[1],
        "epochs": ran,
        "seconds": time.time() - started,
        "val": {"kappa": best[0]},
        "test": {"accuracy": float((pred == y).mean()), "macroAuc": float(roc_auc_score(y, p, multi_class="ovr", average="macro")),
                 "kappa": float(cohen_kappa_score(y, pred, weights="quadratic"))},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
