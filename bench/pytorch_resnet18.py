"""PyTorch reference for bench/resnet18.ts. Prints one JSON line.

  pytorch_resnet18.py model THREADS STEPS WARMUP BATCH
      torchvision.models.resnet18 (ImageNet layout, 1000 classes) at 224x224, channels-last, SGD
      momentum 0.9: median train-step and eval-forward ms.
  pytorch_resnet18.py decode ROOT BATCH STEPS WARMUP WORKERS...
      torchvision ImageFolder + DataLoader (PIL decode) over ROOT/train and ROOT/val: images/s of the
      train transform (RandomResizedCrop 224 + flip) and the eval transform (Resize 256 +
      CenterCrop 224), each with ToTensor + ImageNet Normalize, for each worker count.
"""
import json, os, statistics, sys, time
import torch
import torchvision
from pytorch_timing import time_model


def model_bench(threads, steps, warmup, batch):
    r = time_model(torchvision.models.resnet18, (3, 224, 224), 1000, threads, steps, warmup, batch)
    r["eval_ms"] = r.pop("forward_ms")
    return {**r, "torch": torch.__version__, "torchvision": torchvision.__version__}


def decode_bench(root, batch, steps, warmup, workers):
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms as T

    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    transforms = {
        "train": T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), norm]),
        "eval": T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(), norm]),
    }
    torch.manual_seed(0)
    out = {}
    for name, split in (("train", "train"), ("eval", "val")):
        ds = datasets.ImageFolder(os.path.join(root, split), transforms[name])
        for w in workers:
            # Persistent workers: started by the first (warm-up) epoch, as catkit's decoding pool is.
            dl = DataLoader(ds, batch_size=batch, shuffle=name == "train", num_workers=w, persistent_workers=w > 0)
            warm = min(warmup, 1)
            rates = []
            for e in range(warm + steps):
                t0, n = time.perf_counter(), 0
                for x, _ in dl:
                    n += x.shape[0]
                if e >= warm:
                    rates.append(n / (time.perf_counter() - t0))
            out[f"{name}_w{w}"] = statistics.median(rates)
            del dl
    return {"img_s": out, "images": {"train": len(datasets.ImageFolder(os.path.join(root, "train"))),
                                     "eval": len(datasets.ImageFolder(os.path.join(root, "val")))}}


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "model":
        result = model_bench(*(int(a) for a in args[:4]))
    elif mode == "decode":
        result = decode_bench(args[0], int(args[1]), int(args[2]), int(args[3]), [int(w) for w in args[4:]])
    else:
        raise SystemExit(f"pytorch_resnet18.py: unknown mode {mode!r} (model | decode)")
    print(json.dumps(result))
