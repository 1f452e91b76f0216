"""torchvision reference for bench/ssd.ts: ssd300_vgg16 (21 classes, random weights) train steps
(forward with targets → MultiBox losses, backward, SGD step) and eval forwards with postprocessing,
on a fixed random batch; median ms after warm-up. usage: pytorch_ssd.py THREADS STEPS WARMUP BATCH"""
import json, statistics, sys, time
import torch
from torchvision.models.detection import ssd300_vgg16


def main():
    threads, steps, warmup, batch = (int(v) for v in sys.argv[1:5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = ssd300_vgg16(weights=None, weights_backbone=None, num_classes=21)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    gen = torch.Generator().manual_seed(1)
    images = [torch.rand(3, 300, 300, generator=gen) for _ in range(batch)]
    targets = [{"boxes": torch.tensor([[20.0, 30.0, 120.0, 200.0], [150.0, 40.0, 280.0, 150.0]]), "labels": torch.tensor([3, 7])} for _ in range(batch)]
    train_ms, eval_ms = [], []
    model.train()
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        losses = model(images, targets)
        loss = losses["bbox_regression"] + losses["classification"]
        loss.backward()
        opt.step()
        loss.item()
        if i >= warmup:
            train_ms.append((time.perf_counter() - t0) * 1e3)
    model.eval()
    with torch.no_grad():
        for i in range(warmup + steps):
            t0 = time.perf_counter()
            dets = model(images)
            sum(d["boxes"].numel() for d in dets)
            if i >= warmup:
                eval_ms.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"train_ms": statistics.median(train_ms), "eval_ms": statistics.median(eval_ms)}))


if __name__ == "__main__":
    main()
