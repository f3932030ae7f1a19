#!/usr/bin/python3
"""PyTorch reference for `npm run bench:loop`: the training and scoring work of one labelling round.

Reads a JSON spec written by bench/loop.ts (the images as raw uint8 RGB at the model size, the same
pixels MedTune decodes from the PNGs; the adapter MedTune trained; epochs, batch; and per round the
train / validation / test / unlabelled image indices the MedTune run used) and, per round, times:

  train    frozen prefix (blocks < start layer) once per train+val image under no_grad; `epochs`
           epochs of AdamW steps in batches of `batch` over the shuffled train images from the cached
           prefix; each epoch scores the validation images from the cache; finally the test images
           (full forward). Round 2 starts from round 1's adapter (MedTune warm-starts).
  predict  full forward of every unlabelled image (no_grad, batches of `batch`), softmax.
  suggest  margin (p1 − p2) of each, the `suggest` smallest.

Nothing is kept between rounds except the adapter (MedTune's run recomputes the prefix too).
One JSON object on stdout. Model code: vit_adapters.py (the model checked against MedTune's fixtures).
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_adapters as va  # noqa: E402  (sets the BLAS/OpenMP threads before importing torch)

torch, F = va.torch, va.F


def main(spec_path: str) -> int:
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    torch.set_num_threads(va._CORES)
    size = spec["size"]
    cfg = {"layerNormEps": 1e-6, **spec["model"]}
    depth = cfg["depth"]
    a = spec["adapter"]
    k = int(a.get("startLayer", 0))
    adapter_spec = {"method": a["method"], "numClasses": a["numClasses"]}
    if a["method"] == "dvpt":
        adapter_spec.update(bottleneck=a["bottleneck"], numPrompts=a["numPrompts"], share=a["share"],
                            layers=list(range(k, depth)))
    elif a["method"] == "ept":
        adapter_spec.update(promptLength=a["promptLength"], layers=a.get("layers", list(range(depth))))
        k = min(adapter_spec["layers"])

    raw = torch.frombuffer(bytearray(open(spec["pixels"], "rb").read()), dtype=torch.uint8)
    pixels = raw.reshape(-1, size, size, 3)
    labels = torch.tensor(spec["labels"], dtype=torch.long)

    def images(idx: list[int]) -> torch.Tensor:
        # 8-bit HWC → normalized NCHW floats (mean = std = 0.5), as MedTune's input pipeline.
        x = pixels[idx].permute(0, 3, 1, 2).float() / 255.0
        return (x - 0.5) / 0.5

    gen = torch.Generator().manual_seed(0)
    backbone = va.random_backbone(cfg, gen)
    adapter = va.random_adapter(adapter_spec, cfg, gen)
    model = va.VitWithAdapter(cfg, backbone, adapter_spec, adapter)
    batch = spec["batch"]

    def batches(idx: list[int]):
        for s in range(0, len(idx), batch):
            yield idx[s:s + batch]

    rounds = []
    for r in spec["rounds"]:
        t0 = time.perf_counter()
        optimizer = torch.optim.AdamW(model.trainable(), lr=spec["lr"], weight_decay=spec["weightDecay"])
        cached: dict[int, torch.Tensor] = {}
        with torch.no_grad():
            for chunk in batches(r["train"] + r["val"]):
                out = model.blocks(model.embed(images(chunk)), 0, k)
                for i, j in enumerate(chunk):
                    cached[j] = out[i]
        prefix_s = time.perf_counter() - t0
        train = list(r["train"])
        for _epoch in range(spec["epochs"]):
            order = torch.randperm(len(train), generator=gen).tolist()
            for chunk in batches([train[i] for i in order]):
                optimizer.zero_grad(set_to_none=True)
                x = model.blocks(torch.stack([cached[j] for j in chunk]), k, depth)
                _, logits = model.head(x)
                F.cross_entropy(logits, labels[chunk]).backward()
                optimizer.step()
            with torch.no_grad():
                for chunk in batches(r["val"]):
                    model.head(model.blocks(torch.stack([cached[j] for j in chunk]), k, depth))
        with torch.no_grad():
            for chunk in batches(r["test"]):
                model.head(model.blocks(model.embed(images(chunk)), 0, depth))
        train_s = time.perf_counter() - t0

        t1 = time.perf_counter()
        probs = []
        with torch.no_grad():
            for chunk in batches(r["unlabeled"]):
                _, logits = model.head(model.blocks(model.embed(images(chunk)), 0, depth))
                probs.append(logits.softmax(dim=-1))
        p = torch.cat(probs) if probs else torch.zeros(0, a["numClasses"])
        predict_s = time.perf_counter() - t1

        t2 = time.perf_counter()
        top2 = p.topk(2, dim=-1).values
        margin = top2[:, 0] - top2[:, 1]
        picked = margin.argsort()[: spec["suggest"]].tolist()
        suggest_s = time.perf_counter() - t2
        rounds.append({"prefix": round(prefix_s, 3), "train": round(train_s, 3), "predict": round(predict_s, 3),
                       "suggest": round(suggest_s, 4), "total": round(train_s + predict_s + suggest_s, 3),
                       "predicted": int(p.shape[0]), "suggested": len(picked)})
    print(json.dumps({"torchVersion": torch.__version__, "blas": va.blas_library(), "threads": torch.get_num_threads(),
                      "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE"), "rounds": rounds}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
