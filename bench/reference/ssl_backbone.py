#!/usr/bin/python3
"""A self-supervised stand-in foundation model for the active-learning evaluation (`npm run eval:al -- --backbone`).

No pretrained weights can be downloaded here, and the supervised stand-in (bench/standin-backbone.ts) is trained on
*another* MedMNIST set's labels, which squeezes its 64 features towards that set's task. Real foundation models for
fundus and chest images (RETFound, for one) are self-supervised on many unlabelled images. This script does that at
toy scale: SimCLR (Chen et al. 2020; NT-Xent, temperature 0.2, a 2-layer projection head that is thrown away) on the
*unlabelled* pool images of RetinaMNIST, BreastMNIST and PneumoniaMNIST together (train splits only: no label, no
validation or test image is seen), with the stand-in's architecture (ViT, 28 px, 7 px patches, 64-d, depth 4,
4 heads, class token), so MedTune loads it like any timm checkpoint.

  /usr/bin/python3 bench/reference/ssl_backbone.py [--epochs 60] [--seed 0] [--threads 2] [--out FILE.safetensors]

Writes FILE.safetensors (timm names) and FILE.json (MedTune's ViT config) beside it; default
test-output/eval/backbones/simclr-s<seed>-e<epochs>.safetensors. About 19 s an epoch on two cores (60 epochs:
19 minutes). Inputs are scaled as MedTune's stand-in scales them (x/255 − 0.5)/0.5, grey images repeated over RGB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_adapters import write_safetensors  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
MEDMNIST = os.path.join(os.environ.get('MEDTUNE_SHARED', os.path.join(ROOT, '..', 'shared')), 'data', 'medmnist')
POOLS = ['retinamnist.npz', 'breastmnist_resaved.npz', 'pneumoniamnist_reduced_train.npz']
CONFIG = {'architecture': 'vit', 'imageSize': 28, 'patchSize': 7, 'embedDim': 64, 'depth': 4, 'numHeads': 4, 'mlpRatio': 4,
          'qkvBias': True, 'layerNormEps': 1e-6, 'gelu': 'erf', 'classToken': True, 'pool': 'token', 'finalNorm': True}


class Block(nn.Module):
    """A pre-norm transformer block; attribute names are timm's, so state_dict() is a timm checkpoint."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d, eps=CONFIG['layerNormEps'])
        self.norm2 = nn.LayerNorm(d, eps=CONFIG['layerNormEps'])
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(d, 3 * d)
        self.attn.proj = nn.Linear(d, d)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(d, CONFIG['mlpRatio'] * d)
        self.mlp.fc2 = nn.Linear(CONFIG['mlpRatio'] * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.attn.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)).softmax(-1)
        x = x + self.attn.proj((attn @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        d, p = CONFIG['embedDim'], CONFIG['patchSize']
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, d, p, p)
        tokens = (CONFIG['imageSize'] // p) ** 2 + 1
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.randn(1, tokens, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d, CONFIG['numHeads']) for _ in range(CONFIG['depth'])])
        self.norm = nn.LayerNorm(d, eps=CONFIG['layerNormEps'])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The class token after the final norm: the feature MedTune's heads read (pool 'token')."""
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], 1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.norm(x)[:, 0]


def pool_images() -> torch.Tensor:
    """Every pool (train split) image of the three sets, NCHW, scaled to [−1, 1]."""
    out = []
    for name in POOLS:
        x = np.load(os.path.join(MEDMNIST, name))['train_images']
        out.append(np.repeat(x[..., None], 3, -1) if x.ndim == 3 else x)
    return torch.tensor(np.concatenate(out)).permute(0, 3, 1, 2).float() / 255 * 2 - 1


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random resized crop (35–100 % of the area), rotation ±15°, horizontal flip, brightness/contrast, a little noise."""
    b = len(x)
    scale = torch.empty(b).uniform_(0.35, 1.0, generator=g).sqrt()
    angle = torch.empty(b).uniform_(-math.pi / 12, math.pi / 12, generator=g)
    flip = (torch.rand(b, generator=g) < 0.5).float() * 2 - 1
    tx = (torch.rand(b, generator=g) * 2 - 1) * (1 - scale)
    ty = (torch.rand(b, generator=g) * 2 - 1) * (1 - scale)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    y = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), padding_mode='reflection', align_corners=False)
    brightness = torch.empty(b, 1, 1, 1).uniform_(-0.3, 0.3, generator=g)
    contrast = torch.empty(b, 1, 1, 1).uniform_(0.6, 1.4, generator=g)
    m = y.mean((1, 2, 3), keepdim=True)
    return (y - m) * contrast + m + brightness + torch.randn(y.shape, generator=g) * 0.03


def nt_xent(z: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's loss: each view's positive is the other view of its image, the other 2B − 2 views are negatives."""
    z = F.normalize(z, dim=1)
    sim = z @ z.T / temperature
    sim.fill_diagonal_(-1e9)
    n = len(z) // 2
    return F.cross_entropy(sim, torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--epochs', type=int, default=60)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--out')
    a = ap.parse_args()
    out = a.out or os.path.join(ROOT, 'test-output', 'eval', 'backbones', f'simclr-s{a.seed}-e{a.epochs}.safetensors')
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    g = torch.Generator().manual_seed(a.seed)
    x = pool_images()
    model = ViT()
    projection = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 64))
    opt = torch.optim.AdamW(list(model.parameters()) + list(projection.parameters()), lr=1e-3, weight_decay=0.05)
    steps = len(x) // a.batch
    total = a.epochs * steps
    warmup = max(1, min(10 * steps, total // 10))
    step, started = 0, time.time()
    print(f'SimCLR on {len(x)} unlabelled pool images ({", ".join(POOLS)}), seed {a.seed}, {a.epochs} epochs of {steps} steps', flush=True)
    for epoch in range(a.epochs):
        order = torch.randperm(len(x), generator=g)
        running = 0.0
        for i in range(steps):
            lr = 1e-3 * (step + 1) / warmup if step < warmup else 1e-3 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))
            for group in opt.param_groups:
                group['lr'] = lr
            batch = x[order[i * a.batch:(i + 1) * a.batch]]
            loss = nt_xent(projection(model(torch.cat([augment(batch, g), augment(batch, g)]))), 0.2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            running += loss.item()
        print(f'epoch {epoch + 1}/{a.epochs}: loss {running / steps:.3f}, {time.time() - started:.0f} s', flush=True)
    write_safetensors(out, dict(model.state_dict()), {'format': 'pt', 'trained': f'SimCLR, {a.epochs} epochs, seed {a.seed}, unlabelled MedMNIST pools'})
    with open(out.replace('.safetensors', '.json'), 'w') as fh:
        json.dump(CONFIG, fh)
    print(f'wrote {out}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
