"""Shared by the PyTorch reference scripts: SGD train steps and eval forwards of one model on a fixed
random batch, channels-last, median ms per step after warm-up (the same loop as bench/time-model.ts)."""
import resource, statistics, time
import torch
import torch.nn.functional as F


def time_model(build, sample, classes, threads, steps, warmup, batch):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build().to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, *sample).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, classes, (batch,))

    train_ms, train_cpu_ms = [], []
    model.train()
    for i in range(warmup + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        # set_to_none: drop the gradients as catkit's zeroGrad() does (1.13's default zeroes them in place).
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        if i >= warmup:
            train_ms.append((time.perf_counter() - t0) * 1e3)
            train_cpu_ms.append((time.process_time() - c0) * 1e3)  # all threads; shows how loaded the machine was

    forward_ms, forward_cpu_ms = [], []
    model.eval()
    with torch.no_grad():
        for i in range(warmup + steps):
            t0, c0 = time.perf_counter(), time.process_time()
            model(x).sum().item()
            if i >= warmup:
                forward_ms.append((time.perf_counter() - t0) * 1e3)
                forward_cpu_ms.append((time.process_time() - c0) * 1e3)

    return {
        "train_ms": statistics.median(train_ms),
        "train_cpu_ms": statistics.median(train_cpu_ms),
        "forward_ms": statistics.median(forward_ms),
        "forward_cpu_ms": statistics.median(forward_cpu_ms),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in model.parameters()),
    }
