"""PyTorch reference for bench/cat-step.ts: ResNet-20 (CIFAR layout) trained full precision, with
QAT (lambda = 0) and with CAT (lambda > 0), written after the reference code's operations as
../shared/research/paper.md describes them (sections 2.2-2.5):
- every ReLU is a ReLUProj: relu, clip to [0, |c|] as relu(x) - relu(x - |c|), dynamic per-tensor
  min/max quantization with a straight-through round, and in training the soft entropy of a sample
  (every 16th spatial position of the first image, all channels; softmax(-10 d^2) over 2^b bins);
- every conv quantizes its weights per tensor to 8 bits in place on .data around the convolution
  (Conv2d2), so the gradient is computed with quantized weights and applied to the float ones;
- loss = CE + lambda * sum(n_l H_l) / sum(n_l).
Prints one JSON line: {"fp": {...}, "qat": {...}, "cat": {...}} with median ms per step."""
import json, statistics, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

threads, steps, warmup, batch, act_bits, lam = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
                                                int(sys.argv[5]), float(sys.argv[6]))


class RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.round(x)

    @staticmethod
    def backward(ctx, g):
        return g


def quantize_minmax(y, bits):
    lo, hi = y.min(), y.max()
    if hi == lo:
        return y
    s = (2 ** bits - 1) / (hi - lo)
    return RoundSTE.apply((y - lo) * s) / s + lo


def soft_entropy(y, bits, temp=-10.0):
    n, c = y.shape[0], y.shape[1]
    cols = y.transpose(0, 1).reshape(c, -1)            # C x (N*H*W), columns ordered (n, h, w)
    hw = y.shape[2] * y.shape[3]
    sample = cols[:, 0:hw:16].reshape(-1)              # every 16th position of image 0, all channels
    lo, hi = sample.min(), sample.max()
    if hi == lo:
        return 0
    u = (sample - lo) * (2 ** bits - 1) / (hi - lo)
    bins = torch.arange(2 ** bits, dtype=y.dtype)
    p = torch.softmax(temp * (u[:, None] - bins[None, :]) ** 2, dim=1).mean(0)
    p = p[p > 0]
    return -(p * torch.log2(p)).sum()


class ReLUProj(nn.Module):
    def __init__(self):
        super().__init__()
        self.clip = nn.Parameter(torch.tensor(1.0))
        self.quant = False
        self.entropy = None

    def forward(self, x):
        y = F.relu(x)
        if not self.quant:
            return y
        c = self.clip.abs()
        y = y - F.relu(y - c)
        self.entropy = (soft_entropy(y, act_bits), y.numel()) if self.training and lam > 0 else None
        return quantize_minmax(y, act_bits)


class Conv2d2(nn.Conv2d):
    wbits = 32

    def forward(self, x):
        if self.wbits >= 32:
            return super().forward(x)
        orig = self.weight.data.clone()
        lo, hi = orig.min(), orig.max()
        s = (2 ** self.wbits - 1) / (hi - lo)
        self.weight.data = torch.round((orig - lo) * s) / s + lo
        out = super().forward(x)
        self.weight.data = orig
        return out


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = Conv2d2(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = ReLUProj()
        self.conv2 = Conv2d2(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = ReLUProj()
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(Conv2d2(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + (x if self.downsample is None else self.downsample(x)))


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = Conv2d2(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = ReLUProj()
        layers, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for i in range(3):
                blocks.append(Block(cin, cout, stride if i == 0 else 1))
                cin = cout
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def time_mode(mode):
    torch.manual_seed(0)
    model = ResNet20()
    sites = [m for m in model.modules() if isinstance(m, ReLUProj)]
    for m in model.modules():
        if isinstance(m, ReLUProj):
            m.quant = mode != 'fp'
        if isinstance(m, Conv2d2):
            m.wbits = 32 if mode == 'fp' else 8
    model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 32, 32).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,))
    use_lam = lam if mode == 'cat' else 0.0
    ms, cpu = [], []
    model.train()
    for i in range(warmup + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        if use_lam > 0:
            terms = [m.entropy for m in sites if m.entropy is not None]
            total = sum(h * n for h, n in terms) / sum(n for _, n in terms)
            loss = loss + use_lam * total
        loss.backward()
        opt.step()
        loss.item()
        if i >= warmup:
            ms.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
    return {"step_ms": statistics.median(ms), "cpu_ms": statistics.median(cpu)}


torch.set_num_threads(threads)
print(json.dumps({mode: time_mode(mode) for mode in ('fp', 'qat', 'cat')} | {"threads": torch.get_num_threads()}))
