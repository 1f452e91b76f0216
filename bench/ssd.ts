// SSD300-VGG16 (21 classes, random weights, batch 4, 300×300): one training step (preprocess,
// forward, MultiBox loss with matching and hard-negative mining, backward, SGD step) and one
// inference (forward, decoding, per-class top-k, NMS) against torchvision 0.14 in the same run,
// interleaved rounds (torchvision, then catkit, per round). Table, then a JSON last line.
// Usage: node dist/bench/ssd.js [--threads N] [--steps N] [--warmup N] [--batch N] [--rounds N]
import { manualSeed, rand, setNumThreads, tensor, tidy } from '../src/tensor/index.js';
import { SGD } from '../src/optim/index.js';
import { buildDetector } from '../src/models/detection/registry.js';
import { loadNote, median, parseBenchArgs, runPythonJson, table } from './common.js';

const a = parseBenchArgs('ssd', process.argv.slice(2), { steps: 3, warmup: 1, batch: 4, rounds: 2 });
setNumThreads(a.threads);
manualSeed(0);
const model = buildDetector('ssd300_vgg16', { numClasses: 21 });
const opt = new SGD(model.parameters(), { lr: 1e-3, momentum: 0.9 });
const x = rand([a.batch, 3, 300, 300]);
const targets = Array.from({ length: a.batch }, () => ({
  boxes: tensor([20, 30, 120, 200, 150, 40, 280, 150], [2, 4]), labels: tensor(BigInt64Array.from([3n, 7n]), [2]),
}));

function catkitRound(): { train_ms: number; eval_ms: number } {
  const train: number[] = [], evalMs: number[] = [];
  model.train();
  for (let i = 0; i < a.warmup + a.steps; i++) {
    const t0 = performance.now();
    tidy(() => {
      opt.zeroGrad();
      const out = model.forward(model.preprocess(x));
      const l = model.loss(out, targets);
      const loss = l.bboxRegression.add(l.classification);
      loss.backward();
      opt.step();
      loss.item();
    });
    if (i >= a.warmup) train.push(performance.now() - t0);
  }
  for (let i = 0; i < a.warmup + a.steps; i++) {
    const t0 = performance.now();
    const dets = model.detect(x);
    dets.reduce((n, d) => n + d.count, 0);
    if (i >= a.warmup) evalMs.push(performance.now() - t0);
  }
  return { train_ms: median(train), eval_ms: median(evalMs) };
}

const ours: { train_ms: number; eval_ms: number }[] = [], ref: { train_ms: number; eval_ms: number }[] = [];
for (let r = 0; r < a.rounds; r++) {
  ref.push(runPythonJson('ssd', 'pytorch_ssd.py', [String(a.threads), String(a.steps), String(a.warmup), String(a.batch)], a.threads));
  ours.push(catkitRound());
}
const m = (xs: { train_ms: number; eval_ms: number }[], k: 'train_ms' | 'eval_ms') => median(xs.map((v) => v[k]));
const result = {
  bench: 'ssd300_vgg16', batch: a.batch, threads: a.threads, rounds: a.rounds, steps: a.steps,
  train_ms: { catkit: m(ours, 'train_ms'), torchvision: m(ref, 'train_ms') },
  eval_ms: { catkit: m(ours, 'eval_ms'), torchvision: m(ref, 'eval_ms') },
};
process.stdout.write(`ssd300_vgg16, batch ${a.batch} at 300×300, ${a.threads} thread(s), median of ${a.rounds} interleaved rounds × ${a.steps} steps; ${loadNote()}\n`);
process.stdout.write(`${table([
  ['', 'catkit ms', 'torchvision ms', 'ratio'],
  ['train step (loss + backward + SGD)', result.train_ms.catkit.toFixed(0), result.train_ms.torchvision.toFixed(0), (result.train_ms.catkit / result.train_ms.torchvision).toFixed(3)],
  ['inference + postprocess', result.eval_ms.catkit.toFixed(0), result.eval_ms.torchvision.toFixed(0), (result.eval_ms.catkit / result.eval_ms.torchvision).toFixed(3)],
])}\n`);
process.stdout.write(`${JSON.stringify({ ...result, load: loadNote() })}\n`);
