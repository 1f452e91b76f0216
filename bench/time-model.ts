// The catkit side of the engine benchmarks: SGD train steps and eval forwards of one model on a
// fixed random batch, channels-last, timed per step after warm-up.
import { F, getNumThreads, manualSeed, noGrad, randint, randn, setNumThreads, tidy } from '../src/tensor/index.js';
import { setEvalFusion, type Module } from '../src/nn/index.js';
import { SGD } from '../src/optim/index.js';
import { median, type BenchArgs } from './common.js';

/** train_cpu_ms: process CPU time per step, all threads (well below threads × train_ms means the machine was busy). */
export interface ModelTiming { train_ms: number; train_cpu_ms: number; forward_ms: number; rss_mb: number; threads: number; params: number }
/** What timeModel measures beyond the PyTorch side's common fields. */
export interface CatkitTiming extends ModelTiming {
  forward_cpu_ms: number;
  /** Eval forward with Conv2d+BatchNorm2d folding switched on (setEvalFusion). */
  forward_folded_ms: number; forward_folded_cpu_ms: number;
}

/** Builds the model (after seeding) and times it on a batch of `a.batch` inputs of shape `sample`. */
export function timeModel(build: () => Module, sample: readonly number[], classes: number, a: BenchArgs): CatkitTiming {
  setNumThreads(a.threads);
  manualSeed(0);
  const model = build().toChannelsLast();
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = tidy(() => randn([a.batch, ...sample]).toChannelsLast()); // tidy releases the contiguous original
  const y = randint(0, classes, [a.batch]);

  const train: number[] = [];
  const trainCpu: number[] = [];
  model.train();
  for (let i = 0; i < a.warmup + a.steps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    // zeroGrad() drops the gradients (set-to-none, catkit's default); the PyTorch side passes
    // set_to_none=True so both do the same work.
    tidy(() => {
      opt.zeroGrad();
      const loss = F.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      loss.item();
    });
    if (i >= a.warmup) {
      train.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      trainCpu.push((c.user + c.system) / 1000);
    }
  }

  model.eval();
  const timeForward = (): { ms: number; cpu: number } => {
    const ms: number[] = [], cpu: number[] = [];
    noGrad(() => {
      for (let i = 0; i < a.warmup + a.steps; i++) {
        const t0 = performance.now(), c0 = process.cpuUsage();
        tidy(() => { model.forward(x).sum().item(); });
        if (i >= a.warmup) { ms.push(performance.now() - t0); const c = process.cpuUsage(c0); cpu.push((c.user + c.system) / 1000); }
      }
    });
    return { ms: median(ms), cpu: median(cpu) };
  };
  const forward = timeForward();
  const prev = setEvalFusion({ foldBatchNorm: true });
  const folded = timeForward();
  setEvalFusion(prev);

  const result = {
    train_ms: median(train), train_cpu_ms: median(trainCpu), forward_ms: forward.ms, forward_cpu_ms: forward.cpu,
    forward_folded_ms: folded.ms, forward_folded_cpu_ms: folded.cpu,
    rss_mb: process.resourceUsage().maxRSS / 1024, threads: getNumThreads(), params: model.numParameters(),
  };
  opt.dispose();
  model.dispose();
  x.dispose();
  y.dispose();
  return result;
}
