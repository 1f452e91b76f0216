"""PyTorch reference for bench/eval-forward.ts. Prints one JSON line.

  pytorch_models.py NAME THREADS STEPS WARMUP BATCH
      torchvision.models.NAME (resnet18, resnet50, mobilenet_v2; 1000 classes) at 224x224,
      channels-last: median train-step and eval-forward (no_grad) ms, as pytorch_timing.time_model.
"""
import json, sys
import torch
import torchvision
from pytorch_timing import time_model

name, threads, steps, warmup, batch = sys.argv[1], *map(int, sys.argv[2:6])
if name not in ("resnet18", "resnet50", "mobilenet_v2"):
    raise SystemExit(f"unknown model {name}")
r = time_model(getattr(torchvision.models, name), (3, 224, 224), 1000, threads, steps, warmup, batch)
print(json.dumps({**r, "torch": torch.__version__, "torchvision": torchvision.__version__}))
