#!/usr/bin/python3
"""PyTorch reference for MedTune's frozen ViT with EPT / DVPT / LoRA adapters.

Three jobs, one model definition (so the timed model is provably the checked one):

  check-fixtures DIR   reproduce the parity fixtures (features, logits, loss, block outputs,
                       gradients of every trainable tensor) and exit non-zero on a mismatch.
  make-expected DIR    write expected-<method>.safetensors for a fixture folder that has the
                       backbone and adapter-<method>.{json,safetensors} (seeded random inputs,
                       computed in float64): new methods get their parity fixture this way.
  bench ...            time a training step and inference on random weights; one JSON object
                       on stdout. `npm run bench:train` runs this beside MedTune's own trainer.

The maths follows /work/shared/docs/METHODS.md and tensor names are exactly the checkpoint names
there (timm naming for the backbone, `ept.layers.{l}.prompt`, `dvpt.modules.{m}.*`, `head.*`);
LoRA's are `lora.blocks.{i}.qkv.A` [r, D] and `lora.blocks.{i}.qkv.B` [3D, r] (docs/model.md).
Only torch and the standard library are used: no timm, no downloads. Run it with Debian's
interpreter (`/usr/bin/python3`, packages python3-torch + libopenblas0-pthread).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import struct
import sys
import time


def _int_option(argv: list[str], name: str) -> int | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv) and argv[i + 1].isdigit():
            return int(argv[i + 1])
        if arg.startswith(name + "=") and arg.split("=", 1)[1].isdigit():
            return int(arg.split("=", 1)[1])
    return None


# OpenBLAS (pthread build) sizes its own thread pool when the library loads and ignores
# torch.set_num_threads, so its thread count has to be in the environment before `import torch`.
# OpenMP (torch's element-wise ops, layer norm, softmax) is set again with torch.set_num_threads.
_CORES = os.cpu_count() or 1
_ARGV = sys.argv[1:] if sys.argv[1:2] == ["bench"] else []
_THREADS = _int_option(_ARGV, "--threads") or _CORES
_BLAS_THREADS = _int_option(_ARGV, "--blas-threads") or _THREADS
os.environ["OMP_NUM_THREADS"] = str(_THREADS)
os.environ["OPENBLAS_NUM_THREADS"] = str(_BLAS_THREADS)

try:
    import torch
    import torch.nn.functional as F
except ImportError as exc:  # the TS bench reports PyTorch as missing when this exits 3
    print(f"vit_adapters.py: PyTorch is not importable ({exc}); "
          "install it with `apt-get install -y python3-torch libopenblas0-pthread` "
          "and run this script with /usr/bin/python3", file=sys.stderr)
    sys.exit(3)


class InputError(Exception):
    """Bad input file or option; the message names the file and the reason."""


# ---------------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian header length, JSON header, raw little-endian data.

_DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2),
           "F64": (torch.float64, 8)}


def read_safetensors(path: str) -> tuple[dict[str, torch.Tensor], dict]:
    """Returns ({name: float32 tensor}, metadata). F16/BF16/F64 are converted to float32."""
    try:
        with open(path, "rb") as fh:
            blob = fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    if len(blob) < 8:
        raise InputError(f"{path}: too short to be a safetensors file")
    (header_len,) = struct.unpack("<Q", blob[:8])
    if header_len > len(blob) - 8:
        raise InputError(f"{path}: header length {header_len} exceeds the file size")
    try:
        header = json.loads(blob[8:8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise InputError(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", {}) or {}
    data = memoryview(blob)[8 + header_len:]
    tensors: dict[str, torch.Tensor] = {}
    for name, info in header.items():
        dtype_name = info.get("dtype") if isinstance(info, dict) else None
        if dtype_name not in _DTYPES:
            raise InputError(f"{path}: tensor '{name}' has unsupported dtype {dtype_name!r} "
                             f"(supported: {', '.join(_DTYPES)})")
        dtype, item_size = _DTYPES[dtype_name]
        shape = [int(s) for s in info.get("shape", [])]
        begin, end = (int(o) for o in info.get("data_offsets", [-1, -1]))
        count = math.prod(shape)
        if not 0 <= begin <= end <= len(data) or end - begin != count * item_size:
            raise InputError(f"{path}: tensor '{name}' has data_offsets [{begin}, {end}] that do not "
                             f"match shape {shape} of {dtype_name} within {len(data)} data bytes")
        raw = bytearray(data[begin:end])  # a copy: torch.frombuffer needs a writable buffer
        if count == 0:
            tensor = torch.zeros(shape, dtype=torch.float32)
        else:
            tensor = torch.frombuffer(raw, dtype=dtype)
            if sys.byteorder != "little":
                tensor = tensor.view(torch.uint8).view(-1, item_size).flip(1).reshape(-1).view(dtype)
            tensor = tensor.reshape(shape).to(torch.float32)
        tensors[name] = tensor
    return tensors, metadata


def read_json(path: str) -> dict:
    try:
        with open(path, "r", encoding="utf-8") as fh:
            value = json.load(fh)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise InputError(f"{path}: expected a JSON object")
    return value


# ---------------------------------------------------------------------------------------------
# Backbone config and weights (timm naming; Hugging Face ViTModel names are mapped onto it).

def backbone_shapes(cfg: dict) -> dict[str, list[int]]:
    d, p, n = cfg["embedDim"], cfg["patchSize"], num_tokens(cfg)
    hidden = int(d * cfg.get("mlpRatio", 4))
    shapes = {"patch_embed.proj.weight": [d, 3, p, p], "patch_embed.proj.bias": [d],
              "cls_token": [1, 1, d], "pos_embed": [1, n, d], "norm.weight": [d], "norm.bias": [d]}
    for i in range(cfg["depth"]):
        b = f"blocks.{i}."
        shapes.update({b + "norm1.weight": [d], b + "norm1.bias": [d],
                       b + "attn.qkv.weight": [3 * d, d], b + "attn.qkv.bias": [3 * d],
                       b + "attn.proj.weight": [d, d], b + "attn.proj.bias": [d],
                       b + "norm2.weight": [d], b + "norm2.bias": [d],
                       b + "mlp.fc1.weight": [hidden, d], b + "mlp.fc1.bias": [hidden],
                       b + "mlp.fc2.weight": [d, hidden], b + "mlp.fc2.bias": [d]})
    return shapes


def num_tokens(cfg: dict) -> int:
    return 1 + (cfg["imageSize"] // cfg["patchSize"]) ** 2


def hf_to_timm(weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Hugging Face ViTModel names -> timm names; q, k, v are concatenated into qkv."""
    if "vit.embeddings.cls_token" not in weights:
        return weights
    out = {"cls_token": weights["vit.embeddings.cls_token"],
           "pos_embed": weights["vit.embeddings.position_embeddings"],
           "patch_embed.proj.weight": weights["vit.embeddings.patch_embeddings.projection.weight"],
           "patch_embed.proj.bias": weights["vit.embeddings.patch_embeddings.projection.bias"],
           "norm.weight": weights["vit.layernorm.weight"], "norm.bias": weights["vit.layernorm.bias"]}
    i = 0
    while f"vit.encoder.layer.{i}.layernorm_before.weight" in weights:
        h, b = f"vit.encoder.layer.{i}.", f"blocks.{i}."
        att = h + "attention.attention."
        for kind in ("weight", "bias"):
            out[b + f"attn.qkv.{kind}"] = torch.cat([weights[att + f"{x}.{kind}"] for x in ("query", "key", "value")])
            out[b + f"norm1.{kind}"] = weights[h + f"layernorm_before.{kind}"]
            out[b + f"attn.proj.{kind}"] = weights[h + f"attention.output.dense.{kind}"]
            out[b + f"norm2.{kind}"] = weights[h + f"layernorm_after.{kind}"]
            out[b + f"mlp.fc1.{kind}"] = weights[h + f"intermediate.dense.{kind}"]
            out[b + f"mlp.fc2.{kind}"] = weights[h + f"output.dense.{kind}"]
        i += 1
    return out


def check_shapes(path: str, tensors: dict[str, torch.Tensor], expected: dict[str, list[int]]) -> None:
    for name, shape in expected.items():
        if name not in tensors:
            raise InputError(f"{path}: missing tensor '{name}'")
        if list(tensors[name].shape) != shape:
            raise InputError(f"{path}: tensor '{name}' has shape {list(tensors[name].shape)}, expected {shape}")


# ---------------------------------------------------------------------------------------------
# Adapters. `spec` is the adapter JSON (method + hyperparameters + numClasses).

def adapter_shapes(spec: dict, cfg: dict) -> dict[str, list[int]]:
    d, method = cfg["embedDim"], spec["method"]
    shapes = {"head.weight": [spec["numClasses"], d], "head.bias": [spec["numClasses"]]}
    if method == "ept":
        for layer in spec["layers"]:
            shapes[f"ept.layers.{layer}.prompt"] = [num_tokens(cfg), spec["promptLength"]]
    elif method == "dvpt":
        r, m = spec["bottleneck"], spec["numPrompts"]
        for module in dvpt_modules(spec, cfg):
            p = f"dvpt.modules.{module}."
            shapes.update({p + "down.weight": [r, d], p + "down.bias": [r], p + "prompts": [m, r],
                           p + "up.weight": [d, r], p + "up.bias": [d], p + "gate": [1]})
    elif method == "lora":
        r = spec.get("rank", 8)
        for layer in lora_layers(spec, cfg):
            shapes[f"lora.blocks.{layer}.qkv.A"] = [r, d]
            shapes[f"lora.blocks.{layer}.qkv.B"] = [3 * d, r]
    elif method != "linear":
        raise InputError(f"adapter method {method!r} is not one of {' | '.join(METHODS)}")
    return shapes


def lora_layers(spec: dict, cfg: dict) -> list[int]:
    # Like EPT's `layers`: all blocks when omitted.
    layers = sorted(set(spec.get("layers", range(cfg["depth"]))))
    for layer in layers:
        if layer >= cfg["depth"]:
            raise InputError(f"LoRA layer {layer} does not exist in a backbone of depth {cfg['depth']}")
    return layers


def dvpt_layers(spec: dict, cfg: dict) -> list[int]:
    # METHODS.md puts DVPT in every layer; `layers` (bench only) restricts it to the last ones.
    return list(spec.get("layers", range(cfg["depth"])))


def dvpt_modules(spec: dict, cfg: dict) -> list[int]:
    return sorted({i // spec["share"] for i in dvpt_layers(spec, cfg)})


# ---------------------------------------------------------------------------------------------
# The model, functional over a {name: tensor} dict so every tensor keeps its checkpoint name.

class VitWithAdapter:
    def __init__(self, cfg: dict, backbone: dict[str, torch.Tensor], spec: dict,
                 adapter: dict[str, torch.Tensor]):
        self.cfg, self.spec = cfg, spec
        self.w = backbone
        self.a = adapter
        self.eps = float(cfg.get("layerNormEps", 1e-6))
        self.heads = cfg["numHeads"]
        self.ept_layers = set(spec.get("layers", [])) if spec["method"] == "ept" else set()
        self.dvpt_layers = set(dvpt_layers(spec, cfg)) if spec["method"] == "dvpt" else set()
        self.lora_layers = set(lora_layers(spec, cfg)) if spec["method"] == "lora" else set()
        # LoRA (Hu et al. 2021): qkv += (alpha / r) * (h A^T) B^T
        self.lora_scale = spec.get("alpha", 16) / spec.get("rank", 8) if spec["method"] == "lora" else 0.0

    def trainable(self) -> list[torch.Tensor]:
        return list(self.a.values())

    def embed(self, images_nchw: torch.Tensor) -> torch.Tensor:
        w = self.w
        x = F.conv2d(images_nchw, w["patch_embed.proj.weight"], w["patch_embed.proj.bias"],
                     stride=self.cfg["patchSize"])
        x = x.flatten(2).transpose(1, 2)  # [B, N-1, D], token = row * (W/P) + col
        cls = w["cls_token"].expand(x.shape[0], -1, -1)
        return torch.cat([cls, x], dim=1) + w["pos_embed"]

    def attention(self, h: torch.Tensor, i: int) -> torch.Tensor:
        b, n, d = h.shape
        heads, hd = self.heads, d // self.heads
        p = f"blocks.{i}.attn."
        qkv = F.linear(h, self.w[p + "qkv.weight"], self.w[p + "qkv.bias"])
        if i in self.lora_layers:
            lora = f"lora.blocks.{i}.qkv."
            qkv = qkv + self.lora_scale * F.linear(F.linear(h, self.a[lora + "A"]), self.a[lora + "B"])
        q, k, v = qkv.reshape(b, n, 3, heads, hd).permute(2, 0, 3, 1, 4)  # each [B, H, N, d]
        logits = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        if i in self.ept_layers:
            # EPT: prompt columns join the softmax (unscaled) and are then dropped, so each
            # row sums to < 1. Concatenation as in the authors' code.
            prompt = self.a[f"ept.layers.{i}.prompt"]
            plen = prompt.shape[1]
            full = torch.cat([prompt.expand(b, heads, n, plen), logits], dim=-1)
            attn = full.softmax(dim=-1)[..., plen:]
        else:
            attn = logits.softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(b, n, d)
        return F.linear(out, self.w[p + "proj.weight"], self.w[p + "proj.bias"])

    def mlp(self, h: torch.Tensor, i: int) -> torch.Tensor:
        p = f"blocks.{i}.mlp."
        h = F.gelu(F.linear(h, self.w[p + "fc1.weight"], self.w[p + "fc1.bias"]))  # exact erf GELU
        return F.linear(h, self.w[p + "fc2.weight"], self.w[p + "fc2.bias"])

    def layer_norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, x.shape[-1:], self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def dvpt(self, a: torch.Tensor, i: int) -> torch.Tensor:
        p = f"dvpt.modules.{i // self.spec['share']}."
        xp = F.gelu(F.linear(a, self.a[p + "down.weight"], self.a[p + "down.bias"]))  # [B, N, r]
        r = xp.shape[-1]
        scores = (self.a[p + "prompts"] @ xp.transpose(1, 2)) * (1.0 / math.sqrt(r))  # [B, M, N]
        weights = scores.softmax(dim=-1)
        o = weights @ xp  # [B, M, r]
        y = weights.transpose(1, 2) @ o  # scatter back with the same map: [B, N, r]
        return self.a[p + "gate"] * F.linear(y, self.a[p + "up.weight"], self.a[p + "up.bias"])

    def block(self, x: torch.Tensor, i: int) -> torch.Tensor:
        a = x + self.attention(self.layer_norm(x, f"blocks.{i}.norm1"), i)
        out = a + self.mlp(self.layer_norm(a, f"blocks.{i}.norm2"), i)
        if i in self.dvpt_layers:
            out = out + self.dvpt(a, i)
        return out

    def blocks(self, x: torch.Tensor, start: int, stop: int, keep: dict | None = None) -> torch.Tensor:
        for i in range(start, stop):
            x = self.block(x, i)
            if keep is not None:
                keep[i] = x
        return x

    def head(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.layer_norm(x, "norm")
        features = x[:, 1:].mean(dim=1) if self.cfg.get("pool") == "avg" else x[:, 0]
        return features, F.linear(features, self.a["head.weight"], self.a["head.bias"])


# ---------------------------------------------------------------------------------------------
# check-fixtures

OUTPUT_TOL, GRAD_TOL = 1e-4, 1e-3
METHODS = ("linear", "ept", "dvpt", "lora")


def relative_error(out: torch.Tensor, ref: torch.Tensor) -> float:
    out, ref = out.detach().double().reshape(-1), ref.double().reshape(-1)
    ref_norm = ref.norm().item()
    diff = (out - ref).norm().item()
    return diff / ref_norm if ref_norm > 0 else diff


def forward_and_backward(cfg: dict, backbone: dict, spec: dict, adapter: dict, images: torch.Tensor,
                         labels: torch.Tensor) -> dict[str, torch.Tensor]:
    """The fixture outputs of one batch; the adapter tensors' .grad hold the loss gradients after."""
    model = VitWithAdapter(cfg, backbone, spec, adapter)
    kept: dict[int, torch.Tensor] = {}
    x = model.blocks(model.embed(images), 0, cfg["depth"], kept)
    features, logits = model.head(x)
    loss = F.cross_entropy(logits, labels.long())
    loss.backward()
    return {"features": features, "logits": logits, "loss": loss.reshape(1),
            "block0_output": kept[0], "last_block_output": kept[cfg["depth"] - 1]}


def write_safetensors(path: str, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """float32 little-endian, names sorted; written to a temporary file and renamed."""
    header: dict = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous().reshape(-1)
        raw = struct.pack(f"<{t.numel()}f", *t.tolist())
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode("utf-8")
    head += b" " * (-len(head) % 8)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(struct.pack("<Q", len(head)) + head + b"".join(chunks))
    os.replace(tmp, path)


def make_expected(fixture_dir: str, method: str, batch: int, seed: int) -> int:
    """expected-<method>.safetensors for the folder's backbone and adapter, computed in float64."""
    join = os.path.join
    cfg = read_json(join(fixture_dir, "backbone.json"))
    timm_path = join(fixture_dir, "backbone-timm.safetensors")
    backbone, _ = read_safetensors(timm_path)
    check_shapes(timm_path, backbone, backbone_shapes(cfg))
    spec = read_json(join(fixture_dir, f"adapter-{method}.json"))
    if spec.get("method") != method:
        raise InputError(f"{join(fixture_dir, f'adapter-{method}.json')}: method is {spec.get('method')!r}, not {method!r}")
    adapter_path = join(fixture_dir, f"adapter-{method}.safetensors")
    adapter, _ = read_safetensors(adapter_path)
    check_shapes(adapter_path, adapter, adapter_shapes(spec, cfg))
    unknown = sorted(set(adapter) - set(adapter_shapes(spec, cfg)))
    if unknown:
        raise InputError(f"{adapter_path}: unknown tensor '{unknown[0]}' for a {method} adapter")
    gen = torch.Generator().manual_seed(seed)
    size = cfg["imageSize"]
    images = torch.randn(batch, 3, size, size, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, spec["numClasses"], (batch,), generator=gen)
    backbone = {k: v.double() for k, v in backbone.items()}
    adapter = {k: v.double().requires_grad_(True) for k, v in adapter.items()}
    produced = forward_and_backward(cfg, backbone, spec, adapter, images, labels)
    out = {"input.images_nchw": images, "input.labels": labels.double(), **produced}
    out.update({f"grad.{name}": t.grad for name, t in adapter.items()})
    path = join(fixture_dir, f"expected-{method}.safetensors")
    write_safetensors(path, out, {"dtype": "computed in float64", "loss": "mean softmax cross-entropy over the batch",
                                  "generator": f"vit_adapters.py make-expected --batch {batch} --seed {seed}"})
    print(f"wrote {path}: {len(out)} tensors")
    return 0


def check_fixtures(fixture_dir: str, dtype: torch.dtype) -> int:
    join = os.path.join
    cfg = read_json(join(fixture_dir, "backbone.json"))
    timm_path = join(fixture_dir, "backbone-timm.safetensors")
    backbone, _ = read_safetensors(timm_path)
    check_shapes(timm_path, backbone, backbone_shapes(cfg))
    failures, lines = 0, []

    def report(label: str, err: float, tol: float) -> None:
        nonlocal failures
        ok = err <= tol
        failures += 0 if ok else 1
        lines.append(f"{label:<44} rel={err:.2e} tol={tol:.0e} {'ok' if ok else 'MISMATCH'}")

    hf_path = join(fixture_dir, "backbone-hf.safetensors")
    if os.path.exists(hf_path):  # the HF naming must map onto exactly the same tensors
        hf = hf_to_timm(read_safetensors(hf_path)[0])
        check_shapes(hf_path, hf, backbone_shapes(cfg))
        report("backbone-hf == backbone-timm (max over tensors)",
               max(relative_error(hf[k], backbone[k]) for k in backbone_shapes(cfg)), 0.0)

    backbone = {k: v.to(dtype) for k, v in backbone.items()}
    for method in METHODS:
        spec_path = join(fixture_dir, f"adapter-{method}.json")
        if not os.path.exists(spec_path):
            lines.append(f"{method}: no {os.path.basename(spec_path)}, skipped")
            continue
        spec = read_json(spec_path)
        adapter_path = join(fixture_dir, f"adapter-{method}.safetensors")
        adapter, _ = read_safetensors(adapter_path)
        check_shapes(adapter_path, adapter, adapter_shapes(spec, cfg))
        adapter = {k: v.to(dtype).requires_grad_(True) for k, v in adapter.items()}
        expected_path = join(fixture_dir, f"expected-{method}.safetensors")
        expected, _ = read_safetensors(expected_path)

        produced = forward_and_backward(cfg, backbone, spec, adapter,
                                        expected["input.images_nchw"].to(dtype), expected["input.labels"])
        for name, ref in expected.items():
            if name.startswith("input."):
                continue
            if name.startswith("grad."):
                tensor = adapter.get(name[len("grad."):])
                if tensor is None:
                    raise InputError(f"{expected_path}: '{name}' names no trainable tensor of {adapter_path}")
                report(f"{method} {name}", relative_error(tensor.grad, ref), GRAD_TOL)
            elif name in produced:
                report(f"{method} {name}", relative_error(produced[name], ref), OUTPUT_TOL)
            else:
                lines.append(f"{method} {name}: not produced by this reference, skipped")
        for name in adapter:  # every trainable tensor must have an expected gradient
            if f"grad.{name}" not in expected:
                lines.append(f"{method} grad.{name}: no expected gradient in the fixture")
    print("\n".join(lines))
    print(f"{'FAIL' if failures else 'PASS'}: {failures} mismatch(es), dtype {str(dtype).replace('torch.', '')}")
    return 1 if failures else 0


# ---------------------------------------------------------------------------------------------
# bench

MODELS = {  # ViT /16, MLP ratio 4
    "vit-tiny": {"embedDim": 192, "depth": 12, "numHeads": 3},
    "vit-small": {"embedDim": 384, "depth": 12, "numHeads": 6},
    "vit-base": {"embedDim": 768, "depth": 12, "numHeads": 12},
}


def random_backbone(cfg: dict, gen: torch.Generator) -> dict[str, torch.Tensor]:
    weights = {}
    for name, shape in backbone_shapes(cfg).items():
        if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight":
            weights[name] = torch.ones(shape)
        elif name.endswith(".bias"):
            weights[name] = torch.zeros(shape)
        else:
            weights[name] = torch.randn(shape, generator=gen) * 0.02
    return weights


def random_adapter(spec: dict, cfg: dict, gen: torch.Generator) -> dict[str, torch.Tensor]:
    adapter = {}
    for name, shape in adapter_shapes(spec, cfg).items():
        if name.endswith("prompts"):
            value = torch.randn(shape, generator=gen)  # DVPT prompts: N(0, 1)
        elif name.endswith("gate"):
            value = torch.zeros(shape)  # DVPT starts at the pretrained function
        elif name.endswith(".bias") or name.endswith(".qkv.B"):
            value = torch.zeros(shape)  # LoRA's B starts at zero: the pretrained function
        else:
            value = torch.randn(shape, generator=gen) * 0.02
        adapter[name] = value.requires_grad_(True)
    return adapter


def timed(fn, steps: int, warmup: int) -> dict:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return {"medianMs": round(statistics.median(times), 2), "minMs": round(min(times), 2),
            "maxMs": round(max(times), 2), "samplesMs": [round(t, 2) for t in times]}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)  # KiB on Linux


def blas_library() -> str | None:
    """The BLAS shared object actually mapped into this process (Debian's torch links libblas.so.3,
    which the alternatives system points at OpenBLAS)."""
    try:
        with open("/proc/self/maps", "r", encoding="utf-8") as fh:
            paths = {line.split()[-1] for line in fh if len(line.split()) >= 6}
    except OSError:
        return None
    for key in ("openblas", "mkl", "blis", "libblas"):
        hits = sorted(p for p in paths if key in os.path.basename(p).lower())
        if hits:
            return os.path.realpath(hits[0])
    return None


def bench(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    size = MODELS[args.model]
    cfg = {"imageSize": args.image_size, "patchSize": 16, "mlpRatio": 4, "layerNormEps": 1e-6,
           "pool": "token", **size}
    depth = cfg["depth"]
    k = args.prefix_cache
    if k is not None and not 0 <= k <= depth:
        raise InputError(f"--prefix-cache {k}: must be between 0 and the depth {depth}")
    adapted = list(range(k if k is not None else 0, depth))
    spec: dict = {"method": args.method, "numClasses": args.classes}
    if args.method == "ept":
        spec.update(promptLength=args.prompt_length, layers=adapted)
    elif args.method == "dvpt":
        spec.update(bottleneck=args.bottleneck, numPrompts=args.num_prompts, share=args.share, layers=adapted)
    elif args.method == "lora":
        spec.update(rank=args.rank, alpha=args.alpha, layers=adapted)

    load_before = os.getloadavg()[0]  # other processes on the machine skew the timings: record it
    gen = torch.Generator().manual_seed(0)
    backbone = random_backbone(cfg, gen)  # frozen: requires_grad stays False
    adapter = random_adapter(spec, cfg, gen)
    model = VitWithAdapter(cfg, backbone, spec, adapter)
    optimizer = torch.optim.AdamW(model.trainable(), lr=1e-3, weight_decay=0.01)
    images = torch.rand(args.batch, 3, args.image_size, args.image_size, generator=gen)
    labels = torch.randint(0, args.classes, (args.batch,), generator=gen)

    def prefix() -> torch.Tensor:
        with torch.no_grad():
            return model.blocks(model.embed(images), 0, k, None)

    result: dict = {}
    if k is not None:
        # Layers < k hold no adapter, so their output per image never changes during training:
        # compute it once (no_grad) and train only layers >= k on the cached activations.
        result["prefix"] = timed(prefix, args.steps, args.warmup)
        cached = prefix()

        def start_activations() -> torch.Tensor:
            return cached
        start = k
    else:
        def start_activations() -> torch.Tensor:
            return model.embed(images)
        start = 0

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        x = model.blocks(start_activations(), start, depth)
        _, logits = model.head(x)
        F.cross_entropy(logits, labels).backward()
        optimizer.step()

    def inference() -> None:
        with torch.no_grad():
            model.head(model.blocks(model.embed(images), 0, depth))

    result["train"] = timed(train_step, args.steps, args.warmup)
    result["peakRssMbAfterTrain"] = peak_rss_mb()
    result["inference"] = timed(inference, args.steps, args.warmup)
    for phase in ("train", "inference", "prefix"):
        if phase in result:
            result[phase]["imagesPerSec"] = round(args.batch * 1000.0 / result[phase]["medianMs"], 2)

    trainable = sum(t.numel() for t in adapter.values())
    frozen = sum(t.numel() for t in backbone.values())
    return {
        "framework": "pytorch", "torchVersion": torch.__version__, "blas": blas_library(),
        "model": args.model, "method": args.method, "batch": args.batch, "imageSize": args.image_size,
        "tokens": num_tokens(cfg), "threads": torch.get_num_threads(),
        "blasThreads": int(os.environ["OPENBLAS_NUM_THREADS"]), "cores": _CORES, "steps": args.steps,
        "warmup": args.warmup, "prefixCache": k, "adaptedLayers": adapted if args.method != "linear" else [],
        "adapter": spec, "trainableParams": trainable, "backboneParams": frozen,
        **result, "peakRssMb": peak_rss_mb(),
        "loadAverage1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }


def format_text(r: dict) -> str:
    lines = [f"PyTorch {r['torchVersion']} ({r['blas']}), {r['threads']} threads "
             f"({r['blasThreads']} BLAS): {r['model']} "
             f"{r['method']} batch {r['batch']} at {r['imageSize']}px"
             + (f", prefix cache k={r['prefixCache']}" if r["prefixCache"] is not None else "")]
    for phase in ("prefix", "train", "inference"):
        if phase in r:
            lines.append(f"  {phase:<10} median {r[phase]['medianMs']:>9.1f} ms  {r[phase]['imagesPerSec']:>7.2f} img/s")
    lines.append(f"  trainable {r['trainableParams']:,} of {r['backboneParams']:,} backbone params; "
                 f"peak RSS {r['peakRssMb']} MB; load average {r['loadAverage1m']['before']} -> {r['loadAverage1m']['after']}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vit_adapters.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-fixtures", help="reproduce the parity fixtures; non-zero exit on mismatch")
    check.add_argument("dir", help="fixture directory (backbone.json, backbone-timm.safetensors, ...)")
    check.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    make = sub.add_parser("make-expected", help="write expected-<method>.safetensors for a fixture folder")
    make.add_argument("dir", help="folder with backbone.json, backbone-timm.safetensors, adapter-<method>.*")
    make.add_argument("--method", choices=METHODS, required=True)
    make.add_argument("--batch", type=int, default=4)
    make.add_argument("--seed", type=int, default=0)
    b = sub.add_parser("bench", help="time a training step and inference on random weights")
    b.add_argument("--model", choices=sorted(MODELS), default="vit-tiny")
    b.add_argument("--method", choices=("ept", "dvpt", "lora", "linear"), default="ept")
    b.add_argument("--batch", type=int, default=8)
    b.add_argument("--image-size", type=int, default=224)
    b.add_argument("--steps", type=int, default=5, help="timed iterations per phase")
    b.add_argument("--warmup", type=int, default=1, help="untimed iterations per phase")
    b.add_argument("--threads", type=int, default=_CORES,
                   help="torch.set_num_threads (OpenMP intra-op threads); default: number of cores")
    b.add_argument("--blas-threads", type=int, default=None,
                   help="OpenBLAS threads (OPENBLAS_NUM_THREADS); default: --threads")
    b.add_argument("--classes", type=int, default=5)
    b.add_argument("--prompt-length", type=int, default=100, help="EPT P")
    b.add_argument("--bottleneck", type=int, default=64, help="DVPT r")
    b.add_argument("--num-prompts", type=int, default=10, help="DVPT M")
    b.add_argument("--share", type=int, default=3, help="DVPT layers per module")
    b.add_argument("--rank", type=int, default=8, help="LoRA r")
    b.add_argument("--alpha", type=float, default=16.0, help="LoRA alpha (scale alpha / r)")
    b.add_argument("--prefix-cache", type=int, default=None, metavar="K",
                   help="adapters only in layers >= K; layers < K are computed once under no_grad "
                        "and the training step starts from that cached activation")
    b.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    if args.command == "make-expected" and args.batch < 1:
        parser.error("--batch must be at least 1")
    if args.command == "bench":
        for name in ("batch", "image_size", "steps", "threads", "classes", "prompt_length",
                     "bottleneck", "num_prompts", "share", "rank"):
            if getattr(args, name) < 1:
                parser.error(f"--{name.replace('_', '-')} must be at least 1")
        if args.blas_threads is not None and args.blas_threads < 1:
            parser.error("--blas-threads must be at least 1")
        if args.warmup < 0:
            parser.error("--warmup must be at least 0")
        if args.image_size % 16:
            parser.error("--image-size must be a multiple of the patch size 16")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        if args.command == "check-fixtures":
            return check_fixtures(args.dir, torch.float64 if args.dtype == "float64" else torch.float32)
        if args.command == "make-expected":
            return make_expected(args.dir, args.method, args.batch, args.seed)
        result = bench(args)
        print(json.dumps(result) if args.json else format_text(result))
        return 0
    except InputError as exc:
        print(f"vit_adapters.py: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
