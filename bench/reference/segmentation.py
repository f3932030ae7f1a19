"""PyTorch reference of MedTune's segmentation head (core/model/segmentation-head.ts) for eval:drive.

Reads what bench/eval-drive.ts wrote into DIR: manifest.json, backbone.safetensors, init.safetensors
(the adapter's and the decoder's initial values), the DRIVE images/masks as raw uint8 and the crop
schedule; trains the same backbone + adapter + head with the same Dice + CE loss, Adam settings
and batches, then writes the validation images' foreground probabilities to reference-probs.f32.

    python3 bench/reference/segmentation.py DIR
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_adapters import VitWithAdapter, read_safetensors  # noqa: E402


def head_logits(tokens: torch.Tensor, v: dict, patch: int, eps: float) -> torch.Tensor:
    """tokens [B, N, D] (CLS first) -> logits [B, K, S, S]; weights HWIO as in the tfjs head."""
    b, n, d = tokens.shape
    g = int(round(math.sqrt(n - 1)))
    x = F.layer_norm(tokens[:, 1:], (d,), v["seg.norm.weight"], v["seg.norm.bias"], eps)
    x = x.reshape(b, g, g, d).permute(0, 3, 1, 2)
    x = F.relu(F.conv2d(x, v["seg.proj.weight"].t()[:, :, None, None], v["seg.proj.bias"]))
    for s in range(int(round(math.log2(patch)))):
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
        x = F.relu(F.conv2d(x, v[f"seg.up{s}.weight"].permute(3, 2, 0, 1), v[f"seg.up{s}.bias"], padding=1))
    return F.conv2d(x, v["seg.classifier.weight"].t()[:, :, None, None], v["seg.classifier.bias"])


def dice_ce(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    k = logits.shape[1]
    flat = logits.permute(0, 2, 3, 1).reshape(-1, k)
    w = weights.reshape(-1, 1).float()
    onehot = F.one_hot(labels.reshape(-1).long(), k).float()
    logp = F.log_softmax(flat, dim=1)
    ce = -(onehot * logp * w).sum() / w.sum().clamp(min=1)
    p, q = logp.exp() * w, onehot * w
    dice = (2 * (p * q).sum(0) + 1) / (p.sum(0) + q.sum(0) + 1)
    fg = dice[1:] if k > 1 else dice
    return ce + (1 - fg.mean())


def main(directory: str) -> int:
    torch.manual_seed(0)
    torch.set_num_threads(1)  # tiny tensors: one thread avoids OpenMP spin-waits on a busy machine
    m = json.load(open(os.path.join(directory, "manifest.json")))
    cfg, spec, steps, batch = m["backbone"], m["adapter"], m["steps"], m["batch"]
    backbone, _ = read_safetensors(os.path.join(directory, "backbone.safetensors"))
    init, _ = read_safetensors(os.path.join(directory, "init.safetensors"))
    params = {k: t.clone().requires_grad_(True) for k, t in init.items()}
    adapter = {k: t for k, t in params.items() if not k.startswith("seg.")}
    head = {k: t for k, t in params.items() if k.startswith("seg.")}
    vit = VitWithAdapter(cfg, backbone, spec, adapter)
    trainable = [t for k, t in params.items() if not k.startswith("head.")]
    opt = torch.optim.Adam(trainable, lr=m["lr"], betas=(0.9, 0.999), eps=1e-8)

    sizes = [(im["height"], im["width"]) for im in m["images"]]
    offsets = np.cumsum([0] + [h * w for h, w in sizes])
    rgb = np.fromfile(os.path.join(directory, "rgb.u8"), dtype=np.uint8)
    vessels = np.fromfile(os.path.join(directory, "vessels.u8"), dtype=np.uint8)
    fov = np.fromfile(os.path.join(directory, "fov.u8"), dtype=np.uint8)
    image = lambda i: rgb[offsets[i] * 3:offsets[i + 1] * 3].reshape(*sizes[i], 3)  # noqa: E731
    plane = lambda a, i: a[offsets[i]:offsets[i + 1]].reshape(sizes[i])  # noqa: E731
    schedule = np.fromfile(os.path.join(directory, "schedule.i32"), dtype=np.int32).reshape(-1, 3)
    s_ = cfg["imageSize"]
    patch, eps = cfg["patchSize"], float(cfg.get("layerNormEps", 1e-6))

    def crop(a: np.ndarray, y0: int, x0: int) -> np.ndarray:
        out = np.zeros((s_, s_) + a.shape[2:], dtype=a.dtype)
        part = a[max(y0, 0):y0 + s_, max(x0, 0):x0 + s_]
        out[:part.shape[0], :part.shape[1]] = part
        return out

    def forward(x_nhwc: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(x_nhwc.astype(np.float32) / 127.5 - 1).permute(0, 3, 1, 2)
        tokens = vit.blocks(vit.embed(x), 0, cfg["depth"])
        return head_logits(tokens, head, patch, eps)

    for step in range(steps):
        rows = schedule[step * batch:(step + 1) * batch]
        x = np.stack([crop(image(k), y, x0) for k, y, x0 in rows])
        y = torch.from_numpy(np.stack([crop(plane(vessels, k), yy, x0) for k, yy, x0 in rows]))
        w = torch.from_numpy(np.stack([crop(plane(fov, k), yy, x0) for k, yy, x0 in rows]))
        loss = dice_ce(forward(x), y, w)
        opt.zero_grad()
        loss.backward()
        opt.step()

    out = []
    with torch.no_grad():
        for k in m["val"]:
            h, w_ = sizes[k]
            prob = np.zeros((h, w_), dtype=np.float32)
            tiles = [(y, x0) for y in range(0, h, s_) for x0 in range(0, w_, s_)]
            for t in range(0, len(tiles), 64):
                part = tiles[t:t + 64]
                p = forward(np.stack([crop(image(k), y, x0) for y, x0 in part])).softmax(1)[:, 1].numpy()
                for (y, x0), tile in zip(part, p):
                    hh, ww = min(s_, h - y), min(s_, w_ - x0)
                    prob[y:y + hh, x0:x0 + ww] = tile[:hh, :ww]
            out.append(prob.reshape(-1))
    np.concatenate(out).astype("<f4").tofile(os.path.join(directory, "reference-probs.f32"))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
