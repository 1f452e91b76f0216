"""Reference data for test/models/parity.test.ts, made with torchvision (run with /usr/bin/python3).

usage: make_torchvision_reference.py OUT_DIR [SIZE]

For each of resnet18/34/50 and mobilenet_v2, with seeded random weights, writes to OUT_DIR:
  NAME.safetensors          the state dict under torchvision's names (float32, counters int64)
  NAME.logits.safetensors   tensor 'logits': eval-mode output on the shared input, computed in
                            float64 from those float32 weights (so only catkit's error is measured)
plus input.safetensors (tensor 'input', float32 [2, 3, SIZE, SIZE]) and manifest.json (per model:
the state-dict keys in order with shapes and dtypes, and the parameter count; and the key shapes
of mobilenet_v2 at width multipliers 0.35, 0.5, 0.75 and 1.4).

BN is made non-trivial so eval mode is a real test: random gamma/beta, running statistics gathered
in train mode on random batches and then perturbed, and random num_batches_tracked counters.
The python `safetensors` package is not installed; the format is written by hand.
"""
import json
import struct
import sys

import torch
import torchvision

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def save_safetensors(path, tensors):
    """8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets}}, raw bytes."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()  # numpy writes host order: little-endian here
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def randomize_bn(model, size, gen):
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5, generator=gen)
            bn.bias.normal_(0.0, 0.2, generator=gen)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batches
        model.train()
        for _ in range(2):
            model(torch.randn(4, 3, size, size, generator=gen))
        for bn in bns:
            bn.momentum = 0.1
            std = bn.running_var.sqrt()
            bn.running_mean.add_(0.2 * std * torch.randn(std.shape, generator=gen))
            bn.running_var.mul_(torch.empty(std.shape).uniform_(0.7, 1.4, generator=gen))
            bn.num_batches_tracked.fill_(int(torch.randint(1, 10**6, (1,), generator=gen)))
    model.eval()


def main():
    out = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    torch.set_num_threads(1)  # the test machine is shared
    gen = torch.Generator().manual_seed(1234)
    x = torch.randn(2, 3, size, size, generator=gen)
    save_safetensors(f"{out}/input.safetensors", {"input": x})
    manifest = {"size": size, "models": {}}
    for i, name in enumerate(["resnet18", "resnet34", "resnet50", "mobilenet_v2"]):
        torch.manual_seed(100 + i)  # torchvision's own init draws from the global generator
        model = getattr(torchvision.models, name)(weights=None)
        randomize_bn(model, size, gen)
        sd = model.state_dict()
        save_safetensors(f"{out}/{name}.safetensors", sd)
        manifest["models"][name] = {
            "keys": [[k, list(v.shape), DTYPES[v.dtype]] for k, v in sd.items()],
            "numParams": sum(p.numel() for p in model.parameters()),
        }
        with torch.no_grad():
            logits = model.double()(x.double())
        save_safetensors(f"{out}/{name}.logits.safetensors", {"logits": logits})
    # Width multipliers: shapes only (checks the _make_divisible channel rounding).
    manifest["mobilenetWidths"] = {}
    for w in [0.35, 0.5, 0.75, 1.4]:
        sd = torchvision.models.mobilenet_v2(weights=None, width_mult=w).state_dict()
        manifest["mobilenetWidths"][str(w)] = [[k, list(v.shape)] for k, v in sd.items()]
    with open(f"{out}/manifest.json", "w") as f:
        json.dump(manifest, f)


if __name__ == "__main__":
    main()
